// Turns raw driver levels into debounced inputs, button presses and state
// events. Debounce: an edge counts once the level has stayed put for
// debounceMs (default 30 ms), so a bouncing contact yields exactly one press
// and a spike shorter than the window yields none. A button held longer than
// io.stuckMs is stuck: a fault is raised and it is ignored until released,
// while every other input keeps working.
import type { Bus } from '../core/bus.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { InputName, IoDriver } from './types.js';
import type { ButtonName } from './events.js';
import { setupTrace } from '../core/setup-trace.js';

const BUTTONS: readonly InputName[] = ['emergency', 'information', 'cancel'];

interface LineState {
  stable: boolean;
  pending?: NodeJS.Timeout;
  firstEdgeNs: bigint;
  since: number;
  stuckTimer?: NodeJS.Timeout;
  stuck: boolean;
}

export class Inputs {
  private readonly lines = new Map<InputName, LineState>();

  constructor(
    private readonly driver: IoDriver,
    private readonly io: () => KioskConfig['io'],
    private readonly bus: Bus,
  ) {}

  arm(): void {
    for (const name of Object.keys(this.io().inputs) as InputName[]) {
      this.lines.set(name, { stable: this.driver.read(name), firstEdgeNs: 0n, since: Date.now(), stuck: false });
    }
    this.driver.onInput((name, active, atNs) => this.edge(name, active, atNs));
  }

  isStuck(button: ButtonName): boolean {
    return this.lines.get(button)?.stuck ?? false;
  }

  private edge(name: InputName, active: boolean, atNs: bigint): void {
    const line = this.lines.get(name);
    const def = this.io().inputs[name];
    if (!line || !def) return;
    if (!line.pending) line.firstEdgeNs = atNs;
    clearTimeout(line.pending);
    line.pending = undefined;
    if (active === line.stable) return; // bounced back within the window
    const settle = () => {
      line.pending = undefined;
      if (this.driver.read(name) !== active) return;
      line.stable = active;
      this.accept(name, active, line);
    };
    if (def.debounceMs === 0) settle();
    else line.pending = setTimeout(settle, def.debounceMs);
  }

  private accept(name: InputName, active: boolean, line: LineState): void {
    const at = new Date().toISOString();
    this.bus.emit('input.changed', { input: name, active });
    if (BUTTONS.includes(name)) return this.button(name as ButtonName, active, line, at);
    if (name === 'tamper') this.bus.emit('input.tamper', { active, at });
    else if (name === 'door') this.bus.emit('input.door', { open: active, at });
    else if (name === 'powerFail') this.bus.emit('input.power', { onBattery: active, at });
    else if (name === 'reset') this.bus.emit('input.reset', { active, at });
  }

  private button(button: ButtonName, active: boolean, line: LineState, at: string): void {
    if (active) {
      line.since = Date.now();
      clearTimeout(line.stuckTimer);
      line.stuckTimer = setTimeout(() => {
        line.stuck = true;
        this.bus.emit('button.stuck', { button, heldMs: Date.now() - line.since });
      }, this.io().stuckMs);
      if (button === 'emergency') setupTrace.mark('press');
      this.bus.emit('button.press', { button, edgeNs: line.firstEdgeNs, at });
      return;
    }
    clearTimeout(line.stuckTimer);
    const heldMs = Date.now() - line.since;
    if (line.stuck) {
      line.stuck = false;
      this.bus.emit('button.unstuck', { button });
    }
    this.bus.emit('button.release', { button, heldMs });
  }

  disarm(): void {
    for (const l of this.lines.values()) {
      clearTimeout(l.pending);
      clearTimeout(l.stuckTimer);
    }
  }
}
