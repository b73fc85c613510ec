// The kiosk's link to the hub: WebSocket with a per-kiosk bearer token,
// hello then heartbeats, reconnect with jittered exponential backoff (cap 30 s).
// With backup URLs (further hub instances on the same database) each retry
// goes to the next URL in turn (hub-urls.ts); a link that works is kept.
// The kiosk never waits for this link: calls and PA work without it.
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import WebSocket from 'ws';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { KioskToHub } from '../protocol/messages.js';
import { MAX_EVENTS_PER_BATCH, PROTOCOL_VERSION } from '../protocol/constants.js';
import { parseFromHub } from '../protocol/parse.js';
import type { StoredEvent } from '../store/kiosk-store.js';
import { dispatchCommand } from './commands.js';
import type { ConfigReply } from '../core/context.js';
import type { AlarmService } from '../alarm/service.js';
import { pinnedConnect } from './pinning.js';
import { ClockSync, type ClockEstimate } from './clock-sync.js';
import { preciseNow } from '../core/precise-time.js';
import { performance as nodePerformance, type EventLoopUtilization } from 'node:perf_hooks';

const elu = (since?: EventLoopUtilization) => nodePerformance.eventLoopUtilization(since);
import type { SupervisionService } from '../supervision/capability.js';

/** The kiosk's persistent outbox, as the link sees it. */
export interface Outbox {
  /** the oldest events waiting for the hub, in order, at most `limit` */
  pending(limit?: number): readonly StoredEvent[];
  acknowledge(ids: Iterable<string>): Promise<boolean>;
}
import { FIRMWARE_VERSION } from '../version.js';
import { HubUrls } from './hub-urls.js';

export class HubLink {
  private ws?: WebSocket;
  /** the hub URLs in turn and the back-off step */
  readonly urls: HubUrls;
  /** the URL of this connection (set when it is opened) */
  private url: string;
  /** the URL of the last connection that was welcomed: a welcome elsewhere is a switch */
  private lastWelcomedUrl?: string;
  private timer?: NodeJS.Timeout;
  private beat?: NodeJS.Timeout;
  /** the silence watch of the open socket (pings; see SILENT_MIN_MS) */
  private watch?: NodeJS.Timeout;
  private stopped = false;
  connected = false;
  /** ids of the batch sent and not yet acknowledged: one batch in flight keeps the order */
  private inFlight: Set<string> | null = null;
  private helloSentAt = 0;
  /** the hub's protocol version (from welcome): extended config replies from 2 on */
  hubProtocol = 1;
  /** config pushes being applied; actions that would cut the link wait until their replies are sent */
  private replying = 0;
  private afterReplies: (() => void)[] = [];
  /** the hub clock: samples and the estimate (protocol 4; the hello/welcome round trip before that) */
  readonly clock = new ClockSync();
  private clockTimer?: NodeJS.Timeout;
  private clockPending?: { t0: number; elu: EventLoopUtilization; done: () => void };
  private lastClock?: ClockEstimate;
  private helloElu?: EventLoopUtilization;

  constructor(
    private cfg: NonNullable<KioskConfig['hub']>,
    private readonly kiosk: () => { id: string; configVersion: number; faults: { code: string; detail: string }[]; outbox: number; capabilities?: string[]; bootId?: string },
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly outbox?: Outbox,
    /** validates, persists and applies a pushed config; what happened */
    private readonly applyConfig?: (version: number, doc: unknown) => Promise<ConfigReply>,
    /** the alarm controller, for the dispatcher's acknowledge and reset commands */
    private readonly alarm?: () => AlarmService | undefined,
    /** supervision, for the hub's supervision.test command */
    private readonly supervision?: () => SupervisionService | undefined,
    /** the hub's kiosk.restart command: undefined when accepted, else why not */
    private readonly restart?: (by: string) => string | undefined,
    /** the hub's kiosk.reboot command: undefined once the system has the reboot, else why not */
    private readonly reboot?: (by: string) => Promise<string | undefined>,
  ) {
    this.urls = new HubUrls(cfg.url, cfg.backupUrls);
    this.url = this.urls.current;
  }

