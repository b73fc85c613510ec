// The facilities console's engine at the hub (on the context as
// `hub.facilities`): the composer with provenance and validation, staged
// rollouts and their runner, the live fleet feed and reboots of kiosk boards.
import type { Logger } from '../../core/log.js';
import type { InstanceBus } from '../instance-bus.js';
import type { KioskLink } from '../kiosk-link.js';
import type { HubStorage } from '../storage/storage.js';
import { testCallCheck, type CanaryCheck } from './checks.js';
import { Composer } from './compose.js';
import { FleetFeed } from './feed.js';
import { Rollouts } from './rollouts.js';
import { Reboots } from './reboots.js';

/** Seconds a rebooting kiosk has to come back with another boot id, unless hub.json says (rebootTimeoutS). */
export const DEFAULT_REBOOT_TIMEOUT_S = 600;

export class Facilities {
  readonly composer: Composer;
  readonly rollouts: Rollouts;
  readonly feed: FleetFeed;
  readonly reboots: Reboots;
  /** canary checks besides the kiosk's own verdict; supervision switches the test call on */
  readonly checks: CanaryCheck[] = [testCallCheck];

  constructor(o: {
    storage: HubStorage;
    bus: InstanceBus;
    link: KioskLink;
    log: Logger;
    instanceId: string;
    offlineAfterMs: number;
    configDir: string;
    rolloutTickMs?: number;
    rebootTimeoutS?: number;
  }) {
    this.composer = new Composer(o.storage, o.configDir);
    this.feed = new FleetFeed(o);
    this.reboots = new Reboots({
      storage: o.storage,
      link: o.link,
      log: o.log,
      offlineAfterMs: o.offlineAfterMs,
      timeoutS: o.rebootTimeoutS ?? DEFAULT_REBOOT_TIMEOUT_S,
      changed: (kiosk) => this.feed.changedHere([kiosk]),
    });
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
    this.reboots.start();
  }

  stop(): void {
    this.reboots.stop();
    this.rollouts.stop();
    this.feed.stop();
  }
}
