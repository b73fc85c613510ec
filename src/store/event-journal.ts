// The kiosk's event journal: the event log and the outbox (events the hub has
// not acknowledged yet) in one append-only file of JSON lines, so recording an
// event costs one small JSON.stringify and an array push on the main thread;
// the write and the fsync run in libuv's pool, batched (every record that
// arrives while one batch is being written goes in the next one).
//
// Files, under <dataDir>/journal/:
//   seg-N.jsonl    appended to; a new segment starts at each compaction
//   snap-N.jsonl   the retained state when segment N started (written to
//                  snap-N.jsonl.tmp, fsynced, then renamed: complete or absent)
// Reading: the newest snapshot, then every segment from its number on. A torn
// last line (SIGKILL or power cut mid-append) is dropped and cut off the file;
// an unreadable line elsewhere is skipped and reported. Events are keyed by id,
// so a line written twice (a batch in flight when the process guard writes
// synchronously, a compaction racing an append) is read once.
//
// Lines:  {"e":{id,seq,at,type,data}}      an event, queued for the hub
//         {"e":{...},"q":0}                 an event kept locally only
//         {"a":[ids]}                       acknowledged by the hub
//         {"d":[ids]}                       dropped from a full outbox
//         {"b":N}                           boot number N started
//
// Bounds: the log keeps the newest `logMax` events; the outbox holds at most
// `outboxMax` events. When it is full the oldest ordinary event goes first;
// alarm records (alarm.* and the call.* of emergencies) go only when nothing
// else is left. Dropping anything is reported (the `store` fault).
//
// A write failure (read-only or full disk) never throws into callers: the
// journal carries on in memory, reports it, and every few seconds tries to
// write its whole state again (a compaction); when that works the problem is
// over and nothing recorded in the meantime is lost (unless the process died).
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../core/log.js';
import type { SetupDefer } from '../core/setup-window.js';

export interface StoredEvent {
  id: string; // unique per kiosk: `${kioskId}:${boot}:${seq}`
  seq: number;
  at: string; // ISO time
  type: string;
  data: unknown;
}

export interface JournalOptions {
  /** events kept in the log (delivered or not) */
  logMax?: number;
  /** events waiting for the hub at most */
  outboxMax?: number;
  /** compact once this many lines were appended and they outnumber the retained events twice */
  compactMinLines?: number;
  /** after a write failure, try again this often */
  retryMs?: number;
  log?: Logger;
}

/** What the journal reports about itself (the kiosk turns it into the `store` fault). */
export interface JournalProblems {
  /** the disk refused a write: why */
  write?: string;
  /** events dropped from a full outbox since it last emptied */
  dropped?: { count: number; alarm: number; since: string };
}

export const EVENT_LOG_MAX = 5000;
export const OUTBOX_MAX = 100_000;

interface Entry {
  /** record order across boots */
  n: number;
  id: string;
  line: string;
  pending: boolean;
  prio: boolean;
  inLog: boolean;
}

/** Alarm records are the last to leave a full outbox. */
export function isAlarmRecord(type: string, data: unknown): boolean {
  if (type.startsWith('alarm.')) return true;
  return type.startsWith('call.') && (data as { kind?: unknown } | null)?.kind === 'emergency';
}

const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);
const open = promisify(fs.open);
const close = promisify(fs.close);
const rename = promisify(fs.rename);
const fsync = promisify(fs.fsync);

const FAST_EVENT = /^\{"e":\{"id":"([^"\\]*)","seq":\d+,"at":"[^"\\]*","type":"([^"\\]*)","data":/;
const SEG = /^seg-(\d+)\.jsonl$/;
const SNAP = /^snap-(\d+)\.jsonl$/;
const name = (kind: 'seg' | 'snap', n: number) => `${kind}-${String(n).padStart(8, '0')}.jsonl`;

/** BigInt timestamps become strings; anything else JSON cannot hold is refused by JSON.stringify. */
const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

