import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary folder under the run's test folder. */
export function tmpDir(prefix = 'hp-'): string {
  return mkdtempSync(path.join(process.env.HP_TEST_TMP ?? os.tmpdir(), prefix));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until fn returns a truthy value or the time is up; a throw counts as "not yet". */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 5000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined;
    let last: unknown;
    try {
      v = await fn();
    } catch (err) {
      last = err;
    }
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(20);
  }
}
