// The facilities console's engine at the hub (on the context as
// `hub.facilities`): the composer with provenance and validation, staged
// rollouts and their runner, and the live fleet feed.
import type { Logger } from '../../core/log.js';
import type { InstanceBus } from '../instance-bus.js';
import type { KioskLink } from '../kiosk-link.js';
import type { HubStorage } from '../storage/storage.js';
import { testCallCheck, type CanaryCheck } from './checks.js';
import { Composer } from './compose.js';
import { FleetFeed } from './feed.js';
import { Rollouts } from './rollouts.js';

export class Facilities {
  readonly composer: Composer;
  readonly rollouts: Rollouts;
  readonly feed: FleetFeed;
  /** canary checks besides the kiosk's own verdict; supervision switches the test call on */
  readonly checks: CanaryCheck[] = [testCallCheck];

  constructor(o: { storage: HubStorage; bus: InstanceBus; link: KioskLink; log: Logger; instanceId: string; offlineAfterMs: number; configDir: string; rolloutTickMs?: number }) {
    this.composer = new Composer(o.storage, o.configDir);
    this.feed = new FleetFeed(o);
    this.rollouts = new Rollouts({
      storage: o.storage,
      bus: o.bus,
      composer: this.composer,
      log: o.log,
      instanceId: o.instanceId,
      offlineAfterMs: o.offlineAfterMs,
      localOnline: () => o.link.localView(),
      checks: this.checks,
      tickMs: o.rolloutTickMs,
      onChange: (id) => this.feed.rolloutChanged(id),
    });
  }

  start(): void {
    this.feed.start();
    this.rollouts.start();
  }

  stop(): void {
    this.rollouts.stop();
    this.feed.stop();
  }
}
