// One harness per IO driver, so the same behaviour tests run against each:
// sim (in-process levels), onoff (a class with onoff's Gpio API standing in
// for the kernel) and johnny-five (real johnny-five objects over mock-firmata,
// whose digitalRead we wire so a test can deliver pin levels).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { Firmata } from 'mock-firmata';
import { Bus } from '../../src/core/bus.js';
import { Faults } from '../../src/health/faults.js';
import { startIo, type Io } from '../../src/io/index.js';
import { SimDriver } from '../../src/io/sim-driver.js';
import { OnoffDriver, type GpioClass, type GpioLike } from '../../src/io/onoff-driver.js';
import { JohnnyFiveDriver } from '../../src/io/johnny-five-driver.js';
import type { KioskConfig } from '../../src/config/schema/kiosk.js';
import type { InputName, IoDriver, OutputName } from '../../src/io/types.js';
import { readMerged } from '../../src/config/load.js';
import { validateKioskConfig } from '../../src/config/validate.js';
import { EXAMPLE } from '../helpers/processes.js';

export type DriverKind = 'sim' | 'onoff' | 'johnny-five';

export function testConfig(io: Partial<KioskConfig['io']> = {}): KioskConfig {
  const m = readMerged(path.join(EXAMPLE, 'kiosks/conc-north.json'));
  if (!m.ok) throw new Error('example config');
  const v = validateKioskConfig(m.value);
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  const c = v.value;
  delete c.hub;
  c.io = { ...c.io, ...io };
  return c;
}

/** Physical pin levels as the hardware would see them. */
export interface Rig {
  kind: DriverKind;
  bus: Bus;
  io: Io;
  config: KioskConfig;
  /** Drive an input to a logical level (the rig applies activeLow like real wiring). */
  set(input: InputName, active: boolean): void;
  /** Logical level of an output as last written to the pins. */
  output(name: OutputName): boolean;
  /** Every write to an output: [name, on, ms timestamp]. */
  writes: [OutputName, boolean, number][];
  events: { event: string; payload: any }[];
  /** onoff: the kernel's interrupt watch reports an error on an input line */
  watchError?(input: InputName, message: string): void;
  /** johnny-five: the mock Firmata IO under the board */
  firmata?: InstanceType<typeof Firmata>;
  stop(): Promise<void>;
}

class FakeGpio implements GpioLike {
  static accessible = true;
  static lines = new Map<number, FakeGpio>();
  /** level of each input line at rest (a pull-up holds an active-low button high) */
  static idle = new Map<number, 0 | 1>();
  value: 0 | 1 = 0;
  watchers: ((err: Error | null, v: 0 | 1) => void)[] = [];
  writes: [0 | 1, number][] = [];
  constructor(
    readonly gpio: number,
    readonly direction: string,
  ) {
    this.value = direction === 'high' ? 1 : direction === 'in' ? (FakeGpio.idle.get(gpio) ?? 0) : 0;
    FakeGpio.lines.set(gpio, this);
  }
  readSync() {
    return this.value;
  }
  writeSync(v: 0 | 1) {
    this.value = v;
    this.writes.push([v, performance.now()]);
  }
  watch(cb: (err: Error | null, v: 0 | 1) => void) {
    this.watchers.push(cb);
  }
  unexport() {}
  /** the kernel reporting an edge */
  edge(v: 0 | 1) {
    this.value = v;
    for (const w of this.watchers) w(null, v);
  }
}

