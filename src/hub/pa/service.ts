// The PA console's engine at the hub: PA actions to kiosks (stored messages,
// live pages) with a receipt per kiosk, plays now / at a time / repeated,
// live updates for the consoles, and the incidents built on them.
//
// Receipts: every action is a command with a pending receipt per online kiosk
// (offline ones fail at once, "offline"). The kiosk's command result makes it
// `delivered`; its `pa.started` and `pa.ended` events (recorded, sent through
// its outbox) make it `started`, then `finished`, `stopped` or `failed` with
// the reason. They are written in batches on the instance holding the
// kiosk's socket; every instance hears the action's id on the instance bus
// and pushes counts and changed receipts to its consoles (server-sent events).
import { randomBytes } from 'node:crypto';
import type { HubContext } from '../context.js';
import { Batcher } from '../batcher.js';
import type { BusMessage } from '../instance-bus.js';
import type { IncomingEvent } from '../storage/storage.js';
import type { ActionRow, Counts, LocalText, PlayRow, ReceiptRow, ReceiptUpdate } from '../storage/pa.js';
import { paConfig, type PaConfig } from './config.js';
import { Incidents } from './incidents.js';
import type { LivePages } from './gateway.js';

export type Channel = 'emergency' | 'page' | 'call' | 'announcement' | 'music';

/** What a console hears: an event name and its data (server-sent events). */
export type ConsoleListener = (event: string, data: unknown) => void;

/** How long before a synchronised start the command goes out (kiosks start the same sample together). */
const START_LEAD_MS = 300;

export const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

export interface ActionRequest {
  kind: 'message' | 'live';
  command: 'pa.play' | 'pa.page';
  /** the action id (also the command id and the id kiosks report) */
  id: string;
  args: Record<string, unknown>;
  zones: string[];
  kiosks?: string[];
  channel: string;
  text?: LocalText | null;
  drill: boolean;
  incidentId?: string | null;
  playId?: string | null;
  messageId?: string | null;
  messageVersion?: number | null;
  by: string;
  role: string;
}

export interface PlayRequest {
  messageId: string;
  zones: string[];
  kiosks?: string[];
  channel?: Channel;
  /** first occurrence (ISO); absent: now */
  at?: string;
  everyS?: number;
  times?: number;
  drill?: boolean;
  incidentId?: string | null;
  by: string;
  role: string;
}

export class PaHub {
  readonly cfg: PaConfig;
  readonly incidents: Incidents;
  gateway?: LivePages;
  private readonly writer: Batcher<ReceiptUpdate[]>;
  private readonly listeners = new Set<ConsoleListener>();
  /** actions whose receipts changed, pushed to consoles shortly (coalesced) */
  private readonly dirty = new Set<string>();
  private pushTimer?: NodeJS.Timeout;
  private readonly watermark = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private stopped = false;

  constructor(readonly hub: HubContext) {
    this.cfg = paConfig(hub.config);
    this.incidents = new Incidents(this);
    this.writer = new Batcher(async (batches) => {
      const changed = await hub.storage.pa.applyReceipts(batches.flat());
      for (const id of changed) await hub.bus.publish({ t: 'pa', ev: 'receipts', id });
    });
  }

  async start(): Promise<void> {
    const { hub } = this;
    hub.link.watch({ results: (rs) => this.onResults(rs), events: (k, es) => this.onEvents(k, es) });
    hub.bus.on((m) => this.onBus(m));
    // Plays due, receipts that will not move: checked every second.
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  /** Ends every console's live feed (the hub is closing). */
  endFeeds(): void {
    for (const l of [...this.listeners]) l('bye', {});
    this.listeners.clear();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pushTimer);
    await this.writer.drain().catch(() => undefined);
    this.endFeeds();
  }

  // ---- kiosks of zones -----------------------------------------------------------

