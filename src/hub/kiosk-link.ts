// The kiosks connected to this hub instance: their sockets, their protocol
// (hello, heartbeats, events, acks, results) and what this instance sends them.
// Everything durable goes to storage; what other instances must do arrives on
// the instance bus (a command id, a config push id, a revoked kiosk).
import { preciseNow } from '../core/precise-time.js';
import type { WebSocket } from 'ws';
import { PROTOCOL_VERSION, type HubToKiosk, type KioskToHub } from '../protocol/messages.js';
import { parseFromKiosk } from '../protocol/parse.js';
import type { Logger } from '../core/log.js';
import { Batcher } from './batcher.js';
import type { ConfigComposer } from './config-compose.js';
import type { InstanceBus } from './instance-bus.js';
import type { HubStorage, IncomingEvent, LayerRef, PresenceUpdate } from './storage/storage.js';
import { sha256Hex } from './passwords.js';
import { storable } from './storable.js';
import { sendTextFrame, textFrame, type TextFrame } from './ws-frame.js';

export interface LocalKiosk {
  id: string;
  ws: WebSocket;
  online: boolean;
  lastSeen: number;
  helloDone: boolean;
  /** the faults of its last heartbeat (undefined before the first) */
  faults?: { code: string; detail: string }[];
  /** the address the kiosk's connection came from */
  remote?: string;
  /** what it said it can do in its hello */
  capabilities?: string[];
}

/** Areas that follow what kiosks report (the desk's board, PA receipts, incident timelines), told once it is stored. */
export interface KioskWatcher {
  events?(kiosk: string, events: IncomingEvent[]): void;
  results?(results: { id: string; kiosk: string; ok: boolean; error?: string }[]): void;
}

/**
 * Watches this instance's kiosks for the consoles' live views: called once a
 * change is in the database (presence written, a kiosk gone, events or config
 * results stored), with the kiosk ids. Must not throw.
 */
export type KioskChangeObserver = (ids: string[], why: 'presence' | 'offline' | 'events' | 'config') => void;

export interface KioskLinkOptions {
  hubId: string;
  instanceId: string;
  offlineAfterS: number;
  storage: HubStorage;
  composer: ConfigComposer;
  bus: InstanceBus;
  log: Logger;
}

export class KioskLink {
  readonly local = new Map<string, LocalKiosk>();
  /** token SHA-256 -> kiosk id, of kiosks allowed to connect; reloaded when the bus says a kiosk changed */
  private tokens = new Map<string, string>();
  private readonly presence = new Map<string, PresenceUpdate>();
  private readonly presenceWriter: Batcher<PresenceUpdate[]>;
  private readonly events: Batcher<{ kiosk: string; events: IncomingEvent[]; added?: number }>;
  private readonly results: Batcher<{ id: string; kiosk: string; ok: boolean; error?: string }>;
  private readonly configResults: Batcher<{ kiosk: string; version: number; ok: boolean; errors?: unknown[] }>;
  /** observers of changes to this instance's kiosks (src/hub/facilities/feed.ts) */
  readonly observers: KioskChangeObserver[] = [];
  /**
   * Commands whose answers an area takes over instead of storing them as the
   * result (kiosk.reboot: the kiosk's ok means "handed to the system", not
   * done), by command name. Called with the answer of a kiosk held here.
   */
  readonly answerHooks = new Map<string, (a: { id: string; kiosk: string; ok: boolean; error?: string }) => void>();
  /** ids of commands with an answer hook sent from here, and when */
  private readonly hooked = new Map<string, { command: string; at: number }>();
  /** heartbeat listeners (the facilities console reads the uptime) */
  readonly heartbeatListeners: ((id: string, m: Extract<KioskToHub, { type: 'heartbeat' }>) => void)[] = [];
  /** pending config versions to check after hellos, many kiosks per query (a reconnect storm is one query, not thousands) */
  private readonly helloChecks: Batcher<{ id: string; reported: number }>;
  private sweeper?: NodeJS.Timeout;
  private stopping = false;
  private flusher?: NodeJS.Timeout;

