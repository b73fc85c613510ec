// Kiosk events received by the hub, kept in a crash-safe lowdb file and
// de-duplicated by event id, so a kiosk re-sending after a lost ack (or after
// a hub restart) never creates a second copy.
import path from 'node:path';
import { Low } from 'lowdb';
import { SafeJsonFile } from '../store/safe-json-file.js';

export interface HubEvent {
  id: string;
  kiosk: string;
  seq: number;
  at: string;
  type: string;
  data: unknown;
  receivedAt: string;
}

const KEEP = 200_000;

export class HubEventStore {
  private readonly db: Low<{ events: HubEvent[] }>;
  private readonly ids = new Set<string>();

  constructor(dataDir: string) {
    const file = new SafeJsonFile<{ events: HubEvent[] }>(path.join(dataDir, 'events.json'));
    this.db = new Low(file, { events: [] });
    this.db.data = file.readSync() ?? { events: [] };
    for (const e of this.db.data.events) this.ids.add(e.id);
  }

  /** Stores new events; returns how many were new. Persisted before it resolves. */
  async add(kiosk: string, batch: Omit<HubEvent, 'kiosk' | 'receivedAt'>[]): Promise<number> {
    const receivedAt = new Date().toISOString();
    let added = 0;
    for (const e of batch) {
      if (this.ids.has(e.id)) continue;
      this.ids.add(e.id);
      this.db.data.events.push({ ...e, kiosk, receivedAt });
      added++;
    }
    if (this.db.data.events.length > KEEP) {
      for (const old of this.db.data.events.splice(0, this.db.data.events.length - KEEP)) this.ids.delete(old.id);
    }
    if (added) await this.db.write();
    return added;
  }

  list(kiosk?: string): HubEvent[] {
    return kiosk ? this.db.data.events.filter((e) => e.kiosk === kiosk) : this.db.data.events;
  }
}
