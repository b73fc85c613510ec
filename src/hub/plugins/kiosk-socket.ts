// The kiosks' WebSocket endpoint, /kiosk: the bearer token is checked before
// the upgrade (401 without it); the protocol itself lives in kiosk-link.ts.
import type { FastifyInstance } from 'fastify';

export default async function kioskSocket(app: FastifyInstance) {
  app.get(
    '/kiosk',
    {
      websocket: true,
      config: { public: true }, // a kiosk token, not a console session
      schema: { tags: ['kiosk'], summary: 'kiosk link (WebSocket, Authorization: Bearer <kiosk token>); see docs/protocol.md', hide: true },
      preValidation: async (req, reply) => {
        const kiosk = await app.hub.link.authenticate(req.headers.authorization);
        if (!kiosk) {
          req.log.warn({ remote: req.ip, path: req.url.slice(0, 100) }, 'kiosk connection refused: unknown or revoked credentials');
          return reply.status(401).send({ error: 'unknown or revoked kiosk credentials', statusCode: 401 });
        }
        (req as unknown as { kioskId: string }).kioskId = kiosk;
      },
    },
    (socket, req) => {
      app.hub.link.connected((req as unknown as { kioskId: string }).kioskId, socket, req.ip);
    },
  );
}
