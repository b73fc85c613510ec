// The hub's clock as the kiosk estimates it, NTP-style (RFC 5905's on-wire
// sample and its clock filter, much simplified): the kiosk sends `time` with
// its send time t0; the hub stamps when the frame arrived (t1) and when its
// reply left (t2); the kiosk notes when the reply arrived (t3). Then
//   offset = ((t1 - t0) + (t2 - t3)) / 2      (hub clock - kiosk clock)
//   delay  = (t3 - t0) - (t2 - t1)            (network round trip)
// and the true offset is within delay / 2 of that sample's offset whatever
// way the round trip was split. So the estimate is the offset of the sample
// with the smallest delay among the recent ones, and its uncertainty is half
// that delay. A sample whose reply waited for a busy event loop (on either
// side) has a long delay and loses; one the kiosk knows was held up by its own
// busy event loop is set aside and used only when there is nothing better.

export interface ClockSample {
  t0: number;
  t1: number;
  t2: number;
  t3: number;
  /** the longest the kiosk's event loop was blocked while this sample was in flight (ms) */
  stallMs?: number;
  /** kiosk's monotonic time (ms) when the sample was taken */
  at: number;
  /** the hub's stamps are whole ms (the welcome's time): the hub instant is in [t1, t1 + resolutionMs) */
  resolutionMs?: number;
}

export interface ClockEstimate {
  /** hub time - kiosk time (ms): hubTime = kioskTime + offsetMs */
  offsetMs: number;
  /** the true offset is within +- this (half the round trip of the sample used) */
  uncertaintyMs: number;
  /** round trip of the sample used */
  rttMs: number;
  /** clean samples in the window (busy ones not counted) */
  samples: number;
  /** how old the sample used is (ms) */
  ageMs: number;
}

export interface ClockSyncOptions {
  /** samples kept (the newest) */
  keep?: number;
  /** samples older than this are dropped (ms): the two clocks drift apart */
  maxAgeMs?: number;
  /** a sample whose flight saw the kiosk's event loop blocked longer than this is set aside (ms) */
  stallLimitMs?: number;
  /**
   * Drift allowance: a sample's delay counts as this much larger per second
   * of its age (ms/s), so a slightly longer fresh round trip can beat an old
   * short one (1 ms per 100 s: clocks 10 ppm apart move 1 ms in 100 s).
   */
  agingMsPerS?: number;
}

export class ClockSync {
  private samples: (ClockSample & { offset: number; delay: number; busy: boolean })[] = [];
  private readonly keep: number;
  private readonly maxAgeMs: number;
  private readonly stallLimitMs: number;
  private readonly agingMsPerS: number;

  constructor(o: ClockSyncOptions = {}) {
    this.keep = o.keep ?? 32;
    this.maxAgeMs = o.maxAgeMs ?? 30 * 60_000;
    this.stallLimitMs = o.stallLimitMs ?? 10;
    this.agingMsPerS = o.agingMsPerS ?? 0.01;
  }

  /** Adds a sample; false if it is impossible (negative round trip, not finite) and was ignored. */
  add(s: ClockSample): boolean {
    const res = s.resolutionMs ?? 0;
    // A coarse stamp is taken as the middle of its interval and widens the sample by the interval.
    const offset = (s.t1 - s.t0 + (s.t2 - s.t3)) / 2 + res / 2;
    const delay = s.t3 - s.t0 - (s.t2 - s.t1) + res;
    // A reply stamped before its request arrived, or a round trip below zero beyond rounding: not a sample.
    if (![offset, delay].every(Number.isFinite) || delay < -0.5 || s.t2 < s.t1) return false;
    this.samples.push({ ...s, offset, delay: Math.max(0, delay), busy: (s.stallMs ?? 0) > this.stallLimitMs });
    if (this.samples.length > this.keep) this.samples.splice(0, this.samples.length - this.keep);
    return true;
  }

  /** Forgets every sample (a new connection may take another path). */
  reset(): void {
    this.samples = [];
  }

  /** The estimate at kiosk monotonic time `now`, or undefined without a sample. */
  estimate(now: number): ClockEstimate | undefined {
    this.samples = this.samples.filter((s) => now - s.at <= this.maxAgeMs);
    const clean = this.samples.filter((s) => !s.busy);
    const pool = clean.length ? clean : this.samples;
    if (!pool.length) return undefined;
    const score = (s: { delay: number; at: number }) => s.delay + (Math.max(0, now - s.at) / 1000) * this.agingMsPerS;
    let best = pool[0]!;
    for (const s of pool) if (score(s) < score(best)) best = s;
    return { offsetMs: best.offset, uncertaintyMs: best.delay / 2, rttMs: best.delay, samples: clean.length, ageMs: now - best.at };
  }
}