  /** The hub instance this link is on (connected) or trying. */
  get hubUrl(): string {
    return this.url;
  }

  /** Runs fn once every config reply in progress has been sent (at once if none is). */
  afterReply(fn: () => void): void {
    if (this.replying === 0) fn();
    else this.afterReplies.push(fn);
  }

  /** A new heartbeat period, live. */
  setHeartbeat(seconds: number): void {
    this.cfg = { ...this.cfg, heartbeatS: seconds };
    if (!this.beat) return;
    clearInterval(this.beat);
    this.beat = setInterval(() => this.heartbeat(), seconds * 1000);
  }

  /** Sends the oldest pending events (at least once, in order); called when events are recorded and on connect. */
  flush(): void {
    if (!this.connected || this.inFlight || !this.outbox) return;
    const batch = this.outbox.pending(MAX_EVENTS_PER_BATCH);
    if (batch.length === 0) return;
    this.inFlight = new Set(batch.map((e) => e.id));
    this.send({ type: 'events', batch: batch.map((e) => ({ id: e.id, seq: e.seq, at: e.at, type: e.type, data: e.data })) });
  }

  /** A new hub section from an applied config: pins and heartbeat now, a new URL at the next connection. */
  updateConfig(cfg: NonNullable<KioskConfig['hub']>): void {
    if (cfg.pinSha256 !== this.cfg.pinSha256) this.pinnedCa.clear();
    this.cfg = cfg;
    this.urls.update(cfg.url, cfg.backupUrls, this.connected ? this.url : undefined);
  }

  start(): void {
    this.stopped = false;
    // A fault raised or cleared reaches the hub's fleet map at once, not at the next heartbeat.
    if (!this.offFaults) {
      const soon = () => {
        if (this.faultBeat || !this.connected) return;
        this.faultBeat = setTimeout(() => {
          this.faultBeat = undefined;
          if (this.connected) this.heartbeat();
        }, 20);
      };
      const a = this.bus.on('fault.raised', soon);
      const b = this.bus.on('fault.cleared', soon);
      this.offFaults = () => (a(), b());
    }
    void this.open();
  }

  private offFaults?: () => void;
  private faultBeat?: NodeJS.Timeout;

  /** the hub certificate (PEM) per URL once it matched the pin */
  private readonly pinnedCa = new Map<string, string>();

  private async open(): Promise<void> {
    const url = (this.url = this.urls.current);
    const pin = this.cfg.pinSha256?.toLowerCase();
    if (pin && !this.cfg.pins?.length && url.startsWith('wss:') && !this.pinnedCa.has(url)) {
      try {
        this.pinnedCa.set(url, await fetchPinnedCert(url, pin));
      } catch (err) {
        this.log.error({ err: (err as Error).message, hub: url }, 'hub certificate refused');
        if (!this.stopped) this.retry();
        return;
      }
    }
    if (this.stopped) return;
    this.connect(url);
  }

