// The hub link takes a new `hub` section live: a new URL, token or pinned
// certificate means a new connection (made once the reply to the push that
// brought it has left on the old one); new public-key pins (a key rotation
// announced ahead), a new heartbeat period and new backup URLs (when the
// instance in use is still listed) apply to the running link; no
// hub section stops the link. Whether the new link connects is judged by the
// config's health window, which rolls back if it does not.
import type { Reconfigured } from '../core/capability.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { sameAt } from '../kiosk/config-diff.js';
import type { HubLink } from './client.js';

type Hub = KioskConfig['hub'];

export interface LinkHolder {
  link?: HubLink;
  /** a link for this hub section, started */
  open(hub: NonNullable<Hub>): HubLink;
}

export function reconfigureHubLink(holder: LinkHolder, prev: Hub, next: Hub): Reconfigured {
  const old = holder.link;
  const connection = ['url', 'token', 'pinSha256'] as const;
  // The link may be on a backup: it stays there as long as that URL is still one of the list.
  const stays = !old?.connected || !next || [next.url, ...(next.backupUrls ?? [])].includes(old.hubUrl);
  if (old && prev && next && sameAt(prev, next, connection) && stays) {
    if (sameAt(prev, next, ['pins', 'heartbeatS', 'backupUrls'])) return 'unchanged';
    old.updateConfig({ ...next }); // pins for the next connection; this one was already verified
    if (prev.heartbeatS !== next.heartbeatS) old.setHeartbeat(next.heartbeatS);
    return 'applied';
  }
  if (!old && !next) return 'unchanged';
  const swap = () => {
    old?.stop();
    holder.link = next ? holder.open(next) : undefined;
  };
  if (old) old.afterReply(swap);
  else swap();
  return 'applied';
}
