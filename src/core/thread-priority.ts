// V8's background threads (its optimising compiler and the garbage collector's
// helpers) at a lower scheduling priority than the main thread, which runs the
// emergency path. On a 2-core board a set-up shares the CPUs with these
// threads, the SIP peer and anything else: in the slowest alarm set-ups of the
// intercom bench the main thread waited 2-6 ms runnable, and V8's compiler,
// still optimising code between calls, ran inside 5 of the 8 slowest. At a
// higher nice value the scheduler lets the main thread preempt them.
//
// Node 20 names none of its threads, and libuv's worker pool (file I/O,
// fdatasync of the journal, DNS) must keep the main thread's priority: slowed,
// it delayed the INVITE. So the pool's threads are found first (the native
// addon's threadPoolIds), and every other thread of the process but the main
// one is reniced: V8's platform workers, its delayed-task thread and the
// inspector's signal thread. Threads made later inherit their creator's
// priority, so nothing else changes. Linux applies setpriority() to one
// thread when given a thread id.
import os from 'node:os';
import { readdirSync } from 'node:fs';
import type { Logger } from './log.js';
import { dspOrUndefined } from '../dsp/native.js';

export type ThreadPriorityResult =
  | { applied: true; /** the main thread's nice value */ main: number; nice: number; threads: number[]; pool: number[] }
  | { applied: false; reason: string };

/** How long the pool's threads may take to meet; a busy pool means try later rather than guess. */
const MEET_MS = 100;

/** libuv's pool size, read as libuv reads UV_THREADPOOL_SIZE: 4 when unset, atoi() of it, 0 -> 1, at most 1024. */
export function poolSize(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.UV_THREADPOOL_SIZE;
  if (v === undefined) return 4;
  const n = parseInt(v, 10) || 0;
  if (n === 0) return 1;
  // libuv keeps it in an unsigned int: a negative value is huge, then capped
  return n < 0 || n > 1024 ? 1024 : n;
}

/**
 * Renices the process's threads other than the main one and the libuv pool `steps` nice values below the main
 * thread (the systemd unit starts the kiosk at Nice=-5: its background threads go to 5); nothing when it cannot tell
 * them apart.
 */
export async function lowerBackgroundThreads(steps: number): Promise<ThreadPriorityResult> {
  if (steps === 0) return { applied: false, reason: 'off (scheduling.backgroundNiceSteps 0)' };
  if (process.platform !== 'linux') return { applied: false, reason: `not on Linux (${process.platform})` };
  const dsp = dspOrUndefined();
  if (!dsp?.threadPoolIds) return { applied: false, reason: 'the native addon (helppoint-dsp) is not available to find the worker pool' };
  const size = poolSize();
  const pool = await dsp.threadPoolIds(size, MEET_MS);
  if (new Set(pool).size !== size) return { applied: false, reason: `the worker pool was busy (${new Set(pool).size} of ${size} threads met)` };
  const main = os.getPriority(process.pid);
  const nice = Math.min(19, main + steps);
  if (nice === main) return { applied: false, reason: `the main thread already runs at nice ${main}, the lowest priority` };
  const threads: number[] = [];
  for (const name of readdirSync('/proc/self/task')) {
    const tid = Number(name);
    if (tid === process.pid || pool.includes(tid)) continue;
    try {
      os.setPriority(tid, nice);
      threads.push(tid);
    } catch {
      // the thread ended between the listing and here
    }
  }
  return { applied: true, main, nice, threads, pool };
}

/**
 * For the kiosk command before the kiosk starts (not for a kiosk inside another program, a test runner or the
 * demo, whose threads are not the kiosk's to change): one retry 10 s later when the pool was busy; the outcome is
 * one log line. `first` settles once the first attempt is over: finding the pool's threads holds every one of them
 * for a moment, so the kiosk waits for it before it starts: done after the start, it ran into a press made right
 * after "ready" (the intercom bench's first call read its 200 OK 2.6-3.7 ms late and its fdatasync took 5 ms).
 */
export function lowerBackgroundThreadsSoon(steps: number, log: Logger, retryMs = 10_000): { stop(): void; first: Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  const attempt = (last: boolean) =>
    lowerBackgroundThreads(steps).then(
      (r) => {
        if (r.applied) log.info({ main: r.main, nice: r.nice, threads: r.threads.length }, 'V8 background threads run at a lower priority than the main thread');
        else if (!last && r.reason.startsWith('the worker pool was busy')) timer = setTimeout(() => void attempt(true), retryMs).unref();
        else if (steps !== 0) log.warn({ reason: r.reason }, 'V8 background threads keep the main thread\'s priority');
      },
      (err: Error) => log.warn({ err: err.message }, 'V8 background threads keep the main thread\'s priority'),
    );
  const first = attempt(false);
  return { stop: () => clearTimeout(timer), first };
}