export async function makeRig(kind: DriverKind, io: Partial<KioskConfig['io']> = {}): Promise<Rig> {
  const config = testConfig({ board: kind === 'johnny-five' ? 'arduino-uno' : kind === 'onoff' ? 'rpi4' : undefined, ...io });
  const bus = new Bus((e, err) => {
    throw new Error(`listener for ${e} failed: ${err}`);
  });
  const events: Rig['events'] = [];
  bus.onAny((e) => events.push(e));
  const writes: Rig['writes'] = [];
  const pinOf = (name: InputName | OutputName) => (config.io.inputs as any)[name]?.pin ?? (config.io.outputs as any)[name]?.pin;
  const lowOf = (name: InputName | OutputName) => (config.io.inputs as any)[name]?.activeLow ?? (config.io.outputs as any)[name]?.activeLow;
  let driver: IoDriver;
  let set: Rig['set'];
  let output: Rig['output'];
  let extra: Partial<Rig> = {};

  if (kind === 'sim') {
    const sim = new SimDriver(config.io);
    sim.onOutput((o, on) => writes.push([o, on, performance.now()]));
    driver = sim;
    set = (i, a) => sim.setInput(i, a);
    output = (o) => sim.outputState(o);
  } else if (kind === 'onoff') {
    // A fake sysfs tree: the Pi 4 chip at base 512, as on current kernels.
    const sysfs = mkdtempSync(path.join(process.env.HP_TEST_TMP ?? os.tmpdir(), 'sysfs-'));
    mkdirSync(path.join(sysfs, 'gpiochip512'));
    writeFileSync(path.join(sysfs, 'gpiochip512/label'), 'pinctrl-bcm2711\n');
    writeFileSync(path.join(sysfs, 'gpiochip512/base'), '512\n');
    FakeGpio.lines.clear();
    for (const [, def] of Object.entries(config.io.inputs)) if (def) FakeGpio.idle.set(512 + def.pin, def.activeLow ? 1 : 0);
    driver = new OnoffDriver(config.io, FakeGpio as unknown as GpioClass, sysfs);
    const line = (n: InputName | OutputName) => FakeGpio.lines.get(512 + pinOf(n))!;
    set = (i, a) => line(i).edge(a !== lowOf(i) ? 1 : 0);
    extra = { watchError: (i, message) => line(i).watchers.forEach((w) => w(new Error(message), 0)) };
    output = (o) => (line(o).value === 1) !== lowOf(o);
    const origWrite = FakeGpio.prototype.writeSync;
    FakeGpio.prototype.writeSync = function (this: FakeGpio, v: 0 | 1) {
      origWrite.call(this, v);
      for (const name of Object.keys(config.io.outputs) as OutputName[]) {
        if (512 + pinOf(name) === this.gpio) writes.push([name, (v === 1) !== lowOf(name), performance.now()]);
      }
    };
  } else {
    const firmata = new Firmata();
    const readers = new Map<number, ((v: number) => void)[]>();
    const levels = new Map<number, number>();
    firmata.digitalRead = (pin: number, cb: (v: number) => void) => {
      readers.set(pin, [...(readers.get(pin) ?? []), cb]);
    };
    const record = (pin: number, value: number) => {
      value = value > 0 ? 1 : 0;
      levels.set(pin, value);
      for (const name of Object.keys(config.io.outputs) as OutputName[]) {
        if (pinOf(name) === pin) writes.push([name, (value === 1) !== lowOf(name), performance.now()]);
      }
    };
    // Led writes PWM-capable pins with analogWrite, the others with digitalWrite.
    firmata.digitalWrite = record;
    (firmata as unknown as { analogWrite: typeof record }).analogWrite = record;
    driver = new JohnnyFiveDriver(config.io, firmata as never, 15_000, 200);
    extra = { firmata };
    setImmediate(() => {
      firmata.emit('connect');
      firmata.emit('ready');
    });
    set = (i, a) => {
      const v = a !== lowOf(i) ? 1 : 0;
      for (const cb of readers.get(pinOf(i)) ?? []) cb(v);
    };
    output = (o) => ((levels.get(pinOf(o)) ?? 0) === 1) !== lowOf(o);
  }
  const faults = new Faults(bus);
  const ioCap = await startIo({ bus, config: () => config, faults, driver });
  return { kind, bus, io: ioCap, config, set, output, writes, events, ...extra, stop: () => ioCap.stop() };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
