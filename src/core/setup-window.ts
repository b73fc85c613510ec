// The set-up window of an alarm call: from the moment the intercom places the
// INVITE until the call's first RTP packet leaves (or the call ends, or
// SETUP_WINDOW_MAX_MS passed). Work that can wait a moment without losing
// anything waits until the window closes, so the press-to-audio path does not
// share the CPU, the thread pool and the disk with it: the event journal's
// batched write and fdatasync (its records are in memory and in the outbox at
// once; only their way to disk waits), and the local interface's HTTP reply to
// the request that pressed the button (the press is already done). Nothing here is on the emergency path
// itself: a window that nobody closes closes itself after the bound.
//
// One per kiosk process, in the kiosk's context (ctx.setup).

/** A window never lasts longer than this, whatever the call does (a desk that rings for seconds). */
export const SETUP_WINDOW_MAX_MS = 250;

/** What deferrable work sees of the window. */
export interface SetupDefer {
  /** an alarm call is being set up now */
  readonly active: boolean;
  /** runs `fn` once no set-up window is open (at once when none is) */
  afterSetup(fn: () => void): void;
}

export class SetupWindow implements SetupDefer {
  private open = 0;
  private waiting: (() => void)[] = [];
  /** windows opened and how many closed by the bound instead of their call (health, tests) */
  readonly stats = { opened: 0, timedOut: 0, deferred: 0 };

  constructor(private readonly maxMs = SETUP_WINDOW_MAX_MS) {}

  get active(): boolean {
    return this.open > 0;
  }

  /** Opens a window; the returned function closes it (once; later calls do nothing). */
  begin(): () => void {
    this.open++;
    this.stats.opened++;
    let closed = false;
    const timer = setTimeout(() => {
      this.stats.timedOut++;
      close();
    }, this.maxMs);
    timer.unref?.();
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      this.open--;
      if (this.open === 0) this.runWaiting();
    };
    return close;
  }

  afterSetup(fn: () => void): void {
    if (!this.active) return fn();
    this.stats.deferred++;
    this.waiting.push(fn);
  }

  /**
   * Runs every waiting task now, open window or not: the process is about to
   * stop or die, and what waited (the set-up's log lines, the journal's next
   * batch) must not be left behind.
   */
  drain(): void {
    const fns = this.waiting;
    this.waiting = [];
    for (const fn of fns) {
      try {
        fn();
      } catch {
        /* each is best effort on the way out */
      }
    }
  }

  private runWaiting(): void {
    // After the set-up's own callbacks of this turn (the first RTP packet's send, the ACK): a macrotask later.
    setImmediate(() => {
      if (this.active) return; // a new window opened meanwhile: they wait for that one
      const fns = this.waiting;
      this.waiting = [];
      for (const fn of fns) fn();
    });
  }
}
