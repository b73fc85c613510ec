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
    /** a write the hardware refused (undefined: writes work again) */
    private readonly onFault: (detail: string | undefined) => void = () => {},
  ) {
    bus.on('relay.pulse', (e) => this.pulse(e.ms ?? this.io().doorPulseMs));
  }

  pulse(ms: number): void {
    if (!this.io().outputs.doorRelay) return;
    clearTimeout(this.timer);
    this.set(true);
    // The pulse end runs in a timer: it must not be able to throw (an uncaught exception ends the process).
    this.timer = setTimeout(() => this.set(false), Math.max(10, Math.min(ms, 60_000)));
  }

  private set(on: boolean): void {
    try {
      this.driver.write('doorRelay', on);
      this.onFault(undefined);
    } catch (err) {
      this.onFault(`door relay could not be switched ${on ? 'on' : 'off'}: ${(err as Error).message}`);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.set(false);
  }
}
