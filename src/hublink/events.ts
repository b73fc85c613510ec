export interface HubLinkEvents {
  'hub.link': { connected: boolean; reason?: string; /** the hub instance connected to or lost */ url?: string };
  'hub.command': { id: string; command: string; args: unknown };
  /**
   * Estimated hub clock: hubTime = Date.now() + offsetMs (for synchronised PA
   * start); the true offset is within +- uncertaintyMs (half the round trip of
   * the sample used: src/hublink/clock-sync.ts).
   */
  'hub.clock': { offsetMs: number; rttMs: number; uncertaintyMs?: number };
  /** A config is running; from the hub or a rollback, with how each changed section took effect. */
  'config.applied': { version: number; source: 'file' | 'store' | 'hub' | 'lkg'; live?: string[]; deferred?: string[]; restart?: string[] };
  /** The config on trial passed its health window: it is now last-known-good. */
  'config.healthy': { version: number; windowS: number };
  /** The config on trial failed (why); the kiosk went back to last-known-good version `to`. */
  'config.rollback': { version: number; to: number; reason: string; at: string };
}