  /** The kiosks of these zones (and named kiosks), split by whether they are online now. */
  async targets(zones: string[], kiosks: string[] = []): Promise<{ all: string[]; online: string[]; offline: string[] }> {
    const { storage, link } = this.hub;
    const ids = new Set<string>();
    for (const z of zones) for (const k of await storage.listKiosks({ zone: z })) if (!k.revoked) ids.add(k.id);
    if (kiosks.length) for (const k of await storage.listKiosks({ ids: kiosks })) if (!k.revoked) ids.add(k.id);
    const all = [...ids].sort();
    const local = link.localView();
    const notHere = all.filter((k) => !local.get(k)?.online);
    // Held by another hub instance (PostgreSQL): asked only for the kiosks not held here.
    const elsewhere = notHere.length ? await storage.onlineKiosks(notHere, this.hub.offlineAfterMs) : new Set<string>();
    const online = all.filter((k) => local.get(k)?.online || elsewhere.has(k));
    return { all, online, offline: all.filter((k) => !online.includes(k)) };
  }

  /** A plain command to kiosks (screens, modes, page control), not a PA action with receipts. */
  async command(command: string, args: Record<string, unknown>, kiosks: string[], by: string, role: string, prefix = 'pactl'): Promise<string> {
    const id = newId(prefix);
    await this.hub.storage.createCommand({ id, command, args, by, role, kiosks });
    await this.hub.link.commandStored({ id, command, args, kiosks });
    return id;
  }

  /** Sends a PA action: a receipt per kiosk, the command to the online ones. */
  async send(a: ActionRequest): Promise<{ id: string; sent: string[]; offline: string[] }> {
    const { storage, bus } = this.hub;
    const t = await this.targets(a.zones, a.kiosks);
    const receipts = [...t.online.map((k) => ({ kiosk: k, state: 'pending' as const })), ...t.offline.map((k) => ({ kiosk: k, state: 'failed' as const, reason: 'offline' }))];
    await storage.pa.createAction(
      {
        id: a.id,
        kind: a.kind,
        playId: a.playId ?? null,
        messageId: a.messageId ?? null,
        messageVersion: a.messageVersion ?? null,
        text: a.text ?? null,
        zones: a.zones,
        channel: a.channel,
        drill: a.drill,
        incidentId: a.incidentId ?? null,
        createdBy: a.by,
      },
      receipts,
    );
    await storage.createCommand({ id: a.id, command: a.command, args: a.args, by: a.by, role: a.role, kiosks: t.online });
    await this.hub.link.commandStored({ id: a.id, command: a.command, args: a.args, kiosks: t.online });
    await bus.publish({ t: 'pa', ev: 'action', id: a.id });
    await this.incidents.actionSent(a, t);
    return { id: a.id, sent: t.online, offline: t.offline };
  }

  // ---- plays: now, at a time, repeated ------------------------------------------------

  async play(r: PlayRequest): Promise<{ ok: true; play: PlayRow } | { ok: false; status: number; error: string }> {
    const m = await this.hub.storage.pa.approvedMessage(r.messageId);
    if (!m) {
      const any = await this.hub.storage.pa.getMessage(r.messageId);
      return any
        ? { ok: false, status: 409, error: `message "${r.messageId}" has no approved version yet: a second user with the pa.approve right must approve it before it can be played` }
        : { ok: false, status: 404, error: `no message "${r.messageId}"` };
    }
    if (!m.clip) return { ok: false, status: 409, error: 'the approved message has no audio' };
    const t = await this.targets(r.zones, r.kiosks);
    if (t.all.length === 0) return { ok: false, status: 400, error: 'name zones (or kiosks) with kiosks in them' };
    const at = r.at ? new Date(r.at) : new Date();
    const play = await this.hub.storage.pa.createPlay({
      id: newId('play'),
      messageId: m.id,
      messageVersion: m.version,
      zones: r.zones,
      kiosks: r.kiosks ?? null,
      channel: r.channel ?? 'announcement',
      drill: !!r.drill,
      incidentId: r.incidentId ?? null,
      startAt: at.toISOString(),
      everyS: r.everyS ?? null,
      times: r.everyS ? (r.times ?? null) : 1,
      nextAt: at.toISOString(),
      createdBy: r.by,
    });
    await this.hub.bus.publish({ t: 'pa', ev: 'play', id: play.id });
    if (at.getTime() <= Date.now()) await this.tick();
    return { ok: true, play };
  }

