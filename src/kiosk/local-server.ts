// The kiosk's local HTTP interface, bound to 127.0.0.1 only:
//   GET  /health           status JSON (faults, link, call)
//   GET  /sim              sim controls page (sim driver only)
//   GET  /sim/state        input and output levels
//   POST /sim/input        {"input":"emergency","active":true}
//   POST /sim/press        {"input":"emergency","ms":100}  press and release
// Capabilities add their own routes (the screen, PA) via route() and
// upgrade().
//
// Binding to 127.0.0.1 keeps the network out, not the kiosk's own browser:
// any web page it shows could send requests here, and a DNS-rebinding name
// (evil.example resolving to 127.0.0.1) could even read the answers. So every
// request and WebSocket upgrade is checked first (docs/local-interface.md):
//   - Host must name this server (127.0.0.1, localhost or [::1], with its port);
//   - Origin, when a browser sends one, must be this server itself (the screen
//     and the sim page are served from here), and a browser's Sec-Fetch-Site
//     must not say cross-site or same-site;
//   - routes that act (sim presses, PA play/stop, the screen's socket from a
//     non-browser client) exist only with the sim driver, or for a caller with
//     the local token: `Authorization: Bearer <token>`, the token being the
//     contents of `<dataDir>/local-token` (created at start, mode 0600).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import type { SimDriver } from '../io/sim-driver.js';
import { SIM_PAGE } from './sim-page.js';
import { setupTrace } from '../core/setup-trace.js';
import type { SetupDefer } from '../core/setup-window.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: unknown) => void | Promise<void>;
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface RouteOptions {
  /** the route changes something (a press, a sound): only with the sim driver or the local token */
  acts?: boolean;
}

const MAX_BODY = 64 * 1024;
const LOCAL_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
export const TOKEN_FILE = 'local-token';

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * The local token: `<dir>/local-token`, 32 random bytes in hex, created when
 * missing, always mode 0600 (only the kiosk's user may read it).
 */
export function localToken(dir: string): string {
  const file = path.join(dir, TOKEN_FILE);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 32) throw new Error(`${file}: the local token must be at least 32 characters`);
  return token;
}

export class LocalServer {
  readonly server: http.Server;
  private readonly routes = new Map<string, { handler: Handler; acts: boolean }>();
  private readonly upgrades = new Map<string, { handler: UpgradeHandler; acts: boolean }>();
  private sim = false;
  private token?: Buffer;
  private setup?: SetupDefer;

