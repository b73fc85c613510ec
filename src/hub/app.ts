// The hub: console over HTTP(S) for staff (log-in with roles) and a WebSocket
// endpoint (/kiosk) for kiosks, authenticated by per-kiosk bearer tokens.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HubConfig } from '../config/schema/hub.js';
import { createLogger, type Logger } from '../core/log.js';
import { FleetRegistry } from './registry.js';
import { HubEventStore } from './event-store.js';
import { ClipStore } from './clip-store.js';
import { Sessions } from './sessions.js';
import { sha256Hex, verifyPassword } from './passwords.js';
import { loginPage, fleetPage } from './console-page.js';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION, parseFromKiosk, type HubToKiosk } from '../protocol/messages.js';
import type { DestinationStream } from 'pino';

export interface HubOptions {
  config: HubConfig;
  configDir: string;
  port?: number;
  logDestination?: DestinationStream;
}

export class Hub {
  readonly log: Logger;
  readonly registry: FleetRegistry;
  readonly events: HubEventStore;
  readonly clips: ClipStore;
  readonly sessions = new Sessions();
  readonly server: http.Server;
  readonly wss: WebSocketServer;
  port = 0;
  private sweeper?: NodeJS.Timeout;
  private readonly sockets = new Map<string, WebSocket>();
  /** token SHA-256 -> kiosk id */
  private readonly tokens = new Map<string, string>();
  /** results of commands, by command id and kiosk */
  private readonly commands = new Map<string, { command: string; at: number; results: Record<string, { ok: boolean; error?: string } | null> }>();
  /** the newest config per kiosk, sent on change and again at every hello until acknowledged */
  private readonly configs = new Map<string, { version: number; document: Record<string, unknown>; acked?: boolean; errors?: unknown[] }>();

