// The console's pages: the log-in page or the fleet page at /, static assets
// under /static/ (from src/hub/web/), and /healthz for load balancers.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { Type } from '@sinclair/typebox';
import { fleetPage, loginPage } from '../console-page.js';
import { issueLoginCsrf } from './auth.js';

// The web files are not compiled: from dist/ they are read in the source tree.
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const WEB_DIR = existsSync(path.resolve(HERE, '../web/console.css')) ? path.resolve(HERE, '../web') : path.resolve(HERE, '../../../../src/hub/web');

export default async function consolePages(app: FastifyInstance) {
  const site = app.hub.config.site.name.en;
  // Static files are for anyone (the log-in page needs its stylesheet); they hold no data.
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/static/')) r.config = Object.assign(r.config ?? {}, { public: true });
  });
  await app.register(fastifyStatic, { root: WEB_DIR, prefix: '/static/', index: false, list: false, dotfiles: 'deny', wildcard: true });


  app.get('/', { config: { public: true }, schema: { tags: ['console'], summary: 'the console: log-in page, or the fleet page once logged in', hide: true } }, async (req, reply) => {
    void reply.type('text/html; charset=utf-8').header('x-frame-options', 'DENY').header('cache-control', 'no-store');
    return req.session ? fleetPage(site, req.session) : loginPage(site, issueLoginCsrf(app, reply));
  });

  app.get('/healthz', { config: { public: true }, schema: { tags: ['console'], summary: 'liveness for load balancers', response: { 200: Type.Literal('ok') } } }, async (_req, reply) => {
    // Answers only when the database does: an instance that lost it should leave the pool.
    await app.hub.storage.db.query('select 1');
    return reply.type('text/plain').send('ok');
  });
}