  constructor(private readonly host: string) {
    this.server = http.createServer((req, res) => {
      setupTrace.mark('http');
      void this.handle(req, res);
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
  }

  /** The local token: the routes that act are open to its holders. */
  setToken(token: string | undefined): void {
    this.token = token ? Buffer.from(token) : undefined;
  }

  /** Replies to requests that start a call (afterWork) wait for its set-up window (src/core/setup-window.ts). */
  deferRepliesDuring(setup: SetupDefer): void {
    this.setup = setup;
  }

  /**
   * Runs `reply` once the work a request started has had its turn: a macrotask later (the press's alarm
   * and INVITE run in the microtasks of this one), then after the alarm call's set-up window if that
   * opened. Writing and closing the caller's TCP connection (loopback: the kernel's delivery to the caller
   * runs on this thread) then never sits between a press and its INVITE or first RTP packet.
   */
  afterWork(reply: () => void): void {
    setImmediate(() => (this.setup ? this.setup.afterSetup(reply) : reply()));
  }

  /** With the sim driver (a demo, a test) the routes that act are open to every local caller that passes the Host and Origin checks. */
  openForSim(): void {
    this.sim = true;
  }

  route(method: 'GET' | 'POST', path: string, handler: Handler, opts: RouteOptions = {}): void {
    this.routes.set(`${method} ${path}`, { handler, acts: opts.acts ?? method === 'POST' });
  }

  /** A WebSocket endpoint (the screen's socket). */
  upgrade(path: string, handler: UpgradeHandler, opts: RouteOptions = {}): void {
    this.upgrades.set(path, { handler, acts: opts.acts ?? true });
  }

  /** Why a request may not reach this server at all, or undefined when it may. */
  private refuse(req: http.IncomingMessage): string | undefined {
    const port = (this.server.address() as AddressInfo | null)?.port;
    const allowed = LOCAL_NAMES.flatMap((n) => (port === 80 ? [n, `${n}:80`] : [`${n}:${port}`]));
    const host = (req.headers.host ?? '').toLowerCase();
    if (!allowed.includes(host)) return `Host "${req.headers.host ?? ''}" is not this kiosk's local interface`;
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.some((a) => origin.toLowerCase() === `http://${a}`)) return `Origin "${origin}" may not use the local interface`;
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') return `a ${site} request may not use the local interface`;
    return undefined;
  }

  /** May this caller use a route that acts? */
  private mayAct(req: http.IncomingMessage, sameOriginPage: boolean): boolean {
    if (this.sim || sameOriginPage) return true;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m || !this.token) return false;
    const given = Buffer.from(m[1]!);
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const refused = this.refuse(req);
    if (refused) return sendJson(res, 403, { error: refused });
    const url = new URL(req.url ?? '/', 'http://local');
    const route = this.routes.get(`${req.method} ${url.pathname}`);
    if (!route) return sendJson(res, 404, { error: 'not found' });
    // Plain HTTP routes that act need the sim driver or the token, whatever the page (the screen uses its socket).
    if (route.acts && !this.mayAct(req, false)) return sendJson(res, 403, { error: `${url.pathname} needs the local token (Authorization: Bearer <contents of the data folder's ${TOKEN_FILE}>)` });
    let body: unknown;
    if (req.method === 'POST') {
      const chunks = await readBody(req);
      if (!chunks) {
        res.shouldKeepAlive = false; // the rest of the body is not read: the connection closes after the answer
        return sendJson(res, 413, { error: 'body too large' });
      }
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return sendJson(res, 400, { error: 'body must be JSON' });
      }
    }
    try {
      await route.handler(req, res, body);
    } catch (err) {
      sendJson(res, 400, { error: (err as Error).message });
    }
  }

  private handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const deny = (status: string, why: string) => {
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
      socket.destroy();
    };
    const refused = this.refuse(req);
    if (refused) return deny('403 Forbidden', refused);
    const up = this.upgrades.get(new URL(req.url ?? '/', 'http://local').pathname);
    if (!up) return deny('404 Not Found', 'not found');
    // A browser page of this server (the screen) may; other clients need the sim driver or the token.
    if (up.acts && !this.mayAct(req, req.headers.origin !== undefined)) return deny('403 Forbidden', `needs the local token (Authorization: Bearer ...)`);
    up.handler(req, socket, head);
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A request's body, or undefined once it grows beyond MAX_BODY (the rest is left unread). With 'data' events rather
 * than the stream's async iterator: a press's request is one small chunk, and the iterator's promises and ticks were
 * a good part of what the trigger cost before the press.
 */
function readBody(req: http.IncomingMessage): Promise<Buffer[] | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (v: Buffer[] | undefined) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      resolve(v);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.pause();
        return done(undefined);
      }
      chunks.push(c);
    };
    const onEnd = () => done(chunks);
    const onError = (err: Error) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      reject(err);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

export function addSimRoutes(server: LocalServer, sim: SimDriver): void {
  server.openForSim();
  server.route('GET', '/sim', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(SIM_PAGE);
  });
  server.route('GET', '/sim/state', (_req, res) => sendJson(res, 200, sim.snapshot()));
  server.route('POST', '/sim/input', (_req, res, body) => {
    const { input, active } = (body ?? {}) as { input?: unknown; active?: unknown };
    if (typeof input !== 'string' || !sim.hasInput(input)) throw new Error('"input" must name an input in the pin map');
    if (typeof active !== 'boolean') throw new Error('"active" must be true or false');
    sim.setInput(input, active);
    server.afterWork(() => sendJson(res, 200, sim.snapshot()));
  });
  server.route('POST', '/sim/press', (_req, res, body) => {
    const { input, ms = 100 } = (body ?? {}) as { input?: unknown; ms?: unknown };
    if (typeof input !== 'string' || !sim.hasInput(input)) throw new Error('"input" must name an input in the pin map');
    if (typeof ms !== 'number' || ms < 0 || ms > 120_000) throw new Error('"ms" must be 0..120000');
    sim.setInput(input, true);
    setTimeout(() => sim.setInput(input, false), ms);
    server.afterWork(() => sendJson(res, 200, { pressed: input, ms }));
  });
}
