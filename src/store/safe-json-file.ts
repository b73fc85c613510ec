// A lowdb adapter that never leaves an unreadable file behind, even when the
// process is killed mid-write or the file was truncated by a power cut:
//   write: data -> FILE.tmp (fsync) -> FILE becomes FILE.bak -> FILE.tmp becomes FILE
//   read:  FILE, else FILE.tmp (complete, because it was fsynced before the
//          renames), else FILE.bak. An unreadable FILE is moved aside to
//          FILE.corrupt-<time> and reported, never silently overwritten.
// Writes are serialised; a write while one is running coalesces to the latest.
import { promises as fs, readFileSync, renameSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Adapter } from 'lowdb';

export interface RecoveryReport {
  file: string;
  usedCopy: 'main' | 'tmp' | 'bak' | 'none';
  corruptMovedTo?: string;
  reason?: string;
}

function tryParse<T>(file: string): { ok: true; data: T } | { ok: false; missing: boolean; reason: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, missing, reason: (err as Error).message };
  }
  try {
    return { ok: true, data: JSON.parse(text) as T };
  } catch (err) {
    return { ok: false, missing: false, reason: `${text.length === 0 ? 'empty file' : 'truncated or corrupt JSON'}: ${(err as Error).message}` };
  }
}

export class SafeJsonFile<T> implements Adapter<T> {
  readonly tmp: string;
  readonly bak: string;
  lastRecovery?: RecoveryReport;
  private writing: Promise<void> | null = null;
  private pending: { data: T; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } | null = null;

  constructor(
    readonly file: string,
    private readonly onRecovery: (r: RecoveryReport) => void = () => {},
  ) {
    this.tmp = file + '.tmp';
    this.bak = file + '.bak';
  }

  /** Synchronous so that start-up can read the store before anything else runs. */
  readSync(): T | null {
    const main = tryParse<T>(this.file);
    if (main.ok) return main.data;
    const report: RecoveryReport = { file: this.file, usedCopy: 'none', reason: main.reason };
    if (!main.missing) {
      const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      try {
        renameSync(this.file, aside);
        report.corruptMovedTo = aside;
      } catch {
        /* read-only disk: leave it, still fall back below */
      }
    }
    for (const [copy, file] of [['tmp', this.tmp], ['bak', this.bak]] as const) {
      const r = tryParse<T>(file);
      if (r.ok) {
        report.usedCopy = copy;
        // The recovered copy becomes the file again, so a later crash while
        // rewriting the temp copy cannot take us back to an older version.
        if (copy === 'tmp') {
          try {
            renameSync(this.tmp, this.file);
          } catch {
            /* read-only disk: still use it */
          }
        }
        this.lastRecovery = report;
        this.onRecovery(report);
        return r.data;
      }
    }
    // A plain first start (nothing ever written) is not a recovery.
    if (!main.missing || existsSync(this.tmp) || existsSync(this.bak)) {
      this.lastRecovery = report;
      this.onRecovery(report);
    }
    return null;
  }

  async read(): Promise<T | null> {
    return this.readSync();
  }

  write(data: T): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending) this.pending.data = data;
      else this.pending = { data, waiters: [] };
      this.pending.waiters.push({ resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const { data, waiters } = this.pending;
      this.pending = null;
      try {
        await this.writeNow(data);
        waiters.forEach((w) => w.resolve());
      } catch (err) {
        waiters.forEach((w) => w.reject(err));
      }
    }
    this.writing = null;
  }

  private async writeNow(data: T): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const fh = await fs.open(this.tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(data));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await fs.rename(this.file, this.bak);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await fs.rename(this.tmp, this.file);
    // Make the renames durable too.
    const dir = await fs.open(path.dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
