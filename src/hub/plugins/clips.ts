// PA clips: uploaded in the console (a WAV the kiosks can play, up to 20 MB),
// stored by SHA-256; kiosks fetch /clips/<sha256> with their own token.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';

const MAX_CLIP = 20 * 1024 * 1024;

export default async function clips(app: FastifyInstance) {
  const { hub } = app;
  // Raw bytes, whatever the content type says: the WAV parser decides. Only in this plugin.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_CLIP }, (_req, body, done) => done(null, body));

  app.post<{ Body: Buffer }>(
    '/api/clips',
    {
      config: { roles: ['dispatcher', 'admin'] },
      bodyLimit: MAX_CLIP,
      schema: { tags: ['clips'], summary: 'upload a PA clip (WAV bytes as the body)', response: { 201: Type.Object({ sha256: Type.String(), seconds: Type.Number(), url: Type.String() }) } },
    },
    async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) return reply.status(400).send({ error: 'send the WAV bytes as the body', statusCode: 400 });
      try {
        const r = await hub.clips.add(req.body);
        await hub.audit(req, 'clip.upload', r.sha256, 'ok', { seconds: r.seconds });
        return reply.status(201).send({ ...r, url: `/clips/${r.sha256}` });
      } catch (err) {
        await hub.audit(req, 'clip.upload', '', `refused: ${(err as Error).message}`);
        return reply.status(400).send({ error: (err as Error).message, statusCode: 400 });
      }
    },
  );

  app.get<{ Params: { sha256: string } }>(
    '/clips/:sha256',
    {
      config: { public: true }, // the kiosk's own token, checked here
      schema: { tags: ['clips'], summary: 'a stored clip, for kiosks (Authorization: Bearer <kiosk token>)', params: Type.Object({ sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }) },
    },
    async (req, reply) => {
      if (!(await hub.link.authenticate(req.headers.authorization))) return reply.status(401).send({ error: 'kiosk token needed', statusCode: 401 });
      const data = hub.clips.get(req.params.sha256);
      if (!data) return reply.status(404).send({ error: 'no such clip', statusCode: 404 });
      return reply.type('audio/wav').send(data);
    },
  );
}