function eventLine(ev: StoredEvent, queued: boolean): string {
  let body: string;
  try {
    body = JSON.stringify(ev, replacer);
  } catch (err) {
    // A payload JSON cannot hold (a cycle) is recorded as such, never thrown at the caller.
    body = JSON.stringify({ ...ev, data: { unserialisable: (err as Error).message } });
  }
  return `{"e":${body}${queued ? '' : ',"q":0'}}\n`;
}

interface Parsed {
  e?: StoredEvent;
  q?: 0;
  a?: string[];
  d?: string[];
  b?: number;
}

/**
 * One file's lines, each parsed and raw. A last line without its newline is
 * torn (the append never completed) and left out even if it parses;
 * `goodBytes` is where the complete lines end.
 */
function readLines(file: string, fast = false): { lines: { p: Parsed; raw: string }[]; bad: number; goodBytes: number; torn: boolean } {
  const buf = fs.readFileSync(file);
  const lines: { p: Parsed; raw: string }[] = [];
  let bad = 0;
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos); // never inside a UTF-8 sequence
    if (nl < 0) break;
    const raw = buf.toString('utf8', pos, nl);
    pos = nl + 1;
    if (!raw.trim()) continue;
    let p: Parsed | undefined;
    // Start-up fast path: an event line as this code writes it needs only its id and type
    // (the whole line is kept and parsed when sent). call.* lines are parsed: their kind decides priority.
    const m = fast ? FAST_EVENT.exec(raw) : null;
    if (m && !m[2]!.startsWith('call.') && raw.endsWith('}')) {
      lines.push({ p: { e: { id: m[1]!, type: m[2]!, seq: 0, at: '', data: null }, ...(raw.endsWith(',"q":0}') ? { q: 0 as const } : {}) }, raw });
      continue;
    }
    try {
      p = JSON.parse(raw) as Parsed;
    } catch {
      p = undefined;
    }
    if (p && typeof p === 'object') lines.push({ p, raw });
    else bad++;
  }
  return { lines, bad, goodBytes: pos, torn: pos < buf.length && buf.subarray(pos).some((c) => c !== 0x0a && c !== 0x20) };
}

/** Reads a journal folder without changing it (tests, tools, a second process). */
export function readJournal(dataDir: string): { events: StoredEvent[]; pending: StoredEvent[]; boot: number } {
  const dir = path.join(dataDir, 'journal');
  const state = new Replay();
  const files = listJournal(dir);
  for (const f of files.replay) state.apply(readLines(path.join(dir, f)).lines.map((l) => l.p));
  return { events: state.order.map((e) => state.events.get(e)!), pending: state.order.filter((id) => state.queued.has(id)).map((id) => state.events.get(id)!), boot: state.boot };
}

/** Replays lines into plain state (used by readJournal). */
class Replay {
  events = new Map<string, StoredEvent>();
  order: string[] = [];
  queued = new Set<string>();
  boot = 0;
  apply(lines: Parsed[]): void {
    for (const l of lines) {
      if (l.e && typeof l.e.id === 'string') {
        if (this.events.has(l.e.id)) continue;
        this.events.set(l.e.id, l.e);
        this.order.push(l.e.id);
        if (l.q !== 0) this.queued.add(l.e.id);
      } else if (Array.isArray(l.a)) l.a.forEach((id) => this.queued.delete(id));
      else if (Array.isArray(l.d)) l.d.forEach((id) => this.queued.delete(id));
      else if (typeof l.b === 'number') this.boot = Math.max(this.boot, l.b);
    }
  }
}

