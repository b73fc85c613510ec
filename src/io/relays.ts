// Relay pulses (door or gate release) on request. The pulse length is timed
// against the monotonic clock; a new pulse while one runs extends it.
import type { Bus } from '../core/bus.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { IoDriver } from './types.js';

export class Relays {
  private timer?: NodeJS.Timeout;

  constructor(
    bus: Bus,
    private readonly driver: IoDriver,
    private readonly io: () => KioskConfig['io'],
  ) {
    bus.on('relay.pulse', (e) => this.pulse(e.ms ?? this.io().doorPulseMs));
  }

  pulse(ms: number): void {
    if (!this.io().outputs.doorRelay) return;
    clearTimeout(this.timer);
    this.driver.write('doorRelay', true);
    this.timer = setTimeout(() => this.driver.write('doorRelay', false), Math.max(10, Math.min(ms, 60_000)));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.driver.write('doorRelay', false);
  }
}
