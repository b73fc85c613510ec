// The fleet as the facilities console sees it, and its live feed. Each kiosk
// has one state for the map: alarm (an alarm not reset), offline, fault,
// online (or revoked). Changes travel as ids: the instance holding a kiosk
// tells every instance (instance bus) once the change is in the database;
// each instance with consoles open reads just those kiosks and sends them as
// server-sent events. Consoles load the whole fleet once, then only changes.
import type { Logger } from '../../core/log.js';
import type { InstanceBus } from '../instance-bus.js';
import type { KioskLink } from '../kiosk-link.js';
import type { HubStorage, KioskRow } from '../storage/storage.js';

export type MapState = 'online' | 'fault' | 'offline' | 'alarm' | 'revoked';

export interface FleetEntry {
  id: string;
  zone: string;
  location: unknown;
  state: MapState;
  online: boolean;
  revoked: boolean;
  lastSeen?: number;
  firmware?: string;
  configVersion: number;
  /** seconds since the kiosk process started, as of its last heartbeat (protocol 3) */
  uptimeS?: number;
  faults: { code: string; detail: string }[];
  lastAlarm?: { alarmId: string; state: string; at: string; category: string | null };
  /** the kiosk's last test call (supervision): when, how it was started, its verdict; null before the first */
  lastTestCall: { testId: string; at: string; trigger: string; passed: boolean; failedStep: string | null } | null;
  /** the last reboot of the board asked from the hub (absent before the first): rebooting, back at endedAt, not back, refused, failed */
  lastReboot?: { commandId: string; state: string; by: string; askedAt: string; endedAt: string | null; error: string | null };
}

/** An alarm that is not reset is still going on. */
const ACTIVE_ALARM = (state: string) => state !== 'reset';
/** Largest id list per bus message (PostgreSQL NOTIFY payloads stay under 8,000 bytes). */
const IDS_PER_MESSAGE = 100;

export class FleetFeed {
  private readonly clients = new Set<{ zone?: string; send: (event: string, data: unknown) => void }>();
  /** kiosks changed here, to tell every instance */
  private outgoing = new Set<string>();
  private outTimer?: NodeJS.Timeout;
  /** kiosks changed anywhere, to read and send to this instance's consoles */
  private incoming = new Set<string>();
  private inTimer?: NodeJS.Timeout;
  private startedAt = new Map<string, number>();

  constructor(
    private readonly o: { storage: HubStorage; bus: InstanceBus; link: KioskLink; log: Logger; instanceId: string; offlineAfterMs: number; debounceMs?: number },
  ) {}

  start(): void {
    this.o.link.observers.push((ids) => this.changedHere(ids));
    this.o.link.heartbeatListeners.push((id, m) => {
      if (m.uptimeS === undefined) return;
      const started = Date.now() - m.uptimeS * 1000;
      const prev = this.startedAt.get(id);
      // Written only when the kiosk restarted (or the first time): not every heartbeat.
      if (prev !== undefined && Math.abs(prev - started) < 10_000) return;
      this.startedAt.set(id, started);
      void this.o.storage.facilities.setStartedAt([{ id, startedAt: started }]).then(() => this.changedHere([id]), (err: Error) => this.o.log.warn({ err: err.message }, 'uptime not stored'));
    });
    this.o.bus.on((m) => {
      if (m.t === 'fleet') this.changedSomewhere(m.ids);
      else if (m.t === 'rollout') this.broadcast('rollout', { id: m.id });
      else if (m.t === 'kiosk') this.changedSomewhere([m.id]); // enrolled, revoked, new token
    });
  }

  stop(): void {
    clearTimeout(this.outTimer);
    clearTimeout(this.inTimer);
    for (const c of this.clients) c.send('bye', {});
    this.clients.clear();
  }

  /** A console's stream: returns the function that ends it. */
  subscribe(send: (event: string, data: unknown) => void, zone?: string): () => void {
    const c = { zone, send };
    this.clients.add(c);
    return () => this.clients.delete(c);
  }

  get listeners(): number {
    return this.clients.size;
  }

