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
    const localWall = hubMs - this.offsetMs;
    return performance.now() + (localWall - Date.now());
  }
}