function listJournal(dir: string): { snap: number; segs: number[]; replay: string[]; stale: string[] } {
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return { snap: 0, segs: [], replay: [], stale: [] };
  }
  const snaps = names.map((n) => SNAP.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1]));
  const snap = snaps.length ? Math.max(...snaps) : 0;
  const allSegs = names.map((n) => SEG.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => a - b);
  const segs = allSegs.filter((n) => n >= snap);
  const stale = [
    ...names.filter((n) => n.endsWith('.tmp')),
    ...snaps.filter((n) => n < snap).map((n) => name('snap', n)),
    ...allSegs.filter((n) => n < snap).map((n) => name('seg', n)),
  ];
  return { snap, segs, replay: [...(snap ? [name('snap', snap)] : []), ...segs.map((n) => name('seg', n))], stale };
}

export class EventJournal {
  readonly dir: string;
  private readonly logMax: number;
  private readonly outboxMax: number;
  private readonly compactMinLines: number;
  private readonly retryMs: number;
  private readonly log?: Logger;

  /** the newest events, oldest first */
  private readonly logEntries = new Map<string, Entry>();
  /** waiting for the hub, oldest first: ordinary events and alarm records apart, so a full outbox drops ordinary ones first */
  private readonly outNormal = new Map<string, Entry>();
  private readonly outPrio = new Map<string, Entry>();
  private n = 0;
  private seq = 0;
  boot = 0;
  private idPrefix = '';

  private fd = -1;
  private segIndex = 0;
  private buf: string[] = [];
  private waiters: ((ok: boolean) => void)[] = [];
  /** the batch being written, and its completion */
  private inflight?: { text: string; done: Promise<boolean> };
  private writing = false;
  private wantCompact = false;
  private linesSinceCompact = 0;
  private broken?: string;
  private retryTimer?: NodeJS.Timeout;
  private closed = false;
  private dropped?: { count: number; alarm: number; since: string };
  private listener?: (p: JournalProblems) => void;
  /** an alarm call's set-up window: batches wait until it closes (src/core/setup-window.ts) */
  private setup?: SetupDefer;
  /** a drain waits for the set-up window (`writing` stays set meanwhile) */
  private deferred = false;
  /** close() began: nothing waits for a set-up window any more */
  private closing = false;
  /** what reading found: skipped lines, a torn tail, the files read */
  readonly recovery = { badLines: 0, tornTail: false, files: 0 };

  constructor(dataDir: string, private readonly kioskId: string, opts: JournalOptions = {}) {
    this.dir = path.join(dataDir, 'journal');
    this.logMax = opts.logMax ?? EVENT_LOG_MAX;
    this.outboxMax = opts.outboxMax ?? OUTBOX_MAX;
    this.compactMinLines = opts.compactMinLines ?? 50_000;
    this.retryMs = opts.retryMs ?? 5000;
    this.log = opts.log;
  }

