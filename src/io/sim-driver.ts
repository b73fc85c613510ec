// The simulated driver: a first-class driver for laptops, the demo and tests.
// Levels are set from outside the process through the kiosk's local HTTP
// interface (/sim, see kiosk/local-server.ts) or in-process via setInput().
import type { KioskConfig } from '../config/schema/kiosk.js';
import { INPUT_NAMES, OUTPUT_NAMES, nowNs, type InputListener, type InputName, type IoDriver, type OutputName } from './types.js';

export class SimDriver implements IoDriver {
  readonly kind = 'sim' as const;
  private readonly inputs = new Map<InputName, boolean>();
  private readonly outputs = new Map<OutputName, boolean>();
  private readonly listeners: InputListener[] = [];
  private readonly outputListeners: ((o: OutputName, on: boolean) => void)[] = [];
  /** outputs stuck at a level (a burnt lamp, a welded relay): writes do not move them (POST /sim/stuck) */
  private readonly stuck = new Map<OutputName, boolean>();

  constructor(readonly io: KioskConfig['io']) {
    for (const n of INPUT_NAMES) if (io.inputs[n]) this.inputs.set(n, false);
    for (const n of OUTPUT_NAMES) if (io.outputs[n]) this.outputs.set(n, false);
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  onInput(listener: InputListener): void {
    this.listeners.push(listener);
  }

  onOutput(listener: (o: OutputName, on: boolean) => void): void {
    this.outputListeners.push(listener);
  }

  hasInput(name: string): name is InputName {
    return this.inputs.has(name as InputName);
  }

  /** Drive an input as the outside world would. Repeated equal levels are still delivered (like a bouncing contact). */
  setInput(name: InputName, active: boolean): void {
    if (!this.inputs.has(name)) throw new Error(`input "${name}" is not in this kiosk's pin map`);
    this.inputs.set(name, active);
    const at = nowNs();
    for (const l of this.listeners) l(name, active, at);
  }

  read(input: InputName): boolean {
    return this.inputs.get(input) ?? false;
  }

  /** Sticks an output at a level (undefined: works again). */
  setStuck(output: OutputName, level: boolean | undefined): void {
    if (!this.outputs.has(output)) throw new Error(`output "${output}" is not in this kiosk's pin map`);
    if (level === undefined) this.stuck.delete(output);
    else {
      this.stuck.set(output, level);
      this.outputs.set(output, level);
    }
  }

  write(output: OutputName, on: boolean): void {
    if (!this.outputs.has(output)) return;
    if (this.stuck.has(output)) return;
    if (this.outputs.get(output) === on) return;
    this.outputs.set(output, on);
    for (const l of this.outputListeners) l(output, on);
  }

  outputState(output: OutputName): boolean {
    return this.outputs.get(output) ?? false;
  }

  snapshot(): { inputs: Record<string, boolean>; outputs: Record<string, boolean> } {
    return { inputs: Object.fromEntries(this.inputs), outputs: Object.fromEntries(this.outputs) };
  }
}
