// Every error is a JSON reply with a status code, never a dead process or an
// HTML stack trace: validation (400), body too large (413), unsupported media
// type (415), not found (404), anything else (500, logged).
import type { FastifyInstance, FastifyError } from 'fastify';
import fp from 'fastify-plugin';

export default fp(async function errors(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err: err.message, stack: err.stack, url: req.url }, 'request failed');
    else req.log.debug({ err: err.message, url: req.url }, 'request refused');
    if (reply.sent) return;
    const message = status >= 500 ? 'internal error' : err.validation ? `invalid request: ${err.message}` : err.message;
    void reply.status(status).type('application/json').send({ error: message, statusCode: status });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).type('application/json').send({ error: `no route ${req.method} ${req.url.slice(0, 200)}`, statusCode: 404 });
  });
});
