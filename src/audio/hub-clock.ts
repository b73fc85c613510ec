// The hub's clock as this kiosk estimates it (from `hub.clock` events of the
// hub link: hubTime = Date.now() + offsetMs). Converts a start instant on the
// hub's clock to this process's performance.now() timeline, which the mixer
// runs on, so that every kiosk in a zone starts the same sample together.
import type { Bus } from '../core/bus.js';

export class HubClock {
  offsetMs = 0;
  rttMs = Infinity;
  known = false;

  constructor(bus?: Bus) {
    bus?.on('hub.clock', (e) => this.update(e.offsetMs, e.rttMs));
  }

  update(offsetMs: number, rttMs: number): void {
    if (!Number.isFinite(offsetMs)) return;
    this.offsetMs = offsetMs;
    this.rttMs = rttMs;
    this.known = true;
  }

  /** performance.now() instant of a hub-clock instant (ms since epoch). */
  toPerf(hubMs: number): number {
    return hubMs - this.offsetMs - wallMinusPerf();
  }
}

/**
 * Date.now() - performance.now(), to a few microseconds. Date.now() counts
 * whole milliseconds, so it is read at the instant it ticks over, bracketed
 * by performance.now() readings; a reading spoilt by preemption (wide
 * bracket) is thrown away. Costs a busy wait of a few ms, paid once per
 * synchronised start: a plain reading would put kiosks up to 1 ms apart.
 */
let lastGood: { value: number; at: number } | undefined;

export function wallMinusPerf(): number {
  // A good reading is reused for 100 ms (even an NTP slew at its 500 ppm limit moves the clocks 50 us apart in
  // that time): conversions close together agree, and a loaded machine that spoils every reading of the busy
  // wait below falls back on a recent good one (up to 2 s: 1 ms at the slew limit) before a whole-ms one.
  const now = performance.now();
  if (lastGood && now - lastGood.at < 100) return lastGood.value;
  const good: number[] = [];
  const limit = performance.now() + 20; // a stuck wall clock must not hang the process
  let before = performance.now();
  let last = Date.now();
  while (good.length < 3 && performance.now() < limit) {
    const a = performance.now();
    const d = Date.now();
    const b = performance.now();
    if (d !== last && b - before < 0.02) good.push(d - (before + b) / 2);
    last = d;
    before = a;
  }
  if (!good.length) return lastGood && now - lastGood.at < 2000 ? lastGood.value : Date.now() - performance.now();
  good.sort((x, y) => x - y);
  lastGood = { value: good[Math.floor(good.length / 2)]!, at: performance.now() };
  return lastGood.value;
}
