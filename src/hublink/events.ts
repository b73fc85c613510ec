export interface HubLinkEvents {
  'hub.link': { connected: boolean; reason?: string };
  'hub.command': { id: string; command: string; args: unknown };
  'config.applied': { version: number; source: 'file' | 'store' | 'hub' | 'lkg' };
}
