// The kiosk's persistent state under dataDir:
//   config.json  current config (as last accepted from file or hub)   lowdb, crash-safe document
//   lkg.json     last-known-good config (one that ran healthily)      lowdb, crash-safe document
//   journal/     the event log and the outbox (events the hub has not
//                acknowledged), JSON lines appended in batches         src/store/event-journal.ts
// Nothing on the emergency path waits for these writes: a read-only or full
// disk makes writes fail, raises the `store` fault (through onFault) and the
// kiosk runs on from memory; nothing here throws into callers.
import path from 'node:path';
import { Low } from 'lowdb';
import { SafeJsonFile, type RecoveryReport } from './safe-json-file.js';
import { EventJournal, type JournalOptions, type JournalProblems, type StoredEvent } from './event-journal.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { Logger } from '../core/log.js';

export type { StoredEvent } from './event-journal.js';
export { EVENT_LOG_MAX, OUTBOX_MAX } from './event-journal.js';

interface ConfigDoc {
  config: KioskConfig | null;
  savedAt?: string;
}

export class KioskStore {
  readonly config: Low<ConfigDoc>;
  readonly lkg: Low<ConfigDoc>;
  readonly journal: EventJournal;
  readonly recoveries: RecoveryReport[] = [];
  /** what is wrong with the store now, by part; the fault detail joins them */
  private readonly problems = new Map<string, string>();
  private faultListener?: (detail: string | undefined) => void;

  constructor(
    readonly dir: string,
    kioskId: string,
    private readonly log?: Logger,
    journal: JournalOptions = {},
  ) {
    const onRecovery = (r: RecoveryReport) => {
      this.recoveries.push(r);
      this.log?.error({ store: r }, 'store file was unreadable; recovered from the newest good copy');
    };
    const adapter = <T>(name: string) => new SafeJsonFile<T>(path.join(dir, name), onRecovery);
    this.config = new Low(adapter<ConfigDoc>('config.json'), { config: null });
    this.lkg = new Low(adapter<ConfigDoc>('lkg.json'), { config: null });
    this.journal = new EventJournal(dir, kioskId, { log, ...journal });
  }

  /** Reads everything synchronously (start-up) and starts a new boot number. */
  open(): this {
    for (const db of [this.config, this.lkg]) {
      const data = (db.adapter as SafeJsonFile<unknown>).readSync();
      if (data) db.data = data as never;
    }
    this.journal.open(this.legacy());
    this.journal.onProblems((p) => this.journalProblems(p));
    return this;
  }

  /** events.json / outbox.json of earlier firmware: imported into a new journal, then moved aside. */
  private legacy(): { boot: number; events: StoredEvent[]; outbox: StoredEvent[] } | undefined {
    const ev = new SafeJsonFile<{ boot?: number; events?: StoredEvent[] }>(path.join(this.dir, 'events.json')).readSync();
    const ob = new SafeJsonFile<{ items?: StoredEvent[] }>(path.join(this.dir, 'outbox.json')).readSync();
    if (!ev && !ob) return undefined;
    return { boot: ev?.boot ?? 0, events: ev?.events ?? [], outbox: ob?.items ?? [] };
  }

  /** Reports the store's state as one fault detail (undefined: healthy); called at once with the current state. */
  onFault(listener: (detail: string | undefined) => void): void {
    this.faultListener = listener;
    this.emitFault();
  }

  private journalProblems(p: JournalProblems): void {
    this.setProblem('journal', p.write && `event journal not written (${p.write}); events kept in memory`);
    this.setProblem(
      'outbox',
      p.dropped && `outbox full: ${p.dropped.count} events not sent to the hub were dropped since ${p.dropped.since}${p.dropped.alarm ? `, ${p.dropped.alarm} of them alarm records` : ' (alarm records kept)'}`,
    );
  }

  /** Another persistent part (the alarm journal) reports its state into the one store fault; undefined: healthy again. */
  problem(part: string, detail: string | undefined): void {
    this.setProblem(part, detail);
  }

  private setProblem(part: string, detail: string | undefined): void {
    if ((this.problems.get(part) ?? undefined) === detail) return;
    if (detail) this.problems.set(part, detail);
    else this.problems.delete(part);
    this.emitFault();
  }

  private emitFault(): void {
    this.faultListener?.(this.problems.size ? [...this.problems.values()].join('; ') : undefined);
  }

  /** document writes not finished yet (settled() waits for them) */
  private readonly writing = new Set<Promise<boolean>>();

  private persist<T>(db: Low<T>, part: string): Promise<boolean> {
    const w = this.write(db, part);
    this.writing.add(w);
    void w.finally(() => this.writing.delete(w));
    return w;
  }

  private write<T>(db: Low<T>, part: string): Promise<boolean> {
    const file = (db.adapter as SafeJsonFile<unknown>).file;
    return db.write().then(
      () => {
        this.setProblem(part, undefined);
        return true;
      },
      (err: unknown) => {
        this.log?.error({ err, file }, 'store write failed; continuing in memory');
        this.setProblem(part, `${path.basename(file)} not written (${(err as Error).message})`);
        return false;
      },
    );
  }

  saveConfig(config: KioskConfig): Promise<boolean> {
    this.config.data = { config, savedAt: new Date().toISOString() };
    return this.persist(this.config, 'config');
  }

  markLastKnownGood(config: KioskConfig): Promise<boolean> {
    this.lkg.data = { config, savedAt: new Date().toISOString() };
    return this.persist(this.lkg, 'lkg');
  }

  /** Records an event in the log and (unless local-only) the outbox. Returns at once; never throws. */
  record(type: string, data: unknown, opts: { outbox?: boolean } = {}): StoredEvent {
    return this.journal.record(type, data, opts);
  }

  /** Records an event and writes the journal synchronously (the process guard's last words). */
  recordSync(type: string, data: unknown): StoredEvent {
    return this.journal.recordSync(type, data);
  }

  /** Removes delivered events (acked by the hub) from the outbox. */
  acknowledge(ids: Iterable<string>): Promise<boolean> {
    return this.journal.acknowledge(ids);
  }

  /** The oldest events waiting for the hub, in order (at most `limit`). */
  pending(limit?: number): StoredEvent[] {
    return this.journal.pending(limit);
  }

  pendingCount(): number {
    return this.journal.pendingCount();
  }

  /** Everything recorded so far is on disk (true), or the disk refused it (false). */
  flushed(): Promise<boolean> {
    return this.journal.flushed();
  }

  /**
   * Everything accepted so far is on disk: the journal and the documents being
   * written (before the board reboots). False when the disk refused any of it.
   */
  async settled(): Promise<boolean> {
    const docs = await Promise.all([...this.writing]);
    const journal = await this.journal.flushed();
    return journal && docs.every(Boolean);
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}