  constructor(private readonly opts: HubOptions) {
    const { config } = opts;
    this.log = createLogger({ name: 'hub', id: config.id, level: config.log.level, destination: opts.logDestination });
    this.registry = new FleetRegistry(config);
    for (const k of config.kiosks) if (k.tokenSha256 && !k.revoked) this.tokens.set(k.tokenSha256, k.id); // revoked: refused
    this.events = new HubEventStore(path.resolve(config.dataDir));
    this.clips = new ClipStore(path.resolve(config.dataDir, 'clips'));
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.http(req, res);
    this.server = config.tls
      ? https.createServer(
          { cert: readFileSync(path.resolve(opts.configDir, config.tls.cert)), key: readFileSync(path.resolve(opts.configDir, config.tls.key)) },
          handler,
        )
      : http.createServer(handler);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  /** Which kiosk a bearer token belongs to, or undefined (unknown or revoked). One hash, one lookup. */
  authenticate(authorization: string | undefined): string | undefined {
    const m = /^Bearer (\S{16,512})$/.exec(authorization ?? '');
    if (!m) return undefined;
    return this.tokens.get(sha256Hex(m[1]!));
  }

  private upgrade(req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://hub');
    const kioskId = url.pathname === '/kiosk' ? this.authenticate(req.headers.authorization) : undefined;
    if (!kioskId) {
      this.log.warn({ remote: req.socket.remoteAddress, path: url.pathname }, 'kiosk connection refused: unknown or revoked credentials');
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.kioskConnected(kioskId, ws));
  }

  private kioskConnected(kioskId: string, ws: WebSocket): void {
    const prev = this.sockets.get(kioskId);
    if (prev) prev.close(4001, 'replaced by a newer connection');
    this.sockets.set(kioskId, ws);
    const send = (m: HubToKiosk) => ws.send(JSON.stringify(m));
    ws.on('message', (data, isBinary) => {
      const p = isBinary ? ({ ok: false, error: 'binary frames are not accepted' } as const) : parseFromKiosk(data as Buffer);
      if (!p.ok) {
        this.log.warn({ kiosk: kioskId, error: p.error }, 'invalid message from kiosk');
        send({ type: 'error', code: 'invalid', message: p.error });
        // A frame that is not even JSON means a broken or hostile peer: drop the connection.
        if (isBinary || p.error === 'frame is not JSON' || p.error === 'frame too large') ws.close(4002, 'garbage frame');
        return;
      }
      const msg = p.msg;
      if (msg.type === 'hello') {
        if (msg.kiosk !== kioskId) {
          send({ type: 'error', code: 'identity', message: 'a kiosk can speak only for itself' });
          ws.close(4003, 'identity mismatch');
          return;
        }
        this.registry.seen(kioskId, { firmware: msg.firmware, configVersion: msg.configVersion });
        send({ type: 'welcome', protocol: PROTOCOL_VERSION, hub: this.opts.config.id, time: Date.now() });
        this.log.info({ kiosk: kioskId, firmware: msg.firmware }, 'kiosk online');
        const pending = this.configs.get(kioskId);
        if (pending && !pending.acked && pending.version > msg.configVersion) send({ type: 'config', version: pending.version, document: pending.document });
      } else if (msg.type === 'heartbeat') {
        this.registry.seen(kioskId, { faults: msg.faults, outbox: msg.outbox });
      } else if (msg.type === 'command-result') {
        const c = this.commands.get(msg.id);
        if (c && kioskId in c.results) c.results[kioskId] = { ok: msg.ok, ...(msg.error ? { error: msg.error } : {}) };
        if (!msg.ok) this.log.warn({ kiosk: kioskId, command: msg.id, error: msg.error }, 'kiosk refused a command');
      } else if (msg.type === 'config-ack' || msg.type === 'config-nack') {
        const c = this.configs.get(kioskId);
        if (c && c.version === msg.version) {
          c.acked = msg.type === 'config-ack';
          c.errors = msg.type === 'config-nack' ? msg.errors : undefined;
        }
        if (msg.type === 'config-ack') this.registry.seen(kioskId, { configVersion: msg.version });
        else this.log.warn({ kiosk: kioskId, version: msg.version, errors: msg.errors }, 'kiosk refused a config');
      } else if (msg.type === 'events') {
        // A kiosk speaks only for itself: every id must carry its own kiosk id.
        const foreign = msg.batch.find((e) => !e.id.startsWith(`${kioskId}:`));
        if (foreign) {
          this.log.warn({ kiosk: kioskId, id: foreign.id }, 'kiosk sent events for another kiosk');
          send({ type: 'error', code: 'identity', message: 'events must carry the sending kiosk id' });
          ws.close(4003, 'identity mismatch');
          return;
        }
        this.registry.seen(kioskId);
        this.events.add(kioskId, msg.batch).then(
          (added) => {
            if (added) this.log.info({ kiosk: kioskId, added, duplicates: msg.batch.length - added }, 'events stored');
            send({ type: 'events-ack', ids: msg.batch.map((e) => e.id) });
          },
          (err: Error) => this.log.error({ kiosk: kioskId, err: err.message }, 'events not stored; no ack, the kiosk will resend'),
        );
      }
    });
    ws.on('error', (err) => this.log.warn({ kiosk: kioskId, err: err.message }, 'kiosk socket error'));
    ws.on('close', () => {
      if (this.sockets.get(kioskId) === ws) {
        this.sockets.delete(kioskId);
        this.registry.offline(kioskId);
        this.log.info({ kiosk: kioskId }, 'kiosk offline (disconnected)');
      }
    });
  }

  private async http(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://hub');
    const siteName = this.opts.config.site.name.en;
    const html = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'x-frame-options': 'DENY', 'cache-control': 'no-store' });
      res.end(body);
    };
    const session = this.sessions.get(req);
    if (req.method === 'GET' && url.pathname === '/') return html(200, session ? fleetPage(siteName, session) : loginPage(siteName));
    if (req.method === 'GET' && url.pathname === '/healthz') return html(200, 'ok');
    // Stored PA clips for kiosks, by content hash, with the kiosk's own token.
    const clip = /^\/clips\/([0-9a-f]{64})$/.exec(url.pathname);
    if (req.method === 'GET' && clip) {
      if (!this.authenticate(req.headers.authorization)) {
        res.writeHead(401);
        return void res.end();
      }
      const data = this.clips.get(clip[1]!);
      if (!data) {
        res.writeHead(404);
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': data.length });
      return void res.end(data);
    }
    if (req.method === 'POST' && url.pathname === '/login') {
      const form = new URLSearchParams(await readBody(req, 8192));
      const user = this.opts.config.users.find((u) => u.name === form.get('user'));
      if (!user || !verifyPassword(form.get('password') ?? '', user.passwordHash)) {
        this.log.warn({ user: form.get('user') }, 'console log-in failed');
        return html(401, loginPage(siteName, 'Wrong user or password.'));
      }
      const id = this.sessions.create(user.name, user.role);
      this.log.info({ user: user.name, role: user.role }, 'console log-in');
      res.writeHead(303, { location: '/', 'set-cookie': `hp_session=${id}; HttpOnly; SameSite=Strict; Path=/` });
      return void res.end();
    }
    if (req.method === 'GET' && url.pathname === '/logout') {
      this.sessions.destroy(req);
      res.writeHead(303, { location: '/', 'set-cookie': 'hp_session=; Max-Age=0; Path=/' });
      return void res.end();
    }
    if (url.pathname.startsWith('/api/')) {
      if (!session) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return void res.end('{"error":"log in first"}');
      }
      if (req.method === 'POST' && url.pathname === '/api/commands') return this.sendCommand(session.role, req, res);
      if (req.method === 'POST' && url.pathname === '/api/clips') {
        if (session.role === 'facilities') {
          res.writeHead(403, { 'content-type': 'application/json' });
          return void res.end('{"error":"dispatcher or admin role needed"}');
        }
        const result = await this.clips.add(await readRaw(req, 20 * 1024 * 1024)).catch((err: Error) => ({ error: err.message }));
        res.writeHead('error' in result ? 400 : 201, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify('error' in result ? result : { ...result, url: `/clips/${result.sha256}` }));
      }
      const cmdStatus = /^\/api\/commands\/([A-Za-z0-9_.:-]+)$/.exec(url.pathname);
      if (cmdStatus && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(this.commands.get(cmdStatus[1]!) ?? null));
      }
      const cfg = /^\/api\/kiosks\/([a-z0-9_-]+)\/config$/.exec(url.pathname);
      if (cfg && req.method === 'POST') return this.pushConfig(cfg[1]!, session.role, req, res);
      if (req.method === 'POST' && url.pathname === '/api/config') return this.pushConfig(undefined, session.role, req, res);
      if (req.method === 'GET' && url.pathname === '/api/config/status') {
        const zone = url.searchParams.get('zone');
        const ids = this.opts.config.kiosks.filter((k) => !zone || k.zone === zone).map((k) => k.id);
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(this.configStatus(ids)));
      }
      if (cfg && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(this.configs.get(cfg[1]!) ?? null));
      }
      if (req.method === 'GET' && url.pathname === '/api/events') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(this.events.list(url.searchParams.get('kiosk') ?? undefined)));
      }
      if (req.method === 'GET' && url.pathname === '/api/fleet') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(this.registry.list()));
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  /**
   * Dispatchers and admins send a command to kiosks (by id) or a whole zone:
   * {"kiosks":["a"],"zone":"z","command":"pa.play","args":{...}}. Online
   * kiosks get it at once; each answers with a result (GET /api/commands/<id>).
   */
  private async sendCommand(role: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (role !== 'dispatcher' && role !== 'admin') return json(403, { error: 'dispatcher or admin role needed' });
    let body: { kiosks?: unknown; zone?: unknown; command?: unknown; args?: unknown };
    try {
      body = JSON.parse(await readBody(req, 64 * 1024)) as typeof body;
    } catch {
      return json(400, { error: 'body must be JSON' });
    }
    if (typeof body.command !== 'string') return json(400, { error: '"command" is required' });
    const ids = new Set<string>(Array.isArray(body.kiosks) ? body.kiosks.filter((k): k is string => typeof k === 'string') : []);
    if (typeof body.zone === 'string') for (const k of this.opts.config.kiosks) if (k.zone === body.zone) ids.add(k.id);
    if (ids.size === 0) return json(400, { error: 'name "kiosks" or a "zone"' });
    const id = `cmd-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const frame = JSON.stringify({ type: 'command', id, command: body.command, args: body.args ?? {} });
    const entry = { command: body.command, at: Date.now(), results: {} as Record<string, { ok: boolean; error?: string } | null> };
    const offline: string[] = [];
    for (const k of ids) {
      const ws = this.sockets.get(k);
      if (!ws) {
        offline.push(k);
        continue;
      }
      entry.results[k] = null;
      ws.send(frame);
    }
    this.commands.set(id, entry);
    if (this.commands.size > 1000) this.commands.delete(this.commands.keys().next().value!);
    this.log.info({ command: body.command, id, sent: Object.keys(entry.results).length, offline }, 'command sent');
    return json(202, { id, sent: Object.keys(entry.results), offline });
  }

  /**
   * Facilities and admins change a kiosk's settings: the body is an override
   * merged over the kiosk's base config file; the result gets the next version
   * and goes to the kiosk now if it is online, else at its next hello.
   */
  private async pushConfig(kioskId: string | undefined, role: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (role !== 'facilities' && role !== 'admin') return json(403, { error: 'facilities or admin role needed' });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 256 * 1024));
    } catch {
      return json(400, { error: 'body must be a JSON object' });
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return json(400, { error: 'body must be a JSON object' });
    // One kiosk: the body is the override. Many: {"zone": "..."} or {"kiosks": [..]} with {"override": {..}}.
    let ids: string[];
    let override: object;
    if (kioskId) {
      ids = [kioskId];
      override = body;
    } else {
      const b = body as { zone?: unknown; kiosks?: unknown; override?: unknown };
      if (!b.override || typeof b.override !== 'object') return json(400, { error: '"override" object required' });
      override = b.override;
      ids = this.opts.config.kiosks.filter((k) => k.zone === b.zone || (Array.isArray(b.kiosks) && b.kiosks.includes(k.id))).map((k) => k.id);
      if (ids.length === 0) return json(400, { error: 'no kiosk matches "zone" or "kiosks"' });
    }
    const { readMerged, deepMerge } = await import('../config/load.js');
    const bases = new Map<string, ReturnType<typeof readMerged>>();
    const results: { kiosk: string; version?: number; sent?: boolean; error?: string }[] = [];
    for (const id of ids) {
      const kiosk = this.opts.config.kiosks.find((k) => k.id === id);
      if (!kiosk?.config) {
        results.push({ kiosk: id, error: 'unknown kiosk, or no base config file for it' });
        continue;
      }
      const file = path.resolve(this.opts.configDir, kiosk.config);
      if (!bases.has(file)) bases.set(file, readMerged(file));
      const base = bases.get(file)!;
      if (!base.ok) {
        results.push({ kiosk: id, error: 'base config unreadable' });
        continue;
      }
      const version = Math.max(this.configs.get(id)?.version ?? 0, this.registry.kiosks.get(id)?.configVersion ?? 0) + 1;
      const document = deepMerge(base.value, override as never) as Record<string, unknown>;
      delete document.$schema;
      this.configs.set(id, { version, document });
      const ws = this.sockets.get(id);
      ws?.send(JSON.stringify({ type: 'config', version, document }));
      results.push({ kiosk: id, version, sent: !!ws });
    }
    this.log.info({ kiosks: ids.length, sent: results.filter((r) => r.sent).length }, 'config pushed');
    if (kioskId) {
      const r = results[0]!;
      return r.error ? json(404, { error: r.error }) : json(202, r);
    }
    return json(202, { results });
  }

  /** Acknowledged config versions, for the console and the benchmark. */
  configStatus(ids: string[]): { acked: number; pending: number; refused: number } {
    let acked = 0;
    let refused = 0;
    for (const id of ids) {
      const c = this.configs.get(id);
      if (c?.acked) acked++;
      else if (c?.errors) refused++;
    }
    return { acked, refused, pending: ids.length - acked - refused };
  }

  async start(): Promise<void> {
    const { config } = this.opts;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? config.listen.port, config.listen.host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.sweeper = setInterval(() => {
      // Sweep every second with a limit one sweep shorter, so silence is noticed within offlineAfterS.
      for (const id of this.registry.sweep(config.offlineAfterS * 1000 - 1000)) this.log.warn({ kiosk: id }, 'kiosk offline (silent)');
    }, 1000);
    const scheme = config.tls ? 'https' : 'http';
    this.log.info({ console: `${scheme}://${config.listen.host}:${this.port}/` }, 'ready');
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    for (const ws of this.wss.clients) ws.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function readRaw(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('clip too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
