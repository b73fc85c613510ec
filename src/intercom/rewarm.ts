// The call set-up path warmed again after a major garbage collection.
//
// The warm-up at start (warm-up.ts) compiles the set-up path, but a major GC
// drops the optimised code of functions no live closure holds, and sip.js
// makes many of its per-call functions anew for each transaction and parse
// (its parser's rule functions among them). The next call then runs them
// interpreted and re-optimises them while it sets up. Measured with the
// in-process loopback call: 11-19 ms of CPU warm, 54-164 ms right after one
// major GC, 9-19 ms when the loopback call ran once in between. A kiosk idle
// for hours goes through major GCs, so without this its next alarm call would
// pay for them.
//
// So after a major GC (perf_hooks 'gc' entries), once the kiosk is idle (no
// call, no ringing, no open alarm) for a moment, the in-process loopback call
// runs again: nothing leaves the process, a few milliseconds of CPU, in steps
// a press can come between. At most once per minInterval.
import { PerformanceObserver, constants } from 'node:perf_hooks';

export interface RewarmOptions {
  /** the warm-up to run again (the loopback call) */
  run: () => Promise<unknown>;
  /** true while a call is set up or in progress, or an alarm is open: the re-warm waits */
  busy: () => boolean;
  /** after the GC (and after being busy), how long to wait before running */
  delayMs?: number;
  /** at most one re-warm per this interval */
  minIntervalMs?: number;
  onDone?: (r: { ms: number } | { err: Error }) => void;
}

export class GcRewarm {
  private observer?: PerformanceObserver;
  private timer?: NodeJS.Timeout;
  private running = false;
  private last = -Infinity;
  private stopped = false;
  /** major GCs seen and re-warms run (tests, health) */
  readonly stats = { majorGcs: 0, runs: 0, failed: 0 };

  constructor(private readonly o: RewarmOptions) {}

  start(): void {
    if (this.stopped || this.observer) return;
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (((e as { detail?: { kind?: number } }).detail?.kind ?? 0) & constants.NODE_PERFORMANCE_GC_MAJOR) {
          this.stats.majorGcs++;
          this.due();
        }
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** A major GC happened (also called by tests): a re-warm is due once idle. */
  due(): void {
    if (this.stopped || this.timer || this.running) return;
    const wait = Math.max(this.o.delayMs ?? 1000, this.last + (this.o.minIntervalMs ?? 60_000) - performance.now());
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    if (this.o.busy()) return this.due(); // after the call: calls keep the path warm, but a GC may come at its end
    this.running = true;
    this.last = performance.now();
    const t0 = performance.now();
    try {
      await this.o.run();
      this.stats.runs++;
      this.o.onDone?.({ ms: performance.now() - t0 });
    } catch (err) {
      this.stats.failed++;
      this.o.onDone?.({ err: err as Error });
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.observer?.disconnect();
  }
}