  private connect(url: string): void {
    const pinned = this.pinnedCa.get(url);
    const spki = url.startsWith('wss:') && this.cfg.pins?.length ? this.cfg.pins : undefined;
    const ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${this.cfg.token}` },
      handshakeTimeout: 5000,
      maxPayload: 1024 * 1024,
      // Public-key pins: the socket reaches the request (and its token) only once the hub's key matched one.
      ...(spki ? { createConnection: pinnedConnect(spki) as never } : {}),
      // A pinned hub certificate is the only one trusted (it may be self-signed); the name in it is not checked.
      ...(pinned && !spki ? { ca: pinned, checkServerIdentity: () => undefined } : {}),
    });
    this.ws = ws;
    ws.on('open', () => {
      this.watchSilence(ws, url);
      const k = this.kiosk();
      this.helloElu = elu();
      this.helloSentAt = preciseNow();
      this.send({ type: 'hello', protocol: PROTOCOL_VERSION, kiosk: k.id, firmware: FIRMWARE_VERSION, configVersion: k.configVersion, capabilities: k.capabilities ?? ['io'] });
    });
    ws.on('message', (data) => {
      const receivedAt = preciseNow(); // a clock sample's t3: before parsing
      const p = parseFromHub(data as Buffer);
      if (!p.ok) {
        this.log.warn({ error: p.error }, 'invalid message from hub');
        // A command we cannot accept still gets an answer, so the dispatcher sees why.
        const raw = safeParse(data as Buffer) as { type?: unknown; id?: unknown } | undefined;
        if (raw?.type === 'command' && typeof raw.id === 'string') this.send({ type: 'command-result', id: raw.id.slice(0, 128), ok: false, error: p.error.slice(0, 2000) });
        return;
      }
      if (p.msg.type === 'welcome') {
        // The first clock sample is the hello/welcome round trip (the hub stamps its welcome); from protocol 4
        // `time` samples follow at once and keep coming (startClockSync). PA start times come on the hub's clock.
        this.hubProtocol = p.msg.protocol;
        this.urls.connected();
        if (this.lastWelcomedUrl !== url) {
          // the first link, or another instance than the last: which one it is, in the log at each switch
          this.log.info({ hub: url, ...(this.lastWelcomedUrl ? { previous: this.lastWelcomedUrl } : {}) }, this.lastWelcomedUrl ? 'hub link moved to another hub instance' : 'hub link connected');
          this.lastWelcomedUrl = url;
        }
        this.clock.reset();
        this.clockSample({ t0: this.helloSentAt, t1: p.msg.time, t2: p.msg.time, t3: receivedAt, resolutionMs: 1 }, this.helloElu);
        this.connected = true;
        this.bus.emit('hub.link', { connected: true, url });
        this.heartbeat();
        this.beat = setInterval(() => this.heartbeat(), this.cfg.heartbeatS * 1000);
        this.flush();
        if (this.hubProtocol >= 4) this.startClockSync();
      } else if (p.msg.type === 'time') {
        const pending = this.clockPending;
        if (!pending || p.msg.t0 !== pending.t0) return; // an answer to a sample given up on
        this.clockPending = undefined;
        this.clockSample({ t0: p.msg.t0, t1: p.msg.t1, t2: p.msg.t2, t3: receivedAt }, pending.elu);
        pending.done();
      } else if (p.msg.type === 'config') {
        const { version, document } = p.msg;
        const none: ConfigReply = { ok: false, code: 'invalid', errors: [{ path: '', message: 'this kiosk takes no config from the hub' }] };
        this.replying++;
        void (this.applyConfig?.(version, document) ?? Promise.resolve(none))
          // A failure while applying is an answer too (and never an unhandled rejection, which ends the process).
          .catch((err: Error): ConfigReply => ({ ok: false, code: 'apply-failed', errors: [{ path: '', message: `could not apply: ${err.message}` }] }))
          .then((reply) => {
            this.send(configReply(version, reply, this.hubProtocol));
            if (--this.replying === 0) for (const fn of this.afterReplies.splice(0)) fn();
          });
      } else if (p.msg.type === 'command') {
        const cmd = p.msg;
        // "ok" only once the work is done: an alarm command waits for its persisted transition.
        void Promise.resolve()
          .then(() => dispatchCommand(cmd, { bus: this.bus, alarm: this.alarm, supervision: this.supervision, restart: this.restart, reboot: this.reboot }))
          .then(
            () => this.send({ type: 'command-result', id: cmd.id, ok: true }),
            (err: Error) => this.send({ type: 'command-result', id: cmd.id, ok: false, error: String(err?.message ?? err).slice(0, 2000) }),
          );
      } else if (p.msg.type === 'events-ack') {
        const acked = p.msg.ids;
        void this.outbox?.acknowledge(acked).then(() => {
          this.inFlight = null;
          this.flush();
        });
      } else if (p.msg.type === 'error') this.log.warn({ code: p.msg.code, message: p.msg.message }, 'hub reported an error');
    });
    ws.on('error', (err) => {
      if (err.name === 'PinError' || err.constructor.name === 'PinError') this.log.error({ err: err.message, hub: url }, 'hub certificate refused');
      else this.log.debug({ err: err.message, hub: url }, 'hub link error');
    });
    ws.on('close', (code, reason) => {
      clearInterval(this.beat);
      this.beat = undefined;
      clearInterval(this.watch);
      this.watch = undefined;
      this.stopClockSync();
      this.inFlight = null; // unacknowledged events stay in the outbox and go again after reconnect
      if (this.connected) this.bus.emit('hub.link', { connected: false, url, reason: `${code} ${reason.toString()}`.trim() });
      this.connected = false;
      if (!this.stopped) this.retry();
    });
  }

  /**
   * A hub instance that stops answering (hung, its machine frozen, the path cut
   * without a reset) keeps the socket open: without this the link would stay
   * on it and never try a backup. A ping every heartbeat; nothing heard (any
   * frame or pong) for 3 heartbeats, at least SILENT_MIN_MS: the socket is
   * ended and the next URL tried. The floor keeps a busy hub from being left.
   */
  static SILENT_MIN_MS = 10_000;

  private watchSilence(ws: WebSocket, url: string): void {
    let heard = performance.now();
    const hear = () => (heard = performance.now());
    ws.on('message', hear);
    ws.on('pong', hear);
    clearInterval(this.watch);
    const every = this.cfg.heartbeatS * 1000;
    this.watch = setInterval(() => {
      const silentMs = performance.now() - heard;
      if (silentMs > Math.max(3 * this.cfg.heartbeatS * 1000, HubLink.SILENT_MIN_MS)) {
        this.log.warn({ hub: url, silentMs: Math.round(silentMs) }, 'hub not answering: link dropped');
        ws.terminate(); // close follows: the next URL, on the back-off
      } else if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, every);
    this.watch.unref();
  }

  /**
   * One sample into the estimate. `since` is the event-loop utilisation when
   * the sample was sent: the time this loop was busy while the sample was in
   * flight is how long the answer may have waited for it (RFC 5905 cannot
   * know this; a kiosk can).
   */
  private clockSample(t: { t0: number; t1: number; t2: number; t3: number; resolutionMs?: number }, since?: EventLoopUtilization): void {
    const stallMs = since ? elu(since).active : undefined;
    if (!this.clock.add({ ...t, stallMs, at: performance.now() })) {
      this.log.warn({ ...t }, 'impossible clock sample from the hub ignored');
      return;
    }
    const e = this.clock.estimate(performance.now());
    if (!e) return;
    const last = this.lastClock;
    this.lastClock = e;
    if (last && last.offsetMs === e.offsetMs && last.uncertaintyMs === e.uncertaintyMs) return;
    this.bus.emit('hub.clock', { offsetMs: e.offsetMs, rttMs: e.rttMs, uncertaintyMs: e.uncertaintyMs });
  }

  /**
   * Clock samples: a burst of `CLOCK_BURST` at connect, one after the other
   * (each waits for the last answer, at most 2 s), then a burst every
   * `CLOCK_PERIOD_MS`; sooner (`CLOCK_RETRY_MS`) while the estimate is poor
   * (no sample with a quiet event loop, or uncertain by more than
   * `CLOCK_GOOD_MS`): a kiosk connects while it is still starting up.
   */
  static CLOCK_BURST = 8;
  static CLOCK_GAP_MS = 50;
  static CLOCK_PERIOD_MS = 60_000;
  static CLOCK_RETRY_MS = 5_000;
  static CLOCK_GOOD_MS = 2;

  private startClockSync(): void {
    this.stopClockSync();
    let left = HubLink.CLOCK_BURST;
    const next = () => {
      if (!this.connected) return;
      if (left-- <= 0) {
        const e = this.clock.estimate(performance.now());
        const good = !!e && e.samples > 0 && e.uncertaintyMs <= HubLink.CLOCK_GOOD_MS;
        this.log.debug({ clock: e }, 'hub clock estimate');
        left = HubLink.CLOCK_BURST;
        this.clockTimer = setTimeout(next, good ? HubLink.CLOCK_PERIOD_MS : HubLink.CLOCK_RETRY_MS);
        this.clockTimer.unref();
        return;
      }
      const t0 = preciseNow();
      const giveUp = setTimeout(() => {
        this.clockPending = undefined;
        next();
      }, 2000);
      giveUp.unref();
      this.clockPending = {
        t0,
        elu: elu(),
        done: () => {
          clearTimeout(giveUp);
          this.clockTimer = setTimeout(next, HubLink.CLOCK_GAP_MS);
          this.clockTimer.unref();
        },
      };
      this.clockTimer = giveUp;
      this.send({ type: 'time', t0 });
    };
    next();
  }

  private stopClockSync(): void {
    clearTimeout(this.clockTimer);
    this.clockTimer = undefined;
    this.clockPending = undefined;
  }

  /** The hub clock estimate (health): undefined before the first sample. */
  clockEstimate(): ClockEstimate | undefined {
    return this.clock.estimate(performance.now());
  }

  private retry(): void {
    // The next URL in turn (the same one when there is only one), after the back-off.
    const delay = this.urls.failed();
    this.timer = setTimeout(() => void this.open(), delay);
  }

  private heartbeat(): void {
    const k = this.kiosk();
    // From protocol 3 the hub also takes the process uptime (the facilities console shows it).
    const uptime = this.hubProtocol >= 3 ? { uptimeS: Math.floor(process.uptime()) } : {};
    // From protocol 5 the board's boot id: the hub sees a reboot it asked for done when it changes.
    const boot = this.hubProtocol >= 5 && k.bootId ? { bootId: k.bootId } : {};
    this.send({ type: 'heartbeat', at: new Date().toISOString(), faults: k.faults, outbox: k.outbox, ...uptime, ...boot });
  }

  private send(msg: KioskToHub): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  stop(): void {
    this.stopped = true;
    this.offFaults?.();
    this.offFaults = undefined;
    clearTimeout(this.faultBeat);
    clearTimeout(this.timer);
    clearInterval(this.beat);
    clearInterval(this.watch);
    this.stopClockSync();
    this.ws?.close(1001, 'kiosk stopping');
  }
}

/** config-ack / config-nack; the protocol 2 fields only for a hub that reads them. */
export function configReply(version: number, r: ConfigReply, hubProtocol: number): KioskToHub {
  const v2 = hubProtocol >= 2;
  if (!r.ok) {
    const errors = r.errors.slice(0, 100).map((e) => ({ path: e.path.slice(0, 300), message: e.message.slice(0, 500) }));
    return { type: 'config-nack', version, errors, ...(v2 ? { code: r.code } : {}) };
  }
  if (!v2) return { type: 'config-ack', version };
  return { type: 'config-ack', version, live: r.live, deferred: r.deferred, restart: r.restart, healthWindowS: r.healthWindowS, ...(r.repeat ? { repeat: true } : {}) };
}

function safeParse(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString());
  } catch {
    return undefined;
  }
}

/**
 * Reads the hub's certificate over a throw-away TLS connection (no request is
 * sent) and returns it as PEM if its SHA-256 (DER) matches the pin; the real
 * connection then trusts exactly that certificate.
 */
function fetchPinnedCert(url: string, pin: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: u.hostname, port: Number(u.port || 443), servername: /^[\d.]+$/.test(u.hostname) ? undefined : u.hostname, rejectUnauthorized: false }, () => {
      const cert = sock.getPeerCertificate();
      sock.destroy();
      const raw = cert?.raw;
      if (!raw) return reject(new Error('hub sent no certificate'));
      if (createHash('sha256').update(raw).digest('hex') !== pin) return reject(new Error('hub certificate does not match the pinned SHA-256'));
      resolve(`-----BEGIN CERTIFICATE-----\n${raw.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
    });
    sock.setTimeout(5000, () => sock.destroy(new Error('hub TLS handshake timed out')));
    sock.on('error', reject);
  });
}
