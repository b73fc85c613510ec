// IO as a kiosk capability: driver, debounced inputs, press actions, lamps and
// relays; with the sim driver, its controls on the local interface.
import type { KioskCapability, KioskContext } from '../core/context.js';
import { healthOf } from '../core/capability.js';
import { startIo, type Io } from './index.js';
import type { IoDriver } from './types.js';
import { SimDriver } from './sim-driver.js';
import { addSimRoutes } from '../kiosk/local-server.js';
import type { ConfigChange } from '../core/capability.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { reconfigureIo } from './reconfigure.js';

export class IoCapability implements KioskCapability {
  readonly name = 'io';
  readonly fault = 'gpio' as const;
  readonly config = ['io'] as const;
  readonly raises = ['button.press', 'button.release', 'button.stuck', 'button.unstuck', 'button.ignored', 'input.tamper', 'input.door', 'input.power', 'input.changed', 'output.changed', 'call.requested', 'call.upgrade', 'call.cancel'] as const;
  readonly handles = ['call.state', 'relay.pulse', 'fault.raised', 'fault.cleared'] as const;
  io?: Io;
  private failure?: string;

  /** tests inject a driver built on a fake GPIO class or mock Firmata */
  constructor(private readonly driver?: IoDriver) {}

  async start(ctx: KioskContext): Promise<void> {
    try {
      this.io = await startIo({ bus: ctx.bus, config: ctx.config, faults: ctx.faults, warn: (msg) => ctx.log.warn(msg), driver: this.driver });
    } catch (err) {
      this.failure = (err as Error).message;
      throw err;
    }
    const driver = this.io.driver;
    ctx.services.ioDriver = driver;
    ctx.log.info({ driver: driver.kind }, 'buttons armed');
    if (driver instanceof SimDriver) {
      addSimRoutes(ctx.local, driver);
      driver.onOutput((output, on) => ctx.bus.emit('output.changed', { output, on }));
    }
  }

  async reconfigure({ prev, next }: ConfigChange<KioskConfig, 'io'>) {
    // Not running (no driver): only a fresh start can try the new settings.
    if (!this.io) return 'restart' as const;
    return reconfigureIo(prev.io, next.io);
  }

  async stop(): Promise<void> {
    await this.io?.stop();
  }

  health() {
    return healthOf(!!this.io, this.failure);
  }
}