  /** Reads the journal (synchronously: start-up, before anything runs), starts a new boot and opens the file for appends. */
  open(legacy?: { boot: number; events: StoredEvent[]; outbox: StoredEvent[] }): this {
    const files = listJournal(this.dir);
    const seen = new Set<string>();
    for (let i = 0; i < files.replay.length; i++) {
      const file = path.join(this.dir, files.replay[i]!);
      let r: ReturnType<typeof readLines>;
      try {
        r = readLines(file, true);
      } catch (err) {
        this.log?.error({ err, file }, 'journal file unreadable; skipped');
        continue;
      }
      this.recovery.files++;
      this.recovery.badLines += r.bad;
      for (const l of r.lines) this.replay(l.p, seen, l.raw);
      if (r.torn) {
        this.recovery.tornTail = true;
        // Cut the torn line off, so the next append starts on a line of its own.
        try {
          fs.truncateSync(file, r.goodBytes);
        } catch {
          /* read-only: the next append writes a newline first (see `broken`) */
        }
      }
    }
    if (this.recovery.badLines || this.recovery.tornTail) this.log?.warn({ journal: this.dir, ...this.recovery }, 'journal had damaged lines; they were skipped');
    if (legacy && files.replay.length === 0) this.importLegacy(legacy, seen);
    this.boot += 1;
    this.idPrefix = `${this.kioskId}:${this.boot}:`;
    this.segIndex = files.segs.length ? files.segs[files.segs.length - 1]! : Math.max(1, files.snap);
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      for (const f of files.stale) fs.rmSync(path.join(this.dir, f), { force: true });
      this.fd = fs.openSync(path.join(this.dir, name('seg', this.segIndex)), 'a');
      // The boot number is durable before any event of this boot can reach the hub: ids never repeat.
      fs.writeSync(this.fd, `{"b":${this.boot}}\n`);
      fs.fdatasyncSync(this.fd);
      if (legacy && files.replay.length === 0 && (legacy.events.length || legacy.outbox.length)) this.wantCompact = true;
    } catch (err) {
      this.fail(err);
    }
    if (this.wantCompact) this.kick();
    return this;
  }

  private importLegacy(legacy: { boot: number; events: StoredEvent[]; outbox: StoredEvent[] }, seen: Set<string>): void {
    this.boot = Math.max(this.boot, legacy.boot);
    const queued = new Set(legacy.outbox.map((e) => e.id));
    const all = [...legacy.events];
    for (const e of legacy.outbox) if (!legacy.events.some((x) => x.id === e.id)) all.push(e);
    for (const e of all) this.replay({ e, ...(queued.has(e.id) ? {} : { q: 0 as const }) }, seen);
  }

  private replay(l: Parsed, seen: Set<string>, raw?: string): void {
    if (l.e && typeof l.e.id === 'string') {
      if (seen.has(l.e.id)) return;
      seen.add(l.e.id);
      // the line as read is the line as written: kept, not serialised again
      this.add(l.e, l.q !== 0, raw !== undefined ? raw + '\n' : eventLine(l.e, l.q !== 0));
    } else if (Array.isArray(l.a) || Array.isArray(l.d)) {
      for (const id of (l.a ?? l.d)!) this.unqueue(id);
    } else if (typeof l.b === 'number') this.boot = Math.max(this.boot, l.b);
  }

  /** Puts an event into memory: the log (newest logMax) and, if queued, the outbox. */
  private add(ev: StoredEvent, queued: boolean, line: string): Entry {
    const e: Entry = { n: ++this.n, id: ev.id, line, pending: queued, prio: isAlarmRecord(ev.type, ev.data), inLog: true };
    this.logEntries.set(e.id, e);
    if (this.logEntries.size > this.logMax) {
      const [oldest] = this.logEntries.values();
      this.logEntries.delete(oldest!.id);
      oldest!.inLog = false;
    }
    if (queued) (e.prio ? this.outPrio : this.outNormal).set(e.id, e);
    return e;
  }

  private unqueue(id: string): boolean {
    const e = this.outNormal.get(id) ?? this.outPrio.get(id);
    if (!e) return false;
    (e.prio ? this.outPrio : this.outNormal).delete(id);
    e.pending = false;
    return true;
  }

  /** Records an event: in memory at once, on disk with the next batch. Never throws, never waits. */
  record(type: string, data: unknown, opts: { outbox?: boolean } = {}): StoredEvent {
    const ev = this.make(type, data);
    const queued = opts.outbox !== false;
    const line = eventLine(ev, queued);
    this.add(ev, queued, line);
    this.append(line);
    if (queued) this.enforceOutboxLimit();
    return ev;
  }

  /**
   * Records an event and writes everything not yet on disk synchronously, with
   * an fsync, before returning: for the last words of a dying process. Never throws.
   */
  recordSync(type: string, data: unknown): StoredEvent {
    const ev = this.make(type, data);
    const line = eventLine(ev, true);
    this.add(ev, true, line);
    // The batch in flight may not have reached the disk: write it again (ids make the copy harmless).
    const text = (this.broken ? '\n' : '') + (this.inflight?.text ?? '') + this.buf.join('') + line;
    this.buf = [];
    const waiters = this.waiters;
    this.waiters = [];
    let ok = false;
    try {
      if (this.fd < 0) {
        fs.mkdirSync(this.dir, { recursive: true });
        this.fd = fs.openSync(path.join(this.dir, name('seg', this.segIndex)), 'a');
      }
      const b = Buffer.from(text);
      for (let off = 0; off < b.length; ) off += fs.writeSync(this.fd, b, off);
      fs.fdatasyncSync(this.fd);
      ok = true;
    } catch (err) {
      this.log?.error({ err }, 'journal: synchronous write failed');
    }
    waiters.forEach((w) => w(ok));
    return ev;
  }

  private make(type: string, data: unknown): StoredEvent {
    this.seq += 1;
    return { id: this.idPrefix + this.seq, seq: this.seq, at: new Date().toISOString(), type, data: data === undefined ? null : data };
  }

  private enforceOutboxLimit(): void {
    let over = this.outNormal.size + this.outPrio.size - this.outboxMax;
    if (over <= 0) return;
    const gone: string[] = [];
    let alarm = 0;
    while (over-- > 0) {
      const [victim] = this.outNormal.size ? this.outNormal.values() : this.outPrio.values();
      if (!victim) break;
      if (victim.prio) alarm++;
      this.unqueue(victim.id);
      gone.push(victim.id);
    }
    this.append(`{"d":${JSON.stringify(gone)}}\n`);
    const first = !this.dropped;
    this.dropped = { count: (this.dropped?.count ?? 0) + gone.length, alarm: (this.dropped?.alarm ?? 0) + alarm, since: this.dropped?.since ?? new Date().toISOString() };
    if (first) this.log?.error({ outboxMax: this.outboxMax }, 'outbox full: dropping the oldest events not yet sent to the hub (alarm records last)');
    // Reported on the first drop and then at most every 1000 drops: the fault detail, not a flood.
    if (first || this.dropped.count % 1000 === 0 || alarm) this.report();
  }

  /** Removes delivered events from the outbox; resolves when that is on disk (false when the disk refused it). */
  acknowledge(ids: Iterable<string>): Promise<boolean> {
    const done: string[] = [];
    for (const id of ids) if (this.unqueue(id)) done.push(id);
    if (done.length) this.append(`{"a":${JSON.stringify(done)}}\n`);
    if (this.dropped && this.pendingCount() === 0) {
      // everything left has reached the hub: the loss is reported and over
      this.dropped = undefined;
      this.report();
    }
    return done.length ? this.flushed() : Promise.resolve(!this.broken);
  }

  /** The oldest events waiting for the hub, in record order (at most `limit`). */
  pending(limit = Infinity): StoredEvent[] {
    const out: StoredEvent[] = [];
    const a = this.outNormal.values();
    const b = this.outPrio.values();
    let x = a.next();
    let y = b.next();
    while (out.length < limit && (!x.done || !y.done)) {
      if (!x.done && (y.done || x.value.n < y.value.n)) {
        out.push(parseEvent(x.value.line));
        x = a.next();
      } else if (!y.done) {
        out.push(parseEvent(y.value.line));
        y = b.next();
      }
    }
    return out;
  }

  pendingCount(): number {
    return this.outNormal.size + this.outPrio.size;
  }

  /** The newest `limit` events of the log, oldest first. */
  recent(limit = this.logMax): StoredEvent[] {
    const all = [...this.logEntries.values()];
    return all.slice(Math.max(0, all.length - limit)).map((e) => parseEvent(e.line));
  }

  /** Resolves when everything recorded so far is on disk (true) or the disk refused it (false). */
  flushed(): Promise<boolean> {
    // A broken disk answers at once: callers (the hub link) go on from memory.
    if (this.broken) return Promise.resolve(false);
    if (this.buf.length) return new Promise((resolve) => this.waiters.push(resolve));
    if (this.inflight) return this.inflight.done;
    return Promise.resolve(!this.broken);
  }

  /** Listens for problems (write failures, drops); called at once with the current state. */
  onProblems(listener: (p: JournalProblems) => void): void {
    this.listener = listener;
    this.report();
  }

  problems(): JournalProblems {
    return { ...(this.broken ? { write: this.broken } : {}), ...(this.dropped ? { dropped: { ...this.dropped } } : {}) };
  }

  private report(): void {
    this.listener?.(this.problems());
  }

  private append(line: string): void {
    this.buf.push(line);
    this.kick();
  }

  /**
   * Batches (and compactions) wait while an alarm call is being set up: the records are in memory and in the
   * outbox at once, only their write and fdatasync move behind the call's first RTP packet (at most
   * SETUP_WINDOW_MAX_MS). recordSync and close() still write everything.
   */
  deferDuring(setup: SetupDefer): void {
    this.setup = setup;
  }

  private kick(): void {
    if (this.writing || this.closed || this.broken) return;
    this.writing = true;
    // One turn of the event loop later: a burst of records becomes one write and one fsync.
    setImmediate(() => this.drainAfterSetup());
  }

  private drainAfterSetup(): void {
    if (this.setup?.active && !this.closing) this.deferDrain();
    else void this.drain();
  }

  private deferDrain(): void {
    this.deferred = true;
    this.setup!.afterSetup(() => this.runDeferred());
  }

  /** The deferred drain, once: when the window closes, or at once when the journal is closing. */
  private runDeferred(): void {
    if (!this.deferred) return;
    this.deferred = false;
    void this.drain();
  }

  private async drain(): Promise<void> {
    let handedOn = false;
    try {
      while (!this.broken && (this.buf.length || this.wantCompact)) {
        if (this.setup?.active && !this.closing) {
          // a set-up began while this drain was writing: the rest waits for it (`writing` stays set meanwhile)
          handedOn = true;
          this.deferDrain();
          return;
        }
        if (this.wantCompact) {
          await this.compact();
          continue;
        }
        const lines = this.buf;
        const waiters = this.waiters;
        this.buf = [];
        this.waiters = [];
        const text = lines.join('');
        const done = this.writeBatch(text, lines.length);
        this.inflight = { text, done };
        const ok = await done;
        this.inflight = undefined;
        waiters.forEach((w) => w(ok));
      }
    } finally {
      if (!handedOn) this.writing = false;
    }
  }

  private async writeBatch(text: string, lines: number): Promise<boolean> {
    try {
      const b = Buffer.from(text);
      for (let off = 0; off < b.length; ) off += (await write(this.fd, b, off, b.length - off)).bytesWritten;
      await fdatasync(this.fd);
      this.linesSinceCompact += lines;
      if (this.linesSinceCompact > Math.max(this.compactMinLines, 2 * (this.logEntries.size + this.pendingCount()))) this.wantCompact = true;
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /**
   * Starts segment N+1 (appends go there from now on), writes the retained
   * state to snap-(N+1) in chunks (the main thread only joins lines it already
   * has), then removes what the snapshot replaces.
   */
  private async compact(): Promise<void> {
    this.wantCompact = false;
    try {
      const next = this.segIndex + 1;
      await fs.promises.mkdir(this.dir, { recursive: true });
      const newFd = await open(path.join(this.dir, name('seg', next)), 'a');
      const oldFd = this.fd;
      this.fd = newFd;
      this.segIndex = next;
      this.linesSinceCompact = 0;
      if (oldFd >= 0) await close(oldFd).catch(() => {});
      // The state now, as entry references (cheap); the lines are written below across several turns.
      const entries = mergeByN(this.logEntries.values(), this.outNormal.values(), this.outPrio.values());
      const delivered = entries.filter((e) => !e.pending).map((e) => e.id);
      const tmp = path.join(this.dir, name('snap', next) + '.tmp');
      const fd = await open(tmp, 'w');
      try {
        let chunk: string[] = [`{"b":${this.boot}}\n`];
        let size = 0;
        for (const e of entries) {
          chunk.push(e.line);
          size += e.line.length;
          if (size > 256 * 1024) {
            await writeAll(fd, chunk.join(''));
            chunk = [];
            size = 0;
          }
        }
        if (delivered.length) chunk.push(`{"a":${JSON.stringify(delivered)}}\n`);
        await writeAll(fd, chunk.join(''));
        await fsync(fd);
      } finally {
        await close(fd);
      }
      await rename(tmp, path.join(this.dir, name('snap', next)));
      const dfd = await open(this.dir, 'r');
      try {
        await fsync(dfd);
      } finally {
        await close(dfd);
      }
      for (const f of listJournal(this.dir).stale) await fs.promises.rm(path.join(this.dir, f), { force: true });
      this.log?.debug({ segment: next, events: entries.length }, 'journal compacted');
    } catch (err) {
      this.fail(err);
    }
  }

  /** Compacts now (benchmarks, tools); resolves when done. */
  async compactNow(): Promise<boolean> {
    this.wantCompact = true;
    this.kick();
    while (this.writing || this.wantCompact) await new Promise((r) => setTimeout(r, 2));
    return !this.broken;
  }

  /** The disk refused a write: carry on in memory, report it, rewrite everything once it works again. */
  private fail(err: unknown): void {
    const msg = (err as Error).message ?? String(err);
    const first = !this.broken;
    this.broken = msg;
    this.buf = []; // memory holds every retained event; the rewrite (a compaction) puts them on disk
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w(false));
    if (first) {
      this.log?.error({ err: msg, journal: this.dir }, 'journal write failed; recording in memory and retrying');
      this.report();
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.retry(), this.retryMs);
    this.retryTimer.unref();
  }

  private retry(): void {
    if (this.closed) return;
    const was = this.broken;
    this.broken = undefined;
    this.wantCompact = true;
    this.writing = true;
    void this.drain().then(() => {
      if (!this.broken && was) {
        this.log?.info({ journal: this.dir }, 'journal writes work again');
        this.report();
      }
      // records that arrived during the rewrite
      if (this.buf.length) this.kick();
    });
  }

  /** Writes what is pending and closes the file. */
  async close(): Promise<void> {
    this.closing = true;
    this.runDeferred();
    await this.flushed();
    while (this.writing) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.fd >= 0) await close(this.fd).catch(() => {});
    this.fd = -1;
  }
}

