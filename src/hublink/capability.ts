// The hub link as a kiosk capability, started last: the kiosk works fully
// without it. It forwards recorded events, applies configs and turns commands
// into bus events.
import type { KioskCapability, KioskContext } from '../core/context.js';
import type { ConfigChange } from '../core/capability.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { HubLink } from './client.js';
import { reconfigureHubLink } from './reconfigure.js';

export class HubLinkCapability implements KioskCapability {
  readonly name = 'hublink';
  readonly fault = 'hub-link' as const;
  readonly config = ['hub'] as const;
  readonly raises = ['hub.link', 'hub.clock', 'pa.play', 'pa.stop', 'pa.page', 'screen.message', 'incident.mode', 'drill.mode', 'crowd.level', 'relay.pulse', 'call.requested', 'desk.info', 'chat.fromDesk'] as const;
  readonly handles = [] as const;
  link?: HubLink;
  private ctx?: KioskContext;
  private offlineTimer?: NodeJS.Timeout;
  private offline = false;

  async start(ctx: KioskContext): Promise<void> {
    this.ctx = ctx;
    const hub = ctx.config().hub;
    if (!hub) return;
    // No link for hub.offlineFaultS (since start-up or since it dropped): the hub-link fault, until it is back.
    // A move to a backup instance is not a fault: the timer clears at the welcome from any of the URLs.
    const watch = (reason: string) => {
      clearTimeout(this.offlineTimer);
      if (!ctx.config().hub) return; // no hub configured (any more): nothing to miss
      const since = new Date().toISOString();
      const s = ctx.config().hub?.offlineFaultS ?? 60;
      this.offlineTimer = setTimeout(() => {
        this.offline = true;
        const h = ctx.config().hub;
        const urls = h ? [h.url, ...(h.backupUrls ?? [])].join(', ') : '';
        ctx.faults.raise('hub-link', `no link to the hub ${urls} since ${since} (${reason}); events wait in the outbox`);
      }, s * 1000);
      this.offlineTimer.unref();
    };
    ctx.bus.on('hub.link', (e) => {
      if (!e.connected) return watch(e.reason ? `dropped: ${e.reason}` : 'dropped');
      clearTimeout(this.offlineTimer);
      if (this.offline) ctx.faults.clear('hub-link');
      this.offline = false;
    });
    watch('not connected since start-up');
    this.link = this.open(hub);
  }

  open(hub: NonNullable<KioskConfig['hub']>): HubLink {
    const ctx = this.ctx!;
    const link = new HubLink({ ...hub }, () => ctx.status(), ctx.bus, ctx.log, ctx.store, (version, doc) => ctx.applyConfig(version, doc), () => ctx.services.alarm, () => ctx.services.supervision, (by) => ctx.restart(by), (by) => ctx.reboot(by));
    link.start();
    return link;
  }

  async reconfigure({ prev, next }: ConfigChange<KioskConfig, 'hub'>) {
    if (!this.ctx) return 'restart' as const;
    return reconfigureHubLink(this, prev.hub, next.hub);
  }

  /** events were recorded: send them if connected */
  flush(): void {
    this.link?.flush();
  }

  async stop(): Promise<void> {
    clearTimeout(this.offlineTimer);
    this.link?.stop();
  }

  health() {
    if (!this.link) return { state: 'stopped' as const, detail: 'no hub configured' };
    // The hub clock estimate: offset (hub - kiosk, ms) and its uncertainty (half the round trip of the sample used).
    const e = this.link.clockEstimate();
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const clock = e && { offsetMs: r2(e.offsetMs), uncertaintyMs: r2(e.uncertaintyMs), samples: e.samples, ageS: Math.round(e.ageMs / 1000) };
    // hub: the instance it is on (connected) or trying next (not connected)
    const hub = this.link.hubUrl;
    return this.link.connected
      ? { state: 'running' as const, hub, ...(clock ? { clock } : {}) }
      : { state: 'degraded' as const, detail: 'not connected to the hub', hub, ...(clock ? { clock } : {}) };
  }
}
