// The kiosk's persistent state, in lowdb documents under dataDir:
//   config.json  current config (as last accepted from file or hub)
//   lkg.json     last-known-good config (one that ran healthily)
//   events.json  recent event log (ring, newest last)
//   outbox.json  events not yet acknowledged by the hub, in order
// Nothing on the emergency path waits for these writes: a read-only or full
// disk makes writes fail and log, it never blocks or throws into callers.
import path from 'node:path';
import { Low } from 'lowdb';
import { SafeJsonFile, type RecoveryReport } from './safe-json-file.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { Logger } from '../core/log.js';

export interface StoredEvent {
  id: string; // unique per kiosk: `${kioskId}:${boot}:${seq}`
  seq: number;
  at: string; // ISO time
  type: string;
  data: unknown;
}

interface ConfigDoc {
  config: KioskConfig | null;
  savedAt?: string;
}
interface EventsDoc {
  boot: number;
  seq: number;
  events: StoredEvent[];
}
interface OutboxDoc {
  items: StoredEvent[];
}

export const EVENT_LOG_MAX = 5000;
export const OUTBOX_MAX = 100_000;

export class KioskStore {
  readonly config: Low<ConfigDoc>;
  readonly lkg: Low<ConfigDoc>;
  readonly events: Low<EventsDoc>;
  readonly outbox: Low<OutboxDoc>;
  readonly recoveries: RecoveryReport[] = [];
  private idPrefix = '';

  constructor(
    readonly dir: string,
    private readonly kioskId: string,
    private readonly log?: Logger,
  ) {
    const onRecovery = (r: RecoveryReport) => {
      this.recoveries.push(r);
      this.log?.error({ store: r }, 'store file was unreadable; recovered from the newest good copy');
    };
    const adapter = <T>(name: string) => new SafeJsonFile<T>(path.join(dir, name), onRecovery);
    this.config = new Low(adapter<ConfigDoc>('config.json'), { config: null });
    this.lkg = new Low(adapter<ConfigDoc>('lkg.json'), { config: null });
    this.events = new Low(adapter<EventsDoc>('events.json'), { boot: 0, seq: 0, events: [] });
    this.outbox = new Low(adapter<OutboxDoc>('outbox.json'), { items: [] });
  }

  /** Reads every document synchronously (start-up) and starts a new boot number. */
  open(): this {
    for (const db of [this.config, this.lkg, this.events, this.outbox]) {
      const data = (db.adapter as SafeJsonFile<unknown>).readSync();
      if (data) db.data = data as never;
    }
    this.events.data.boot += 1;
    this.events.data.seq = 0;
    this.idPrefix = `${this.kioskId}:${this.events.data.boot}:`;
    this.persist(this.events);
    return this;
  }

  private persist<T>(db: Low<T>): Promise<boolean> {
    return db.write().then(
      () => true,
      (err: unknown) => {
        this.log?.error({ err, file: (db.adapter as SafeJsonFile<unknown>).file }, 'store write failed; continuing in memory');
        return false;
      },
    );
  }

  saveConfig(config: KioskConfig): Promise<boolean> {
    this.config.data = { config, savedAt: new Date().toISOString() };
    return this.persist(this.config);
  }

  markLastKnownGood(config: KioskConfig): Promise<boolean> {
    this.lkg.data = { config, savedAt: new Date().toISOString() };
    return this.persist(this.lkg);
  }

  /** Records an event in the log and (unless local-only) the outbox. Returns it at once. */
  record(type: string, data: unknown, opts: { outbox?: boolean } = {}): StoredEvent {
    const doc = this.events.data;
    doc.seq += 1;
    const ev: StoredEvent = { id: this.idPrefix + doc.seq, seq: doc.seq, at: new Date().toISOString(), type, data: plain(data) };
    doc.events.push(ev);
    if (doc.events.length > EVENT_LOG_MAX) doc.events.splice(0, doc.events.length - EVENT_LOG_MAX);
    void this.persist(this.events);
    if (opts.outbox !== false) {
      const items = this.outbox.data.items;
      items.push(ev);
      if (items.length > OUTBOX_MAX) items.splice(0, items.length - OUTBOX_MAX);
      void this.persist(this.outbox);
    }
    return ev;
  }

  /** Removes delivered events (acked by the hub) from the front of the outbox. */
  acknowledge(ids: Iterable<string>): Promise<boolean> {
    const done = new Set(ids);
    this.outbox.data.items = this.outbox.data.items.filter((e) => !done.has(e.id));
    return this.persist(this.outbox);
  }

  pending(): readonly StoredEvent[] {
    return this.outbox.data.items;
  }
}

/** JSON-safe copy (bigint timestamps become strings). */
function plain(v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
}
