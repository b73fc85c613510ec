// The hub link as a kiosk capability, started last: the kiosk works fully
// without it. It forwards recorded events, applies configs and turns commands
// into bus events.
import type { KioskCapability, KioskContext } from '../core/context.js';
import { HubLink } from './client.js';

export class HubLinkCapability implements KioskCapability {
  readonly name = 'hublink';
  readonly fault = 'hub-link' as const;
  readonly config = ['hub'] as const;
  readonly raises = ['hub.link', 'hub.clock', 'pa.play', 'pa.stop', 'pa.page', 'screen.message', 'incident.mode', 'drill.mode', 'crowd.level', 'relay.pulse', 'call.requested', 'desk.info', 'chat.fromDesk'] as const;
  readonly handles = [] as const;
  link?: HubLink;

  async start(ctx: KioskContext): Promise<void> {
    const hub = ctx.config().hub;
    if (!hub) return;
    this.link = new HubLink(hub, () => ctx.status(), ctx.bus, ctx.log, ctx.store, (version, doc) => ctx.applyConfig(version, doc));
    this.link.start();
  }

  /** events were recorded: send them if connected */
  flush(): void {
    this.link?.flush();
  }

  async stop(): Promise<void> {
    this.link?.stop();
  }

  health() {
    if (!this.link) return { state: 'stopped' as const, detail: 'no hub configured' };
    return this.link.connected ? { state: 'running' as const } : { state: 'degraded' as const, detail: 'not connected to the hub' };
  }
}