  /** A rollout changed (any instance's consoles re-read it). */
  rolloutChanged(id: string): void {
    void this.o.bus.publish({ t: 'rollout', id }).catch((err: Error) => this.o.log.warn({ err: err.message }, 'rollout change not published'));
  }

  /** Kiosks changed on this instance (their rows are written): tell every instance, a few ms later, in one message. */
  changedHere(ids: string[]): void {
    for (const id of ids) this.outgoing.add(id);
    this.outTimer ??= setTimeout(() => {
      this.outTimer = undefined;
      const all = [...this.outgoing];
      this.outgoing.clear();
      for (let i = 0; i < all.length; i += IDS_PER_MESSAGE)
        void this.o.bus.publish({ t: 'fleet', ids: all.slice(i, i + IDS_PER_MESSAGE) }).catch((err: Error) => this.o.log.warn({ err: err.message }, 'fleet change not published'));
    }, this.o.debounceMs ?? 10);
  }

  private changedSomewhere(ids: string[]): void {
    if (this.clients.size === 0) return;
    for (const id of ids) this.incoming.add(id);
    this.inTimer ??= setTimeout(() => {
      this.inTimer = undefined;
      const list = [...this.incoming];
      this.incoming.clear();
      void this.entries(list).then(
        (entries) => {
          for (const c of this.clients) {
            const mine = c.zone ? entries.filter((e) => e.zone === c.zone) : entries;
            if (mine.length) c.send('kiosks', mine);
          }
        },
        (err: Error) => this.o.log.warn({ err: err.message }, 'fleet changes not read'),
      );
    }, this.o.debounceMs ?? 10);
  }

  private broadcast(event: string, data: unknown): void {
    for (const c of this.clients) c.send(event, data);
  }

  /** Fleet entries (all, or these kiosks), as the map and the list show them. */
  async entries(ids?: string[], zone?: string): Promise<FleetEntry[]> {
    const { storage, link, instanceId, offlineAfterMs } = this.o;
    const rows = await storage.listKiosks({ ids, zone });
    const alarms = await storage.facilities.lastAlarms(ids);
    const tests = await storage.supervision.lastTests(ids);
    const reboots = await storage.reboots.latest(ids);
    const started = await storage.db.query<{ id: string; started_at: Date | null }>('select id, started_at from kiosks where ($1::text[] is null or id = any($1)) and started_at is not null', [ids ?? null]);
    const startedAt = new Map(started.map((r) => [r.id, new Date(r.started_at!).getTime()]));
    const local = link.localView();
    const now = Date.now();
    return rows.map((r: KioskRow) => {
      const mine = local.get(r.id);
      const online = !r.revoked && (mine ? mine.online : r.instanceId !== null && r.instanceId !== instanceId && (r.lastSeen ?? 0) > now - offlineAfterMs);
      const lastSeen = mine?.lastSeen ?? r.lastSeen ?? undefined;
      const alarm = alarms.get(r.id);
      const state: MapState = r.revoked ? 'revoked' : alarm && ACTIVE_ALARM(alarm.state) ? 'alarm' : !online ? 'offline' : r.faults.length ? 'fault' : 'online';
      const s = startedAt.get(r.id);
      const rb = reboots.get(r.id);
      return {
        id: r.id,
        zone: r.zone,
        location: r.location,
        state,
        online,
        revoked: r.revoked,
        ...(lastSeen ? { lastSeen } : {}),
        ...(r.firmware ? { firmware: r.firmware } : {}),
        configVersion: r.configVersion,
        ...(online && s ? { uptimeS: Math.max(0, Math.round((now - s) / 1000)) } : {}),
        faults: r.faults,
        ...(alarm ? { lastAlarm: alarm } : {}),
        lastTestCall: ((t) => (t ? { testId: t.testId, at: t.at, trigger: t.trigger, passed: t.passed, failedStep: t.failedStep } : null))(tests.get(r.id)),
        ...(rb ? { lastReboot: { commandId: rb.commandId, state: rb.state, by: rb.by, askedAt: rb.askedAt, endedAt: rb.endedAt, error: rb.error } } : {}),
      };
    });
  }
}