function parseEvent(line: string): StoredEvent {
  try {
    return (JSON.parse(line) as { e: StoredEvent }).e;
  } catch (err) {
    // A line damaged on disk in a way the start-up fast path did not see: sent as what it is.
    const id = FAST_EVENT.exec(line)?.[1] ?? 'unknown';
    return { id, seq: 0, at: new Date(0).toISOString(), type: 'store.damaged', data: { error: (err as Error).message } };
  }
}

async function writeAll(fd: number, text: string): Promise<void> {
  const b = Buffer.from(text);
  for (let off = 0; off < b.length; ) off += (await write(fd, b, off, b.length - off)).bytesWritten;
}

/** Merges iterators sorted by n into one array, each entry once. */
function mergeByN(...its: Iterable<Entry>[]): Entry[] {
  const arrays = its.map((it) => [...it]);
  const out: Entry[] = [];
  const idx = arrays.map(() => 0);
  let last = -1;
  for (;;) {
    let best = -1;
    for (let i = 0; i < arrays.length; i++) {
      const e = arrays[i]![idx[i]!];
      if (e && (best < 0 || e.n < arrays[best]![idx[best]!]!.n)) best = i;
    }
    if (best < 0) return out;
    const e = arrays[best]![idx[best]!++]!;
    if (e.n !== last) out.push(e);
    last = e.n;
  }
}
