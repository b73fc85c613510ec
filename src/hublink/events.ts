export interface HubLinkEvents {
  'hub.link': { connected: boolean; reason?: string };
  'hub.command': { id: string; command: string; args: unknown };
  /** Estimated hub clock: hubTime = Date.now() + offsetMs (for synchronised PA start). */
  'hub.clock': { offsetMs: number; rttMs: number };
  'config.applied': { version: number; source: 'file' | 'store' | 'hub' | 'lkg' };
}
