// Picks the IO driver named in the config. Real-hardware drivers load their
// native modules lazily, so a laptop or CI never needs them.
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { IoDriver } from './types.js';
import { SimDriver } from './sim-driver.js';

export async function createDriver(io: KioskConfig['io'], warn: (msg: string) => void = () => {}): Promise<IoDriver> {
  switch (io.driver) {
    case 'sim':
      return new SimDriver(io);
    case 'onoff': {
      const { OnoffDriver } = await import('./onoff-driver.js');
      return new OnoffDriver(io, undefined, undefined, warn);
    }
    case 'johnny-five': {
      const { JohnnyFiveDriver } = await import('./johnny-five-driver.js');
      return new JohnnyFiveDriver(io);
    }
  }
}
