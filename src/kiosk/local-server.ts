// The kiosk's local HTTP interface, bound to 127.0.0.1 only:
//   GET  /health           status JSON (faults, link, call)
//   GET  /sim              sim controls page (sim driver only)
//   GET  /sim/state        input and output levels
//   POST /sim/input        {"input":"emergency","active":true}
//   POST /sim/press        {"input":"emergency","ms":100}  press and release
// Capabilities add their own routes (the screen, its WebSocket) via route().
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimDriver } from '../io/sim-driver.js';
import { SIM_PAGE } from './sim-page.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: unknown) => void | Promise<void>;

const MAX_BODY = 64 * 1024;

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

export class LocalServer {
  readonly server: http.Server;
  private readonly routes = new Map<string, Handler>();

  constructor(private readonly host: string) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  route(method: 'GET' | 'POST', path: string, handler: Handler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const handler = this.routes.get(`${req.method} ${url.pathname}`);
    if (!handler) return sendJson(res, 404, { error: 'not found' });
    let body: unknown;
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > MAX_BODY) return sendJson(res, 413, { error: 'body too large' });
        chunks.push(c);
      }
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return sendJson(res, 400, { error: 'body must be JSON' });
      }
    }
    try {
      await handler(req, res, body);
    } catch (err) {
      sendJson(res, 400, { error: (err as Error).message });
    }
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

export function addSimRoutes(server: LocalServer, sim: SimDriver): void {
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
    sendJson(res, 200, sim.snapshot());
  });
  server.route('POST', '/sim/press', (_req, res, body) => {
    const { input, ms = 100 } = (body ?? {}) as { input?: unknown; ms?: unknown };
    if (typeof input !== 'string' || !sim.hasInput(input)) throw new Error('"input" must name an input in the pin map');
    if (typeof ms !== 'number' || ms < 0 || ms > 120_000) throw new Error('"ms" must be 0..120000');
    sim.setInput(input, true);
    setTimeout(() => sim.setInput(input, false), ms);
    sendJson(res, 200, { pressed: input, ms });
  });
}