  constructor(private readonly o: KioskLinkOptions) {
    const { storage } = o;
    this.presenceWriter = new Batcher(async (lists) => {
      await storage.updatePresence(o.instanceId, lists.flat());
      this.changed(lists.flat().map((u) => u.id), 'presence');
    }, { split: true });
    // On PostgreSQL a few writes in flight at once: a commit waits for its fsync while the next group is inserted.
    // PGlite runs one statement at a time in this process, so more would only interleave.
    const inFlight = storage.db.kind === 'postgres' ? 3 : 1;
    this.events = new Batcher(async (batches) => {
      const added = await storage.insertEvents(batches);
      batches.forEach((b, i) => (b.added = added[i]));
    }, { split: true, concurrency: inFlight });
    // One batch of answers in flight per instance: answers arriving meanwhile go together in the next one.
    // Batches of one command count under its row's lock one after the other anyway, so more in flight
    // would only wait for that lock, each holding a connection (bench hub: pa_fanout_10000_ms).
    this.results = new Batcher(async (rs) => {
      await storage.commandResults(rs);
      this.tell((w) => w.results?.(rs));
    }, { split: true });
    // Acks of a push arrive from the whole fleet within a few hundred milliseconds. Each statement costs a few
    // milliseconds whatever its size (planning, on PGlite in this thread) and little per row: gathered over 20 ms
    // a 1,000-kiosk push is stored in a handful of statements instead of one per few dozen acks.
    this.configResults = new Batcher(async (rs) => {
      await storage.configResults(rs);
      this.changed(rs.map((r) => r.kiosk), 'config');
    }, { split: true, delayMs: 20 });
    this.helloChecks = new Batcher((items) => this.resendPendingConfigs(items), { delayMs: 5 });
    o.bus.on((m) => {
      // Its answer may reach any instance (the kiosk may move to another meanwhile): each one hands it to the hook.
      if (m.t === 'command' && m.command && this.answerHooks.has(m.command)) this.hookAnswers(m.id, m.command);
      // A command this instance stored went to its kiosks from what it stored (commandStored), not read back.
      if (m.t === 'command' && m.from !== o.instanceId) this.retrying(() => this.deliverCommand(m.id), { command: m.id }, 'command not delivered');
      // A push this instance stored went to its kiosks from what it stored (deliverOwn), not read back.
      else if (m.t === 'config' && m.from !== o.instanceId) this.retrying(() => this.deliverConfig(m.push), { push: m.push }, 'config push not delivered');
      else if (m.t === 'kiosk') void this.kioskChanged(m.id, m.change);
    });
  }

