// The hub's API described as OpenAPI 3, generated from the routes' TypeBox
// schemas, at /openapi.json. Registered before the routes it describes.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import { FIRMWARE_VERSION } from '../../version.js';

export default fp(async function openapi(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      info: { title: 'helppoint hub API', version: FIRMWARE_VERSION, description: 'Console API of the help-point control centre. Log in with POST /login; state-changing requests carry the session CSRF token in X-CSRF-Token (GET /api/session).' },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'hp_session' }, csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' } },
      },
    },
  });
});

export async function openapiRoute(app: FastifyInstance) {
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
