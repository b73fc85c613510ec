// Builds the hub's Fastify server from its plugins, one per area, all reading
// the one typed context decorated as `app.hub`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import { sqlRateLimitStore } from './rate-limit-store.js';
import websocket from '@fastify/websocket';
import { MAX_FRAME_BYTES } from '../protocol/messages.js';
import type { HubContext } from './context.js';
import { storable } from './storable.js';
import errors from './plugins/errors.js';
import openapi, { openapiRoute } from './plugins/openapi.js';
import auth from './plugins/auth.js';
import consolePages from './plugins/console.js';
import nativeBinaries from './plugins/native-binaries.js';
import kioskSocket from './plugins/kiosk-socket.js';
import fleet from './plugins/fleet.js';
import reboot from './plugins/reboot.js';
import commands from './plugins/commands.js';
import config from './plugins/config.js';
import events from './plugins/events.js';
import clips from './plugins/clips.js';
import audit from './plugins/audit.js';
import pa from './plugins/pa.js';
import stream from './plugins/stream.js';
import desk from './plugins/desk.js';
import facilities from './plugins/facilities.js';
import supervision from './plugins/supervision.js';

export interface RouteEntry {
  method: string;
  url: string;
  config: { roles?: string[]; rights?: string[]; public?: boolean; loginCsrf?: boolean };
  websocket: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteEntry[];
  }
}

/** Default body limit; routes that take more (config documents, clips) say so. */
export const BODY_LIMIT = 64 * 1024;

export async function buildServer(hub: HubContext): Promise<FastifyInstance> {
  const { config: cfg } = hub;
  const https = cfg.tls ? { cert: readFileSync(path.resolve(hub.configDir, cfg.tls.cert)), key: readFileSync(path.resolve(hub.configDir, cfg.tls.key)) } : null;
  const app = Fastify({
    loggerInstance: hub.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    https,
    trustProxy: cfg.console?.trustProxy ?? false,
    requestTimeout: 30_000, // a slow sender cannot hold a request open forever
    keepAliveTimeout: 10_000,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // A socket error (reset, garbage before the request line) is answered and logged, never thrown.
    clientErrorHandler: (err: Error & { code?: string }, socket) => {
      hub.log.debug({ err: err.message, code: err.code }, 'bad HTTP request');
      const [status, text] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
      const body = JSON.stringify({ error: text.toLowerCase(), statusCode: status });
      if (socket.writable && err.code !== 'ECONNRESET') socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      else socket.destroy();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }) as unknown as FastifyInstance;
  app.decorate('hub', hub);
  // Every route with its method and config, for the route x role tests and the API walk.
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    // config is read when asked: plugins' own onRoute hooks may still add to it
    for (const method of [r.method].flat())
      routeTable.push({ method, url: r.url, get config() { return (r.config ?? {}) as RouteEntry['config']; }, websocket: !!(r as { websocket?: boolean }).websocket });
  });

  await app.register(errors);
  // Hostile text (NUL, lone surrogates) never reaches the database as a 500: cleaned before validation.
  app.addHook('preValidation', async (req) => {
    if (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) req.body = storable(req.body);
    if (req.query && typeof req.query === 'object') req.query = storable(req.query);
    if (req.params && typeof req.params === 'object') req.params = storable(req.params);
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 8192 });
  // Counted in the database: instances on one PostgreSQL share the log-in limits.
  await app.register(rateLimit, { global: false, store: sqlRateLimitStore(hub.storage.db) });
  await app.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES },
    errorHandler: (err, socket) => {
      hub.log.warn({ err: err.message }, 'kiosk socket handler failed');
      socket.terminate();
    },
  });
  await app.register(openapi);
  await app.register(auth);
  await app.register(consolePages);
  await app.register(nativeBinaries);
  await app.register(kioskSocket);
  await app.register(fleet);
  await app.register(reboot);
  await app.register(commands);
  await app.register(config);
  await app.register(events);
  await app.register(clips);
  await app.register(audit);
  await app.register(pa);
  await app.register(stream);
  await app.register(desk);
  await app.register(facilities);
  await app.register(supervision);
  await app.register(openapiRoute);
  return app;
}
