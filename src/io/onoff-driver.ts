// Linux GPIO through `onoff` (sysfs, edge interrupts via epoll). Inputs watch
// both edges; we apply activeLow ourselves so every driver reports logical
// levels the same way. Pull-ups cannot be set through sysfs: set them in the
// board's boot config (e.g. `gpio=17=ip,pu` in config.txt); the driver logs
// which lines expect one.
import type { KioskConfig } from '../config/schema/kiosk.js';
import { loadBoardProfile } from '../config/boards.js';
import { resolveGpioBase } from './gpio-base.js';
import { INPUT_NAMES, OUTPUT_NAMES, nowNs, type FaultListener, type InputListener, type InputName, type IoDriver, type OutputName } from './types.js';

/** The part of onoff's Gpio class we use (tests inject a class with this API). */
export interface GpioLike {
  readSync(): 0 | 1;
  writeSync(value: 0 | 1): void;
  watch(cb: (err: Error | null | undefined, value: 0 | 1) => void): void;
  unexport(): void;
}
export interface GpioClass {
  new (gpio: number, direction: 'in' | 'out' | 'high' | 'low', edge?: 'none' | 'rising' | 'falling' | 'both'): GpioLike;
  accessible: boolean;
}

export class OnoffDriver implements IoDriver {
  readonly kind = 'onoff' as const;
  private readonly inputs = new Map<InputName, { gpio: GpioLike; activeLow: boolean; level: boolean }>();
  private readonly outputs = new Map<OutputName, { gpio: GpioLike; activeLow: boolean; on: boolean }>();
  private readonly listeners: InputListener[] = [];
  private faultListener: FaultListener = () => {};
  /** inputs whose watch reported an error, until their next good edge */
  private readonly watchFailed = new Set<InputName>();

  constructor(
    private readonly io: KioskConfig['io'],
    private readonly Gpio?: GpioClass,
    private readonly sysfs = '/sys/class/gpio',
    private readonly warn: (msg: string) => void = () => {},
  ) {}

  async open(): Promise<void> {
    const Gpio = this.Gpio ?? ((await import('onoff')).Gpio as unknown as GpioClass);
    if (!Gpio.accessible) throw new Error('GPIO is not accessible on this machine (no /sys/class/gpio or no permission): use io.driver "sim" here');
    const base = resolveGpioBase(this.io.board ? loadBoardProfile(this.io.board) : undefined, this.sysfs);
    try {
      for (const name of INPUT_NAMES) {
        const def = this.io.inputs[name];
        if (!def) continue;
        if (def.pull !== 'none') this.warn(`${name}: GPIO ${def.pin} expects a pull-${def.pull}; set it in the boot config`);
        const gpio = new Gpio(base + def.pin, 'in', 'both');
        const line = { gpio, activeLow: def.activeLow, level: (gpio.readSync() === 1) !== def.activeLow };
        this.inputs.set(name, line);
        gpio.watch((err, value) => {
          if (err) {
            // The interrupt watch failed (epoll or reading the value file): this button may be dead.
            this.watchFailed.add(name);
            this.faultListener(`watch:${name}`, `GPIO ${def.pin} (${name}): interrupt watch error: ${err.message}`);
            return;
          }
          if (this.watchFailed.delete(name)) this.faultListener(`watch:${name}`, undefined);
          const at = nowNs();
          line.level = (value === 1) !== line.activeLow;
          for (const l of this.listeners) l(name, line.level, at);
        });
      }
      for (const name of OUTPUT_NAMES) {
        const def = this.io.outputs[name];
        if (!def) continue;
        // Start inactive: 'high'/'low' set the level atomically with the direction (no glitch).
        const gpio = new Gpio(base + def.pin, def.activeLow ? 'high' : 'low');
        this.outputs.set(name, { gpio, activeLow: def.activeLow, on: false });
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  onInput(listener: InputListener): void {
    this.listeners.push(listener);
  }

  onFault(listener: FaultListener): void {
    this.faultListener = listener;
  }

  read(input: InputName): boolean {
    return this.inputs.get(input)?.level ?? false;
  }

  write(output: OutputName, on: boolean): void {
    const o = this.outputs.get(output);
    if (!o || o.on === on) return;
    o.on = on;
    o.gpio.writeSync(on !== o.activeLow ? 1 : 0);
  }

  outputState(output: OutputName): boolean {
    return this.outputs.get(output)?.on ?? false;
  }

  async close(): Promise<void> {
    for (const o of this.outputs.values()) {
      try {
        o.gpio.writeSync(o.activeLow ? 1 : 0);
      } catch {
        /* best effort */
      }
    }
    for (const g of [...this.inputs.values(), ...this.outputs.values()]) g.gpio.unexport();
    this.inputs.clear();
    this.outputs.clear();
  }
}
