// The young generation emptied while the kiosk is idle, so a press finds room
// in it. The kiosk runs with a 1 MB semi-space (--max-semi-space-size=1, for
// its idle memory), and a call's set-up allocates a good part of that: with
// the nursery as full as chance left it, 9 set-ups in 10 paid a scavenge
// (0.6-1.4 ms on the main thread, with V8's helper threads competing for the
// same two cores). A scavenge of a nursery of garbage, taken after a call and
// every few seconds while idle when the nursery is over a quarter full, costs
// the same work the next allocation would have caused, only earlier, off the
// set-up path. Nothing waits for it; without --expose-gc reachable it does nothing.
//
// The old generation likewise: V8 starts a major GC (incremental marking, its
// concurrent marker threads on the other core, then a 4-5 ms pause on the main
// thread about 10 ms later) once the old generation has grown by a set amount
// since the last one, and the scavenges that promote into it come in a call,
// 10-20 ms after the press. So after a fixed number of calls (44-59 in the
// intercom benchmark, about 180 KB promoted per call) one call's set-up shared
// the CPUs with a major GC. When idle and the old generation has grown by
// majorGrowthBytes since the last major GC (V8's own trigger, for a heap of
// this size, is at least 8 MB of growth less a nursery), a major GC is taken now instead.
import v8 from 'node:v8';
import vm from 'node:vm';

/** gc(): a full mark-compact without options (Node 20's V8 scavenges for {type: 'major'}); a scavenge for {type: 'minor'} */
type Gc = (o?: { type: 'minor'; execution: 'sync' }) => void;
let gcFn: Gc | null | undefined;

/** V8's gc(), reached once (the warm-up's way: the flag set at run time, gc() taken from a new context). */
function gcNow(): Gc | null {
  if (gcFn !== undefined) return gcFn;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as Gc | undefined;
    gcFn = typeof gc === 'function' ? (gc as Gc) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** How full the young generation is (0..1), from V8's heap space statistics. */
export function nurseryFill(): number {
  return heapNow().nursery;
}

/** The young generation's fill and the old generation's used bytes (every space but the young ones), in one read. */
export function heapNow(): { nursery: number; old: number } {
  let nursery = 0;
  let old = 0;
  for (const x of v8.getHeapSpaceStatistics()) {
    if (x.space_name === 'new_space') nursery = x.space_size > 0 ? x.space_used_size / x.space_size : 0;
    else if (x.space_name !== 'new_large_object_space') old += x.space_used_size;
  }
  return { nursery, old };
}

export interface IdleScavengeOptions {
  /** a call is active or ringing, or a set-up is under way: nothing is done then */
  busy: () => boolean;
  /** after a call ended (ms) */
  afterCallMs?: number;
  /** the idle check's period (ms) */
  everyMs?: number;
  /** scavenge when the nursery is fuller than this */
  threshold?: number;
  /** a major GC when the old generation grew by this many bytes since the last one (default 3 MB); 0: never */
  majorGrowthBytes?: number;
}

const MAJOR_GROWTH_BYTES = 3 * 1024 * 1024;

export class IdleScavenger {
  private timer?: NodeJS.Timeout;
  private after?: NodeJS.Timeout;
  readonly stats = { checks: 0, scavenges: 0, majors: 0 };
  /**
   * The old generation's size after the last major GC, as far as seen here: set after our own, and lowered to any
   * smaller size a check finds (a major GC of V8's own in between). Unknown until the first check, which takes the
   * size then as the base: at worst a major GC comes earlier than needed.
   */
  private oldBase?: number;

  constructor(private readonly opts: IdleScavengeOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.opts.everyMs ?? 2000);
    this.timer.unref();
  }

  /** A call ended: once the kiosk is idle a moment later, the nursery is emptied. */
  callEnded(): void {
    clearTimeout(this.after);
    this.after = setTimeout(() => this.check(), this.opts.afterCallMs ?? 100);
    this.after.unref();
  }

  /**
   * If idle: a major GC when the old generation has grown by majorGrowthBytes since the last one, else a scavenge
   * when the nursery is over the threshold; true when it collected (a major GC empties the nursery too).
   */
  check(): boolean {
    this.stats.checks++;
    if (this.opts.busy()) return false;
    const heap = heapNow();
    this.oldBase = Math.min(this.oldBase ?? heap.old, heap.old);
    const growth = this.opts.majorGrowthBytes ?? MAJOR_GROWTH_BYTES;
    const major = growth > 0 && heap.old - this.oldBase >= growth;
    if (!major && heap.nursery < (this.opts.threshold ?? 0.25)) return false;
    const gc = gcNow();
    if (!gc) return false;
    if (major) {
      gc();
      this.oldBase = heapNow().old;
      this.stats.majors++;
    } else {
      gc({ type: 'minor', execution: 'sync' });
      this.stats.scavenges++;
    }
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.after);
    this.timer = undefined;
  }
}
