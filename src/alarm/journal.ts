// The alarm's own crash-safe record: one JSON line per transition, appended
// and fdatasync'ed before the transition takes effect outside (an INVITE, a
// lamp, an event for the hub). Separate from the event log on purpose: it is
// tiny, written only on alarm transitions, and read first at start-up so an
// alarm that was not reset resumes at once.
//
//   append: lines -> alarm-journal.jsonl (O_APPEND), then fdatasync; the caller
//           hears separately when the write() returned (the lines are in the
//           kernel: a crash of the process no longer loses them) and when
//           the fdatasync did (a power cut no longer loses them)
//   start:  read every line (a torn last line from a power cut is dropped),
//           the newest record per alarm wins; then the file is rewritten
//           (tmp + fsync + rename + directory fsync) with the open alarm and
//           the last closed ones, so it never grows and never keeps a torn tail.
import { promises as fs, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { AlarmState } from './events.js';
import { setupTrace } from '../core/setup-trace.js';

/** What is persisted: the public state plus what resuming needs. */
export interface AlarmRecord extends AlarmState {
  /** index in sip.targets.emergency of the desk of the current attempt */
  targetIndex?: number;
}

export interface Loaded {
  /** the alarm that is not reset, if any */
  open?: AlarmRecord;
  /** ids of the last closed alarms, oldest first */
  closed: string[];
  /** lines that could not be read (a torn tail after a power cut) */
  dropped: number;
  /** further open alarms (there should never be any): the caller closes them */
  others?: AlarmRecord[];
}

const KEEP_CLOSED = 20;
const COMPACT_AFTER_LINES = 2000;

export class AlarmJournal {
  readonly file: string;
  private fh?: fs.FileHandle;
  private chain: Promise<void> = Promise.resolve();
  /** operations started and not yet settled */
  private busy = 0;
  private lines = 0;
  private latest = new Map<string, AlarmRecord>();

  constructor(dir: string) {
    this.file = path.join(dir, 'alarm-journal.jsonl');
  }

  /** Synchronous: start-up reads the journal before anything else runs. */
  load(): Loaded {
    let text = '';
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A compaction interrupted between its renames leaves only the temp copy.
      if (existsSync(this.file + '.tmp')) text = readFileSync(this.file + '.tmp', 'utf8');
    }
    let dropped = 0;
    const order: string[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let rec: AlarmRecord;
      try {
        rec = JSON.parse(line) as AlarmRecord;
      } catch {
        dropped++;
        continue;
      }
      if (typeof rec?.alarmId !== 'string' || typeof rec.seq !== 'number') {
        dropped++;
        continue;
      }
      const prev = this.latest.get(rec.alarmId);
      if (prev && prev.seq >= rec.seq) continue; // never go back
      this.latest.set(rec.alarmId, rec);
      const i = order.indexOf(rec.alarmId);
      if (i >= 0) order.splice(i, 1);
      order.push(rec.alarmId);
    }
    const open = order.map((id) => this.latest.get(id)!).filter((r) => r.state !== 'reset');
    const closed = order.filter((id) => this.latest.get(id)!.state === 'reset');
    // Only one alarm is ever open; should two be found, the newest is resumed and the caller closes the others.
    return { open: open.at(-1), closed: closed.slice(-KEEP_CLOSED), dropped, ...(open.length > 1 ? { others: open.slice(0, -1) } : {}) };
  }

  /** Rewrites the journal with the newest record of the open alarm and the last closed ones. */
  compact(): Promise<void> {
    return this.serial(async () => {
      const recs = [...this.latest.values()];
      const open = recs.filter((r) => r.state !== 'reset');
      const closed = recs.filter((r) => r.state === 'reset').slice(-KEEP_CLOSED);
      const keep = [...closed, ...open];
      this.latest = new Map(keep.map((r) => [r.alarmId, r]));
      await this.fh?.close().catch(() => {});
      this.fh = undefined;
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const tmp = this.file + '.tmp';
      const fh = await fs.open(tmp, 'w');
      try {
        await fh.writeFile(keep.map((r) => JSON.stringify(r) + '\n').join(''));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, this.file);
      await syncDir(path.dirname(this.file));
      this.lines = keep.length;
      // Opened now, not at the next alarm: its first write is then one write() and one fdatasync.
      this.fh = await fs.open(this.file, 'a');
    });
  }

  /**
   * Appends transitions and makes them durable; rejects when the disk refuses.
   * `onWritten` is called once the write() returned, before the fdatasync (with the error if the write failed).
   */
  append(recs: AlarmRecord[], onWritten?: (err?: Error) => void): Promise<void> {
    for (const r of recs) this.latest.set(r.alarmId, r);
    return this.serial(async () => {
      let written = false;
      try {
        if (!this.fh) {
          await fs.mkdir(path.dirname(this.file), { recursive: true });
          const created = !existsSync(this.file);
          this.fh = await fs.open(this.file, 'a');
          if (created) await syncDir(path.dirname(this.file));
        }
        await this.fh.write(recs.map((r) => JSON.stringify(r) + '\n').join(''));
        written = true;
        setupTrace.mark('journal-written');
        onWritten?.();
        await this.fh.datasync();
        setupTrace.mark('journal-synced');
      } catch (err) {
        if (!written) onWritten?.(err as Error);
        // Reopen next time: a disk that comes back is used again.
        await this.fh?.close().catch(() => {});
        this.fh = undefined;
        throw err;
      }
      this.lines += recs.length;
    }).then(() => {
      if (this.lines > COMPACT_AFTER_LINES) void this.compact().catch(() => {});
    });
  }

  async close(): Promise<void> {
    await this.chain.catch(() => {});
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
  }

  /**
   * Runs operations one after another. With none running, `fn` starts in the caller's turn: an alarm's
   * write() is then issued before the intercom builds the INVITE, not a microtask after it, so the
   * thread pool writes while the main thread prepares the call.
   */
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.busy === 0 ? fn() : this.chain.then(fn, fn);
    this.busy++;
    this.chain = run.catch(() => {}).then(() => {
      this.busy--;
    });
    return run;
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
