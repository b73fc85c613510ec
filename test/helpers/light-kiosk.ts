// A light kiosk for hub tests and benchmarks: a real WebSocket speaking the
// real protocol (hello, heartbeats, acks of configs and commands), no kiosk process.
import WebSocket from 'ws';

export interface LightKiosk {
  id: string;
  ws: WebSocket;
  welcomed: Promise<void>;
  closed: Promise<{ code: number; at: number }>;
  /** frames received, parsed */
  received: { type: string; [k: string]: unknown }[];
  silent: boolean;
  /** answer config pushes (ack) and commands (ok) */
  autoAnswer: boolean;
  send(m: unknown): void;
  next(type: string, timeoutMs?: number): Promise<{ type: string; [k: string]: unknown }>;
}

export function lightKiosk(url: string, id: string, token: string, opts: { configVersion?: number; heartbeatMs?: number; wsOptions?: WebSocket.ClientOptions } = {}): LightKiosk {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, ...opts.wsOptions });
  let beat: NodeJS.Timeout | undefined;
  const waiters: { type: string; resolve: (m: { type: string }) => void }[] = [];
  const k: LightKiosk = {
    id,
    ws,
    received: [],
    silent: false,
    autoAnswer: true,
    welcomed: Promise.resolve(),
    closed: new Promise((resolve) => ws.on('close', (code) => resolve({ code, at: Date.now() }))),
    // The text as a Buffer (binary: false, still a text frame): ws masks it into the frame's own buffer and writes
    // it in one call, where a string is masked in place and written as header and payload (two corked writes).
    send: (m) => ws.readyState === WebSocket.OPEN && ws.send(Buffer.from(JSON.stringify(m)), { binary: false }),
    next(type, timeoutMs = 10_000) {
      const have = k.received.find((m) => m.type === type);
      if (have) {
        k.received.splice(k.received.indexOf(have), 1);
        return Promise.resolve(have);
      }
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${id}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ type, resolve: (m) => (clearTimeout(t), resolve(m as never)) });
      });
    },
  };
  k.welcomed = new Promise((resolve, reject) => {
    ws.on('open', () => k.send({ type: 'hello', protocol: 1, kiosk: id, firmware: 'light', configVersion: opts.configVersion ?? 0, capabilities: [] }));
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`${id}: HTTP ${res.statusCode}`)));
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; version?: number; id?: string };
      if (m.type === 'welcome') {
        resolve();
        beat = setInterval(() => !k.silent && k.send({ type: 'heartbeat', at: new Date().toISOString(), faults: [], outbox: 0 }), opts.heartbeatMs ?? 5000);
      } else if (m.type === 'config' && k.autoAnswer) k.send({ type: 'config-ack', version: m.version });
      else if (m.type === 'command' && k.autoAnswer) k.send({ type: 'command-result', id: m.id, ok: true });
      const w = waiters.find((x) => x.type === m.type);
      if (w) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      } else k.received.push(m);
    });
    ws.on('close', () => clearInterval(beat));
  });
  k.welcomed.catch(() => undefined);
  return k;
}