  private changed(ids: string[], why: Parameters<KioskChangeObserver>[1]): void {
    if (ids.length === 0) return;
    for (const o of this.observers) {
      try {
        o(ids, why);
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'kiosk change observer failed');
      }
    }
  }

  private readonly watchers: KioskWatcher[] = [];
  private readonly resultNotStored = (err: Error) => this.o.log.error({ err: err.message }, 'command result not stored');

  /** Follows kiosk events and command results after they are stored (on the instance holding the kiosk). */
  watch(w: KioskWatcher): void {
    this.watchers.push(w);
  }

  private tell(fn: (w: KioskWatcher) => void): void {
    for (const w of this.watchers) {
      try {
        fn(w);
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'kiosk watcher failed');
      }
    }
  }

  /** The address a kiosk held here connected from. */
  remoteOf(id: string): string | undefined {
    return this.local.get(id)?.remote;
  }

  /** The capabilities a kiosk held here announced in its hello. */
  capabilitiesOf(id: string): string[] {
    return this.local.get(id)?.capabilities ?? [];
  }

  /** A delivery that failed (database busy) is tried again a few times: the kiosks here would otherwise wait until they reconnect. */
  private retrying(run: () => Promise<void>, what: Record<string, string>, failed: string, attempt = 1): void {
    run().catch((err: Error) => {
      this.o.log.error({ ...what, err: err.message, attempt }, failed);
      if (attempt < 5) setTimeout(() => this.retrying(run, what, failed, attempt + 1), 250 * 2 ** attempt).unref();
    });
  }

  async start(): Promise<void> {
    this.tokens = await this.o.storage.activeTokens();
    // Sweep every second with a limit one sweep shorter, so silence is noticed within offlineAfterS.
    this.sweeper = setInterval(() => this.sweep(this.o.offlineAfterS * 1000 - 1000), 1000);
    this.flusher = setInterval(() => this.flushPresence(), 500);
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    clearInterval(this.flusher);
    // one statement for all of them below, not one per socket as each closes
    this.stopping = true;
    const ids = [...this.local.keys()];
    for (const k of this.local.values()) k.ws.terminate();
    this.flushPresence();
    await Promise.allSettled([this.helloChecks.drain(), this.events.drain(), this.results.drain(), this.configResults.drain(), this.presenceWriter.drain()]);
    await this.o.storage.markOffline(this.o.instanceId, ids).catch(() => undefined);
  }

  /** Which kiosk a bearer token belongs to, or undefined (unknown or revoked). One hash, one lookup. */
  async authenticate(authorization: string | undefined): Promise<string | undefined> {
    const m = /^Bearer (\S{16,512})$/.exec(authorization ?? '');
    if (!m) return undefined;
    const h = sha256Hex(m[1]!);
    const cached = this.tokens.get(h);
    if (cached) return cached;
    // Enrolled or rotated a moment ago on another instance: ask the database before refusing.
    const id = await this.o.storage.kioskByToken(h);
    if (id) this.tokens.set(h, id);
    return id;
  }

  private async kioskChanged(id: string, change: 'revoked' | 'token' | 'enrolled'): Promise<void> {
    this.tokens = await this.o.storage.activeTokens().catch(() => this.tokens);
    for (const [h, k] of this.tokens) if (k === id && change === 'revoked') this.tokens.delete(h);
    if (change === 'revoked' || change === 'token') {
      const k = this.local.get(id);
      if (k) {
        this.o.log.warn({ kiosk: id, change }, 'kiosk credentials changed: closing its connection');
        k.ws.close(4004, change === 'revoked' ? 'revoked' : 'token rotated');
        setTimeout(() => k.ws.terminate(), 500).unref();
      }
    }
  }

  isLocal(id: string): boolean {
    return this.local.get(id)?.online ?? false;
  }

  send(id: string, m: HubToKiosk): boolean {
    const k = this.local.get(id);
    if (!k || k.ws.readyState !== 1) return false;
    k.ws.send(JSON.stringify(m));
    return true;
  }

  private seen(k: LocalKiosk, patch: Omit<PresenceUpdate, 'id' | 'lastSeen'> = {}): void {
    k.lastSeen = Date.now();
    k.online = true;
    const prev = this.presence.get(k.id);
    this.presence.set(k.id, { ...prev, ...patch, id: k.id, lastSeen: k.lastSeen });
  }

  /**
   * A result, an ack or events from a kiosk: alive, but nothing new to store
   * about it (config acks update config_version with the ack itself). Only a
   * kiosk that was marked offline goes back to the presence table; the others'
   * last_seen is kept fresh by their heartbeats. A fan-out thus costs no
   * presence write for every kiosk that answers.
   */
  private touch(k: LocalKiosk): void {
    if (!k.online) return this.seen(k);
    k.lastSeen = Date.now();
  }

  private flushPresence(): void {
    if (this.presence.size === 0) return;
    const batch = [...this.presence.values()];
    this.presence.clear();
    this.presenceWriter.enqueue(batch).catch((err: Error) => this.o.log.warn({ err: err.message }, 'presence not stored'));
  }

  private sweep(limitMs: number): void {
    const now = Date.now();
    const gone: string[] = [];
    for (const k of this.local.values()) {
      if (k.online && k.lastSeen < now - limitMs) {
        k.online = false;
        gone.push(k.id);
        this.o.log.warn({ kiosk: k.id }, 'kiosk offline (silent)');
      }
    }
    if (gone.length) void this.o.storage.markOffline(this.o.instanceId, gone).then(() => this.changed(gone, 'offline'), () => undefined);
  }

  /** A kiosk's socket, authenticated by its token, is open. */
  connected(kioskId: string, ws: WebSocket, remote?: string): void {
    const prev = this.local.get(kioskId);
    if (prev) prev.ws.close(4001, 'replaced by a newer connection');
    const k: LocalKiosk = { id: kioskId, ws, online: false, lastSeen: Date.now(), helloDone: false, remote };
    this.local.set(kioskId, k);
    const send = (m: HubToKiosk) => ws.readyState === 1 && ws.send(JSON.stringify(m));
    ws.on('message', (data, isBinary) => {
      const receivedAt = preciseNow(); // a clock sample's t1: before parsing, as close to arrival as this process sees it
      try {
        this.onMessage(k, data as Buffer, isBinary, send, receivedAt);
      } catch (err) {
        this.o.log.error({ kiosk: kioskId, err: (err as Error).message }, 'kiosk message handling failed');
      }
    });
    ws.on('error', (err) => this.o.log.warn({ kiosk: kioskId, err: err.message }, 'kiosk socket error'));
    ws.on('close', () => {
      if (this.local.get(kioskId) === k) {
        this.local.delete(kioskId);
        this.presence.delete(kioskId);
        if (!this.stopping) void this.o.storage.markOffline(this.o.instanceId, [kioskId]).then(() => this.changed([kioskId], 'offline'), () => undefined);
        this.o.log.info({ kiosk: kioskId }, 'kiosk offline (disconnected)');
      }
    });
    this.o.log.debug({ kiosk: kioskId, remote }, 'kiosk connected');
  }

  private onMessage(k: LocalKiosk, data: Buffer, isBinary: boolean, send: (m: HubToKiosk) => void, receivedAt: number): void {
    const { log } = this.o;
    const kioskId = k.id;
    const p = isBinary ? ({ ok: false, error: 'binary frames are not accepted' } as const) : parseFromKiosk(data);
    // A command result holds only strings and a boolean (schema-checked); its strings can carry a NUL or a
    // lone surrogate only as a \u escape, so a frame without a backslash is stored as it is, without a walk
    // through the message for each of a fan-out's thousands of answers.
    if (p.ok && !(p.msg.type === 'command-result' && !data.includes(0x5c))) p.msg = storable(p.msg);
    if (!p.ok) {
      log.warn({ kiosk: kioskId, error: p.error }, 'invalid message from kiosk');
      send({ type: 'error', code: 'invalid', message: p.error });
      // A frame that is not even JSON means a broken or hostile peer: drop the connection.
      if (isBinary || p.error === 'frame is not JSON' || p.error === 'frame too large') k.ws.close(4002, 'garbage frame');
      return;
    }
    const msg: KioskToHub = p.msg;
    if (msg.type === 'hello') {
      if (msg.kiosk !== kioskId) {
        send({ type: 'error', code: 'identity', message: 'a kiosk can speak only for itself' });
        k.ws.close(4003, 'identity mismatch');
        return;
      }
      k.helloDone = true;
      k.capabilities = msg.capabilities;
      this.seen(k, { firmware: msg.firmware, configVersion: msg.configVersion });
      send({ type: 'welcome', protocol: PROTOCOL_VERSION, hub: this.o.hubId, time: Date.now() });
      this.flushPresence(); // online everywhere at once, not at the next flush
      log.info({ kiosk: kioskId, firmware: msg.firmware }, 'kiosk online');
      this.checkPending(k, msg.configVersion);
      return;
    }
    if (!k.helloDone) {
      send({ type: 'error', code: 'hello', message: 'say hello first' });
      return;
    }
    if (msg.type === 'time') {
      // Answered at once, nothing stored: the kiosk's estimate of this hub's clock (PA start times are on it).
      this.touch(k);
      send({ type: 'time', t0: msg.t0, t1: receivedAt, t2: preciseNow() });
      return;
    }
    if (msg.type === 'heartbeat') {
      this.seen(k, { faults: msg.faults, outbox: msg.outbox });
      // A fault raised or cleared is on the consoles' maps at once, not at the next flush
      // (the first heartbeat of a connection waits for it: no flush storm when a fleet reconnects).
      if (k.faults !== undefined && JSON.stringify(k.faults) !== JSON.stringify(msg.faults)) this.flushPresence();
      k.faults = msg.faults;
      for (const l of this.heartbeatListeners) l(kioskId, msg);
    }
    else if (msg.type === 'command-result') {
      this.touch(k);
      if (!msg.ok) log.warn({ kiosk: kioskId, command: msg.id, error: msg.error }, 'kiosk refused a command');
      const h = this.hooked.get(msg.id);
      const hook = h && this.answerHooks.get(h.command);
      if (hook) {
        try {
          hook(msg.error ? { id: msg.id, kiosk: kioskId, ok: msg.ok, error: msg.error } : { id: msg.id, kiosk: kioskId, ok: msg.ok });
        } catch (err) {
          log.error({ err: (err as Error).message, command: msg.id }, 'command answer hook failed');
        }
        return;
      }
      this.results.add(msg.error ? { id: msg.id, kiosk: kioskId, ok: msg.ok, error: msg.error } : { id: msg.id, kiosk: kioskId, ok: msg.ok }, this.resultNotStored);
    } else if (msg.type === 'config-ack' || msg.type === 'config-nack') {
      this.touch(k);
      if (msg.type === 'config-nack') log.warn({ kiosk: kioskId, version: msg.version, errors: msg.errors }, 'kiosk refused a config');
      this.configResults
        .enqueue({ kiosk: kioskId, version: msg.version, ok: msg.type === 'config-ack', ...(msg.type === 'config-nack' ? { errors: msg.errors } : {}) })
        .catch((err: Error) => log.error({ err: err.message }, 'config ack not stored'));
    } else if (msg.type === 'events') {
      // A kiosk speaks only for itself: every id must carry its own kiosk id.
      const foreign = msg.batch.find((e) => !e.id.startsWith(`${kioskId}:`));
      if (foreign) {
        log.warn({ kiosk: kioskId, id: foreign.id }, 'kiosk sent events for another kiosk');
        send({ type: 'error', code: 'identity', message: 'events must carry the sending kiosk id' });
        k.ws.close(4003, 'identity mismatch');
        return;
      }
      this.touch(k);
      // Alarm rows are keyed by alarmId, which starts with the kiosk id: no kiosk can touch another's alarm.
      const events = msg.batch.map((e) =>
        e.type === 'alarm.state' && !String((e.data as { alarmId?: unknown })?.alarmId ?? '').startsWith(`${kioskId}-`) ? { ...e, type: 'alarm.state.invalid' } : e,
      );
      const item: { kiosk: string; events: IncomingEvent[]; added?: number } = { kiosk: kioskId, events };
      // Acknowledged only once the transaction holding these events has committed.
      this.events.enqueue(item).then(
        () => {
          if (item.added) {
            log.info({ kiosk: kioskId, added: item.added, duplicates: events.length - item.added }, 'events stored');
            this.changed([kioskId], 'events');
          }
          send({ type: 'events-ack', ids: msg.batch.map((e) => e.id) });
          this.tell((w) => w.events?.(kioskId, events));
        },
        (err: Error) => log.error({ kiosk: kioskId, err: err.message }, 'events not stored; no ack, the kiosk will resend'),
      );
    }
  }

  /**
   * After a hello: its pending config goes out. A failed check (database busy,
   * a deadlock aborted after its retries) is tried again while the same socket
   * is open, or the push would wait forever for a kiosk that is online.
   */
  private checkPending(k: LocalKiosk, reported: number, attempt = 1): void {
    this.helloChecks.enqueue({ id: k.id, reported }).catch((err: Error) => {
      const current = this.local.get(k.id) === k && k.ws.readyState === 1;
      this.o.log.warn({ kiosk: k.id, err: err.message, attempt, retry: current }, 'pending config check failed');
      if (current) setTimeout(() => this.local.get(k.id) === k && this.checkPending(k, reported, attempt + 1), Math.min(10_000, 250 * 2 ** attempt)).unref();
    });
  }

  /** After hellos: the pending config version of each kiosk goes to it, or is marked acked if the kiosk already runs it. */
  private async resendPendingConfigs(items: { id: string; reported: number }[]): Promise<void> {
    const reported = new Map(items.map((i) => [i.id, i.reported])); // the last hello of a kiosk wins
    const pending = await this.o.storage.pendingConfigs([...reported.keys()]);
    // Applied before the ack was lost (or before a hub restart): the kiosk says so itself.
    const applied = pending.filter((p) => p.version <= reported.get(p.kiosk)!);
    await this.sendConfigs(pending.filter((p) => p.version > reported.get(p.kiosk)!));
    if (applied.length) {
      await this.o.storage.configResults(applied.map((p) => ({ kiosk: p.kiosk, version: p.version, ok: true })));
      this.changed(applied.map((p) => p.kiosk), 'config');
    }
  }

  private async sendConfigs(list: { kiosk: string; version: number; layers: LayerRef; baseConfig: string | null }[]): Promise<void> {
    // Kiosks of one push mostly share one document and one version: one frame, encoded once, for all of them.
    // Keyed by the composer's cached text (the same string object: its hash is computed once) and the version.
    const frames = new Map<string, Map<number, Buffer>>();
    for (const p of list) {
      const k = this.local.get(p.kiosk);
      if (!k || k.ws.readyState !== 1) continue;
      // Composed once for the first kiosk of a document; the others take the cached text without an await each.
      const base = { id: p.kiosk, baseConfig: p.baseConfig };
      const cached = this.o.composer.cachedText(base, p.layers);
      const text = cached === null ? await this.o.composer.composeText(base, p.layers) : cached;
      if (!text) continue;
      let byVersion = frames.get(text);
      if (!byVersion) frames.set(text, (byVersion = new Map()));
      let frame = byVersion.get(p.version);
      if (!frame) byVersion.set(p.version, (frame = Buffer.from(`{"type":"config","version":${p.version},"document":${text}}`)));
      k.ws.send(frame, { binary: false });
    }
  }

  /** A config push (from any instance): send each of its kiosks held here its new version. */
  async deliverConfig(pushId: string): Promise<void> {
    const here = [...this.local.values()].filter((k) => k.helloDone).map((k) => k.id);
    if (here.length === 0) return;
    await this.sendConfigs(await this.o.storage.pendingConfigs(here, pushId));
  }

  /**
   * A push this instance has just stored (committed): its kiosks held here get their new versions from what was
   * stored, without reading them back (the bus message names this instance, which then skips it). If that fails,
   * the versions are read and sent as for a push from another instance.
   */
  deliverOwn(pushId: string, list: { kiosk: string; version: number; layers: LayerRef; baseConfig: string | null }[]): void {
    const here = list.filter((p) => this.local.get(p.kiosk)?.helloDone);
    if (here.length === 0) return;
    this.sendConfigs(here).catch((err: Error) => {
      this.o.log.warn({ push: pushId, err: err.message }, 'config push not sent directly: reading it back');
      this.retrying(() => this.deliverConfig(pushId), { push: pushId }, 'config push not delivered');
    });
  }

  /** The last command's send step: the next one sends after it (see deliverCommand). */
  private commandsSent: Promise<void> = Promise.resolve();

  /**
   * Sends a stored command to the kiosks held here that have not answered it.
   * Commands reach each kiosk in the order they were published: a drill's
   * DRILL banner before its incident view, an incident's screens before its
   * message. Each command's read starts at once, but its send waits for the
   * send of the command published before it: on PostgreSQL the reads run on
   * several pooled connections and can finish in any order. (A delivery that
   * failed and is retried goes after the commands published meanwhile.)
   */
  async deliverCommand(id: string): Promise<void> {
    const here = [...this.local.values()].filter((k) => k.helloDone).map((k) => k.id);
    if (here.length === 0) return;
    const read = this.o.storage.pendingCommand(id, here);
    read.catch(() => undefined); // awaited below; not an unhandled rejection while the previous send waits
    const sent = this.commandsSent.then(async () => {
      const c = await read;
      if (c) this.sendCommandFrame({ id, command: c.command, args: c.args, kiosks: c.kiosks });
    });
    this.commandsSent = sent.catch(() => undefined);
    return sent;
  }

  /**
   * A command this instance has just stored (committed) for these kiosks: the other instances are told its id
   * (they read it back for their kiosks), and the kiosks held here get it from what was stored: no read-back of
   * the command and its thousands of kiosk ids (a zone PA), one frame encoded once for all. In publish order
   * like every command (deliverCommand): the send waits for the send of a command published before it.
   */
  async commandStored(c: { id: string; command: string; args: unknown; kiosks: string[] }): Promise<void> {
    await this.o.bus.publish({ t: 'command', id: c.id, from: this.o.instanceId, ...(this.answerHooks.has(c.command) ? { command: c.command } : {}) });
    const sent = this.commandsSent.then(() => this.sendCommandFrame(c));
    this.commandsSent = sent.catch(() => undefined);
  }

  /** One frame, encoded and framed once, to each of these kiosks held here and past their hello. */
  private sendCommandFrame(c: { id: string; command: string; args: unknown; kiosks: string[] }): void {
    if (this.answerHooks.has(c.command)) this.hookAnswers(c.id, c.command);
    let frame: TextFrame | undefined;
    for (const kid of c.kiosks) {
      const k = this.local.get(kid);
      if (!k || !k.helloDone || k.ws.readyState !== 1) continue;
      frame ??= textFrame(JSON.stringify({ type: 'command', id: c.id, command: c.command, args: c.args ?? null })); // as stored (jsonb of the same JSON)
      sendTextFrame(k.ws, frame);
    }
  }

  /** Answers to this command that reach this instance go to its hook; entries older than a day are let go. */
  private hookAnswers(id: string, command: string): void {
    const now = Date.now();
    for (const [k, v] of this.hooked) if (v.at < now - 86_400_000) this.hooked.delete(k);
    this.hooked.set(id, { command, at: now });
  }

  /** This instance's view of its kiosks, fresher than the database's. */
  localView(): Map<string, { online: boolean; lastSeen: number }> {
    return new Map([...this.local.values()].map((k) => [k.id, { online: k.online, lastSeen: k.lastSeen }]));
  }
}
