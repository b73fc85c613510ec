// A minimal hub at the protocol level, for tests of the kiosk's side of the
// protocol while the real hub is being rebuilt: WebSocket /kiosk with bearer
// tokens, hello -> welcome, events stored by id and acknowledged, config
// pushes, and every frame kept and checked against the protocol schemas.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { PROTOCOL_VERSION, type HubToKiosk, type KioskToHub } from '../../src/protocol/messages.js';
import { parseFromKiosk } from '../../src/protocol/parse.js';
import { until } from './tmp.js';
import { preciseNow } from '../../src/core/precise-time.js';

export interface HubEvent {
  id: string;
  type: string;
  data: any;
}

/**
 * Runs `f` no sooner than `ms` from now. libuv's timers count whole milliseconds and may fire up to 1 ms early,
 * so a held clock sample could come back quicker than the delay a test set (a 60 ms hold measured 59.96 ms).
 */
function hold(ms: number, f: () => void): void {
  const due = performance.now() + ms;
  const check = () => {
    const left = due - performance.now();
    if (left > 0) setTimeout(check, Math.ceil(left));
    else f();
  };
  setTimeout(check, ms);
}

export class FakeHub {
  readonly frames: { kiosk: string; msg: KioskToHub; at: number }[] = [];
  /** recorded events, each once (by id), in arrival order */
  readonly events: HubEvent[] = [];
  /** frames that failed the protocol schemas */
  readonly invalid: string[] = [];
  private readonly sockets = new Map<string, WebSocket>();
  private readonly seen = new Set<string>();
  /** added to the hub's time in welcome and clock samples (a kiosk clock that is off by -clockSkewMs) */
  clockSkewMs = 0;
  /**
   * Fake network delays of a clock sample (n: the sample's number on this
   * hub, from 0; -1 for a hello's welcome, the first sample): the request is
   * held `upMs` before the hub stamps its arrival, the answer `downMs` after
   * it is stamped; skip: no answer (not for a welcome).
   */
  clockDelays?: (n: number) => { upMs: number; downMs: number; skip?: boolean };
  private clockSamples = 0;
  private commandSeq = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly wss: WebSocketServer,
    readonly port: number,
    private readonly tokens: Record<string, string>,
    private readonly protocol: number,
  ) {}

  /** tokens: bearer token -> kiosk id; protocol: what the welcome says (1 = an older hub) */
  static async start(tokens: Record<string, string>, protocol = PROTOCOL_VERSION): Promise<FakeHub> {
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hub = new FakeHub(server, wss, (server.address() as AddressInfo).port, tokens, protocol);
    server.on('upgrade', (req, socket, head) => {
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const kiosk = token ? hub.tokens[token] : undefined;
      if (req.url !== '/kiosk' || !kiosk) return void socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      wss.handleUpgrade(req, socket, head, (ws) => hub.connected(kiosk, ws));
    });
    return hub;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/kiosk`;
  }

  private connected(kiosk: string, ws: WebSocket): void {
    this.sockets.set(kiosk, ws);
    const send = (m: HubToKiosk) => ws.send(JSON.stringify(m));
    ws.on('message', (data) => {
      const p = parseFromKiosk(data as Buffer);
      if (!p.ok) {
        this.invalid.push(p.error);
        return send({ type: 'error', code: 'invalid', message: p.error });
      }
      this.frames.push({ kiosk, msg: p.msg, at: Date.now() });
      if (p.msg.type === 'hello') {
        const d = this.clockDelays?.(-1) ?? { upMs: 0, downMs: 0 };
        const welcome = () => {
          const time = Date.now() + this.clockSkewMs;
          const reply = () => send({ type: 'welcome', protocol: this.protocol, hub: 'fake-hub', time });
          if (d.downMs > 0) hold(d.downMs, reply);
          else reply();
        };
        if (d.upMs > 0) hold(d.upMs, welcome);
        else welcome();
      }
      if (p.msg.type === 'time') {
        const t0 = p.msg.t0;
        const d = this.clockDelays?.(this.clockSamples++) ?? { upMs: 0, downMs: 0 };
        if (d.skip) return;
        const answer = () => {
          const t1 = preciseNow() + this.clockSkewMs;
          const reply = () => send({ type: 'time', t0, t1, t2: t1 });
          if (d.downMs > 0) hold(d.downMs, reply);
          else reply();
        };
        if (d.upMs > 0) hold(d.upMs, answer);
        else answer();
      }
      if (p.msg.type === 'events') {
        for (const e of p.msg.batch) {
          if (this.seen.has(e.id)) continue;
          this.seen.add(e.id);
          this.events.push({ id: e.id, type: e.type, data: e.data });
        }
        send({ type: 'events-ack', ids: p.msg.batch.map((e) => e.id) });
      }
    });
    ws.on('close', () => {
      if (this.sockets.get(kiosk) === ws) this.sockets.delete(kiosk);
    });
  }

  online(kiosk: string): boolean {
    return this.sockets.has(kiosk) && this.frames.some((f) => f.kiosk === kiosk && f.msg.type === 'hello');
  }

  push(kiosk: string, version: number, document: Record<string, unknown>): void {
    const ws = this.sockets.get(kiosk);
    if (!ws) throw new Error(`kiosk ${kiosk} is not connected`);
    ws.send(JSON.stringify({ type: 'config', version, document } satisfies HubToKiosk));
  }

  /** Sends a command; its id. */
  command(kiosk: string, command: string, args: Record<string, unknown> = {}): string {
    const ws = this.sockets.get(kiosk);
    if (!ws) throw new Error(`kiosk ${kiosk} is not connected`);
    const id = `cmd-${++this.commandSeq}`;
    ws.send(JSON.stringify({ type: 'command', id, command, args }));
    return id;
  }

  /** The command-result of a command, once it came. */
  commandResult(id: string, timeoutMs = 15_000) {
    return until(() => this.frames.find((f) => f.msg.type === 'command-result' && f.msg.id === id)?.msg as Extract<KioskToHub, { type: 'command-result' }> | undefined, timeoutMs, `result of ${id}`);
  }

  /** The first config-ack or config-nack for this version received after `since` (ms epoch). */
  reply(kiosk: string, version: number, since = 0, timeoutMs = 15_000) {
    return until(
      () =>
        this.frames.find((f) => f.kiosk === kiosk && f.at >= since && (f.msg.type === 'config-ack' || f.msg.type === 'config-nack') && f.msg.version === version)?.msg as
          | Extract<KioskToHub, { type: 'config-ack' | 'config-nack' }>
          | undefined,
      timeoutMs,
      `config reply for version ${version}`,
    );
  }

  /** Pushes and waits for the reply. */
  async pushAndWait(kiosk: string, version: number, document: Record<string, unknown>, timeoutMs?: number) {
    const since = Date.now();
    this.push(kiosk, version, document);
    return this.reply(kiosk, version, since, timeoutMs);
  }

  event(type: string, pred: (data: any) => boolean = () => true): HubEvent | undefined {
    return this.events.find((e) => e.type === type && pred(e.data));
  }

  waitEvent(type: string, pred: (data: any) => boolean = () => true, timeoutMs = 15_000): Promise<HubEvent> {
    return until(() => this.event(type, pred), timeoutMs, `event ${type} at the hub`);
  }

  hellos(kiosk: string) {
    return this.frames.filter((f) => f.kiosk === kiosk && f.msg.type === 'hello').map((f) => f.msg as Extract<KioskToHub, { type: 'hello' }>);
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    await new Promise((r) => this.server.close(r));
  }
}
