// Picks the IO driver named in the config. Real-hardware drivers are loaded
// lazily so a laptop or CI never needs their native modules.
import type { KioskConfig } from '../config/schema/kiosk.js';
import type { IoDriver } from './types.js';
import { SimDriver } from './sim-driver.js';

export async function createDriver(io: KioskConfig['io']): Promise<IoDriver> {
  switch (io.driver) {
    case 'sim':
      return new SimDriver(io);
    case 'onoff':
    case 'johnny-five':
      throw new Error(`io driver "${io.driver}" is not available in this build yet; use "sim"`);
  }
}
