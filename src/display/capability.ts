// The touch screen as a kiosk capability. It only listens and emits intents;
// the call path never awaits it. A broken screen config costs the screen (a
// fault), never the kiosk.
import type { KioskCapability, KioskContext } from '../core/context.js';
import { healthOf } from '../core/capability.js';
import { attachScreen, type Screen } from './screen.js';
import type { ConfigChange } from '../core/capability.js';
import type { ConfigSection } from '../core/context.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { reconfigureDisplay } from './reconfigure.js';
import { canonical } from '../kiosk/config-diff.js';

const canonicalDiffers = (a: unknown, b: unknown) => canonical(a) !== canonical(b);

export class DisplayCapability implements KioskCapability {
  readonly name = 'display';
  readonly fault = 'screen' as const;
  /** site, zone, location: the names and the map the screen shows */
  readonly config = ['display', 'site', 'zone', 'location'] as const;
  readonly raises = ['call.requested', 'call.cancel', 'call.upgrade', 'call.answer', 'chat.toDesk', 'screen.language', 'call.rating', 'screen.heartbeat'] as const;
  readonly handles = ['alarm.state', 'call.state', 'pa.started', 'pa.ended', 'desk.info', 'chat.fromDesk', 'screen.message', 'incident.mode', 'drill.mode', 'crowd.level', 'fault.raised', 'fault.cleared'] as const;
  screen?: Screen;
  private failure?: string;

  async start(ctx: KioskContext): Promise<void> {
    const config = ctx.config();
    if (!config.display.enabled) return;
    try {
      this.screen = attachScreen({ bus: ctx.bus, log: ctx.log, config, configDir: ctx.configDir, local: ctx.local, faults: ctx.faults, alarm: () => ctx.services.alarm?.current() });
    } catch (err) {
      this.failure = `screen: ${(err as Error).message}`;
      throw new Error(this.failure);
    }
  }

  async reconfigure({ prev, next }: ConfigChange<KioskConfig, ConfigSection>) {
    // A screen that failed at start gets a fresh start on the new config.
    if (this.failure) return canonicalDiffers(prev.display, next.display) ? ('restart' as const) : ('unchanged' as const);
    return reconfigureDisplay(this.screen, prev, next);
  }

  async stop(): Promise<void> {
    this.screen?.close();
  }

  health() {
    return healthOf(!!this.screen, this.failure);
  }
}
