// The young generation emptied while the kiosk is idle, so a press finds room
// in it. The kiosk runs with a 1 MB semi-space (--max-semi-space-size=1, for
// its idle memory), and a call's set-up allocates a good part of that: with
// the nursery as full as chance left it, 9 set-ups in 10 paid a scavenge
// (0.6-1.4 ms on the main thread, with V8's helper threads competing for the
// same two cores). A scavenge of a nursery of garbage, taken after a call and
// every few seconds while idle when the nursery is over a quarter full, costs
// the same work the next allocation would have caused, only earlier, off the
// set-up path. Nothing waits for it; without --expose-gc reachable it does nothing.
import v8 from 'node:v8';
import vm from 'node:vm';

type MinorGc = (o: { type: 'minor'; execution: 'sync' }) => void;
let gcFn: MinorGc | null | undefined;

/** V8's gc(), reached once (the warm-up's way: the flag set at run time, gc() taken from a new context). */
function minorGc(): MinorGc | null {
  if (gcFn !== undefined) return gcFn;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as MinorGc | undefined;
    gcFn = typeof gc === 'function' ? gc : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** How full the young generation is (0..1), from V8's heap space statistics. */
export function nurseryFill(): number {
  const s = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  return s && s.space_size > 0 ? s.space_used_size / s.space_size : 0;
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
}

export class IdleScavenger {
  private timer?: NodeJS.Timeout;
  private after?: NodeJS.Timeout;
  readonly stats = { checks: 0, scavenges: 0 };

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

  /** Scavenges now if idle and the nursery is over the threshold; true when it did. */
  check(): boolean {
    this.stats.checks++;
    if (this.opts.busy()) return false;
    if (nurseryFill() < (this.opts.threshold ?? 0.25)) return false;
    const gc = minorGc();
    if (!gc) return false;
    gc({ type: 'minor', execution: 'sync' });
    this.stats.scavenges++;
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.after);
    this.timer = undefined;
  }
}
