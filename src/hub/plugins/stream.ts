// GET /api/stream?topics=a,b: one server-sent event stream per console page,
// carrying the topics it asks for (src/hub/push.ts). Each event is named
// `<topic>.<event>` with JSON data. The stream ends when the session logs out
// or is revoked (at once, on any instance), or expires (at the next check,
// every 15 s), and before the hub closes.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ALL_ROLES } from './auth.js';

const CHECK_MS = 15_000;

export default async function stream(app: FastifyInstance) {
  const { hub } = app;
  // Streams end before the server closes: it waits for open connections.
  app.addHook('preClose', async () => hub.push.close());
  hub.sessionEnded.push((s, why) => hub.push.endSession(s.idSha256, why));
  // Ended on another instance: its streams here end too.
  hub.bus.on((m) => {
    if (m.t === 'session' && m.from !== hub.instanceId) hub.push.endSession(m.ended, 'session ended');
  });

  app.get<{ Querystring: { topics: string } }>(
    '/api/stream',
    {
      config: { roles: ALL_ROLES },
      schema: {
        tags: ['console'],
        summary: 'server-sent events of the topics asked for (comma-separated; each needs its role), named <topic>.<event>; ask with Accept: text/event-stream',
        querystring: Type.Object({ topics: Type.String({ maxLength: 200, default: '' }) }),
      },
    },
    (req, reply) => {
      // A stream only for clients that ask for one (EventSource does); anything else gets a short answer.
      if (!/text\/event-stream/.test(String(req.headers.accept ?? ''))) return reply.status(406).send({ error: 'a server-sent event stream: ask with Accept: text/event-stream', statusCode: 406 });
      const topics = req.query.topics.split(',').map((t) => t.trim()).filter(Boolean);
      if (topics.length === 0) return reply.status(400).send({ error: 'name the topics: ?topics=desk', statusCode: 400 });
      const session = req.session!;
      const refused = hub.push.refuse(session.role, topics);
      if (refused) return reply.status(/needs the/.test(refused) ? 403 : 400).send({ error: refused, statusCode: /needs the/.test(refused) ? 403 : 400 });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 2000\n: live\n\n');
      let check: NodeJS.Timeout | undefined;
      const off = hub.push.subscribe({
        role: session.role,
        session: session.idSha256,
        topics: new Set(topics),
        send: (event, data) => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
        end: (reason) => {
          // The page learns why (logged out: it lets go of its desk) before the stream closes.
          res.write(`event: bye\ndata: ${JSON.stringify({ reason })}\n\n`);
          res.end();
        },
      });
      check = setInterval(() => {
        void hub.storage.getSession(session.idSha256).then(
          (s) => (s ? res.write(': ping\n\n') : (res.write(`event: bye\ndata: {"reason":"session ended"}\n\n`), res.end())),
          () => undefined,
        );
      }, CHECK_MS);
      const done = () => {
        off();
        clearInterval(check);
        check = undefined;
      };
      res.on('close', done);
      res.on('error', done);
    },
  );
}
