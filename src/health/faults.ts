// The kiosk's current faults, derived from events. The fault lamp is on while
// any fault is active; the hub sees the list in telemetry.
import type { Bus } from '../core/bus.js';
import type { FaultCode } from './events.js';

export class Faults {
  private readonly active = new Map<FaultCode, string>();

  constructor(private readonly bus: Bus) {
    bus.on('button.stuck', (e) => this.raise('button-stuck', `${e.button} held for ${e.heldMs} ms`));
    bus.on('button.unstuck', () => this.clear('button-stuck'));
    bus.on('input.tamper', (e) => (e.active ? this.raise('tamper', 'housing opened') : this.clear('tamper')));
    bus.on('input.power', (e) => (e.onBattery ? this.raise('power', 'mains lost, on battery') : this.clear('power')));
    bus.on('audio.fault', (e) => (e.active ? this.raise('audio', e.reason) : this.clear('audio')));
    bus.on('audio.handsFree', (e) => (e.problem ? this.raise('echo-canceller', e.problem) : this.clear('echo-canceller')));
  }

  raise(code: FaultCode, detail: string): void {
    if (this.active.get(code) === detail) return;
    this.active.set(code, detail);
    this.bus.emit('fault.raised', { code, detail });
  }

  clear(code: FaultCode): void {
    if (!this.active.delete(code)) return;
    this.bus.emit('fault.cleared', { code });
  }

  list(): { code: FaultCode; detail: string }[] {
    return [...this.active].map(([code, detail]) => ({ code, detail }));
  }
}
