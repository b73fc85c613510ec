// The fleet registry: what the hub knows of every kiosk right now.
import type { HubConfig } from '../config/schema/hub.js';

export interface KioskStatus {
  id: string;
  zone: string;
  location: HubConfig['kiosks'][number]['location'];
  online: boolean;
  lastSeen?: number;
  firmware?: string;
  configVersion?: number;
  faults: { code: string; detail: string }[];
  outbox: number;
}

export class FleetRegistry {
  readonly kiosks = new Map<string, KioskStatus>();

  constructor(config: HubConfig) {
    for (const k of config.kiosks) this.kiosks.set(k.id, { id: k.id, zone: k.zone, location: k.location, online: false, faults: [], outbox: 0 });
  }

  seen(id: string, patch: Partial<KioskStatus> = {}): void {
    const k = this.kiosks.get(id);
    if (!k) return;
    Object.assign(k, patch, { online: true, lastSeen: Date.now() });
  }

  offline(id: string): void {
    const k = this.kiosks.get(id);
    if (k) k.online = false;
  }

  /** Marks kiosks silent for longer than limitMs offline; returns their ids. */
  sweep(limitMs: number, now = Date.now()): string[] {
    const gone: string[] = [];
    for (const k of this.kiosks.values()) {
      if (k.online && (k.lastSeen ?? 0) < now - limitMs) {
        k.online = false;
        gone.push(k.id);
      }
    }
    return gone;
  }

  list(): KioskStatus[] {
    return [...this.kiosks.values()];
  }
}