  /** Cancels a play: nothing more of it is sent; what plays now stops on every kiosk. */
  async cancel(playId: string, by: string, role: string): Promise<PlayRow | undefined> {
    const p = await this.hub.storage.pa.cancelPlay(playId, by);
    if (!p) return undefined;
    for (const a of await this.hub.storage.pa.listActions({ play: playId, limit: 20 })) {
      const open = await this.hub.storage.pa.openReceipts(a.id);
      if (open.length) await this.command('pa.stop', { id: a.id }, open, by, role);
    }
    await this.hub.bus.publish({ t: 'pa', ev: 'play', id: playId });
    if (p.incidentId) await this.hub.storage.pa.addTimeline([{ incident: p.incidentId, by, kind: 'cancelled', text: `play ${playId} cancelled`, detail: { play: playId } }]);
    return p;
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      for (const p of await this.hub.storage.pa.claimDuePlays()) await this.fire(p).catch((err: Error) => this.hub.log.error({ play: p.id, err: err.message }, 'PA play not sent'));
      const expired = await this.hub.storage.pa.expireReceipts(20, 10);
      for (const id of expired) await this.hub.bus.publish({ t: 'pa', ev: 'receipts', id });
    } catch (err) {
      this.hub.log.warn({ err: (err as Error).message }, 'PA tick failed');
    } finally {
      this.ticking = false;
    }
  }

  /** One occurrence of a play: the approved message to the play's kiosks, started together. */
  private async fire(p: PlayRow): Promise<void> {
    const m = await this.hub.storage.pa.getMessage(p.messageId, p.messageVersion);
    if (!m?.clip) throw new Error(`message ${p.messageId} v${p.messageVersion} has no clip`);
    const args = {
      channel: p.channel,
      clip: { sha256: m.clip.sha256, url: `/clips/${m.clip.sha256}` },
      text: m.text,
      chime: this.cfg.chime,
      ...(p.drill ? { drill: true } : {}),
      startAt: Date.now() + START_LEAD_MS,
    };
    const r = await this.send({
      kind: 'message',
      command: 'pa.play',
      id: newId('pa-m'),
      args,
      zones: p.zones,
      kiosks: p.kiosks ?? undefined,
      channel: p.channel,
      text: m.text,
      drill: p.drill,
      incidentId: p.incidentId,
      playId: p.id,
      messageId: m.id,
      messageVersion: m.version,
      by: p.createdBy,
      role: 'dispatcher',
    });
    this.hub.log.info({ play: p.id, action: r.id, occurrence: p.fired, sent: r.sent.length, offline: r.offline.length }, 'PA message sent');
  }

  // ---- receipts from the kiosks (on the instance holding them) --------------------------

  private onResults(rs: { id: string; kiosk: string; ok: boolean; error?: string }[]): void {
    const u: ReceiptUpdate[] = [];
    for (const r of rs) if (r.id.startsWith('pa-')) u.push({ action: r.id, kiosk: r.kiosk, state: r.ok ? 'delivered' : 'failed', ...(r.ok ? {} : { reason: r.error ?? 'refused' }) });
    if (u.length) this.writer.enqueue(u).catch((err: Error) => this.hub.log.error({ err: err.message }, 'PA receipts not stored'));
  }

  private onEvents(kiosk: string, events: IncomingEvent[]): void {
    const u: ReceiptUpdate[] = [];
    for (const e of events) {
      const d = (e.data ?? {}) as { id?: unknown; reason?: unknown; error?: unknown; via?: unknown; unicastPort?: unknown };
      if (e.type === 'alarm.state' || (e.type === 'call.state' && (e.data as { kind?: string })?.kind === 'emergency')) {
        void this.incidents.alarm(kiosk, e).catch((err: Error) => this.hub.log.error({ err: err.message }, 'alarm not added to the incident timeline'));
        continue;
      }
      if (typeof d.id !== 'string' || !d.id.startsWith('pa-')) continue;
      const action = d.id;
      if (e.type === 'pa.started') u.push({ action, kiosk, state: 'started', ...(typeof d.via === 'string' ? { via: d.via } : {}) });
      else if (e.type === 'pa.ended') {
        const reason = String(d.reason ?? '');
        if (reason === 'done') u.push({ action, kiosk, state: 'finished' });
        else if (reason === 'stopped') u.push({ action, kiosk, state: 'stopped', reason: 'stopped' });
        else u.push({ action, kiosk, state: 'failed', reason: String(d.error ?? (reason || 'failed')).slice(0, 500) });
      } else if (e.type === 'pa.missed') {
        const port = typeof d.unicastPort === 'number' ? d.unicastPort : undefined;
        const host = unmapped(this.hub.link.remoteOf(kiosk));
        const why = String(d.reason ?? '').slice(0, 300);
        u.push({ action, kiosk, state: 'delivered', note: true, reason: port && host ? `missed multicast (${why}); sent by unicast to ${host}:${port}` : `missed multicast (${why}); no unicast fallback` });
        if (port && host) void this.hub.bus.publish({ t: 'pa', ev: 'unicast', id: action, kiosk, host, port });
      }
    }
    if (u.length) this.writer.enqueue(u).catch((err: Error) => this.hub.log.error({ err: err.message }, 'PA receipts not stored'));
  }

  // ---- consoles ---------------------------------------------------------------------

  /** A console's live feed; returns the function that ends it. */
  subscribe(l: ConsoleListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(event: string, data: unknown): void {
    for (const l of this.listeners) {
      try {
        l(event, data);
      } catch {
        /* a broken console is dropped by its own close handler */
      }
    }
  }

  private onBus(m: BusMessage): void {
    if (m.t !== 'pa') return;
    if (m.ev === 'unicast') {
      this.gateway?.addUnicast(m.id, m.kiosk, { host: m.host, port: m.port });
      return;
    }
    if (m.ev === 'receipts') {
      if (this.listeners.size === 0) return;
      this.dirty.add(m.id);
      // Coalesced: a thousand receipts in a burst make a few pushes, not a thousand.
      this.pushTimer ??= setTimeout(() => void this.pushReceipts(), 25);
      return;
    }
    this.emit(m.ev, m.ev === 'page' ? { id: m.id, state: m.state, ...(m.reason ? { reason: m.reason } : {}) } : { id: m.id });
  }

  private async pushReceipts(): Promise<void> {
    const ids = [...this.dirty];
    this.dirty.clear();
    try {
      const counts = await this.hub.storage.pa.counts(ids);
      for (const id of ids) {
        // Changed since the last push (a second of overlap: a commit may carry an earlier timestamp); the console merges by kiosk.
        const since = this.watermark.get(id);
        const changed = await this.hub.storage.pa.receipts(id, since ? new Date(Date.parse(since) - 1000).toISOString() : undefined);
        const newest = changed.reduce((a, r) => (r.updatedAt > a ? r.updatedAt : a), since ?? '');
        if (newest) this.watermark.set(id, newest);
        if (this.watermark.size > 500) this.watermark.delete(this.watermark.keys().next().value!);
        this.emit('receipts', { action: id, counts: counts.get(id), changed });
      }
    } catch (err) {
      this.hub.log.warn({ err: (err as Error).message }, 'receipts not pushed to consoles');
    } finally {
      this.pushTimer = undefined;
      if (this.dirty.size) this.pushTimer = setTimeout(() => void this.pushReceipts(), 25);
    }
  }

  /** An action with its counts and receipts (console, timeline, export). */
  async actionReport(id: string): Promise<(ActionRow & { counts: Counts; receipts: ReceiptRow[] }) | undefined> {
    const a = await this.hub.storage.pa.getAction(id);
    if (!a) return undefined;
    const counts = (await this.hub.storage.pa.counts([id])).get(id)!;
    return { ...a, counts, receipts: await this.hub.storage.pa.receipts(id) };
  }
}

/** "::ffff:10.0.0.5" -> "10.0.0.5" (IPv4 clients on a dual-stack socket). */
export function unmapped(addr: string | undefined): string | undefined {
  return addr?.replace(/^::ffff:/, '');
}
