// The IO capability as the kiosk sees it: driver, debounced inputs, press
// actions, lamps and relays, all on the bus.
import type { Bus } from '../core/bus.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { Faults } from '../health/faults.js';
import { createDriver } from './drivers.js';
import { Inputs } from './inputs.js';
import { ButtonActions } from './actions.js';
import { Relays } from './relays.js';
import { wireLamps } from './lamps.js';
import type { IoDriver } from './types.js';
import { IoFaults } from './io-faults.js';

export interface Io {
  driver: IoDriver;
  inputs: Inputs;
  actions: ButtonActions;
  relays: Relays;
  stop(): Promise<void>;
}

export async function startIo(opts: {
  bus: Bus;
  config: () => KioskConfig;
  faults: Faults;
  warn?: (msg: string) => void;
  driver?: IoDriver; // tests inject a driver built on a fake GPIO class or mock Firmata
}): Promise<Io> {
  const { bus, config, faults } = opts;
  const io = () => config().io;
  const driver = opts.driver ?? (await createDriver(io(), opts.warn));
  const hw = new IoFaults(faults, opts.warn);
  driver.onFault?.((key, detail) => hw.report(key, detail));
  await driver.open();
  wireLamps(bus, driver, faults);
  const relays = new Relays(bus, driver, io, (detail) => hw.report('doorRelay', detail));
  const actions = new ButtonActions(bus, config);
  const inputs = new Inputs(driver, io, bus);
  inputs.arm();
  return {
    driver,
    inputs,
    actions,
    relays,
    async stop() {
      inputs.disarm();
      actions.stop();
      relays.stop();
      await driver.close();
    },
  };
}
