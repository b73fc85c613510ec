// Hunt-list entries by name: `desk:NAME` and `group:NAME` are the site's
// console desks (a dispatcher logged in to the hub) and groups of them. The
// kiosk calls them as sip:NAME@ its site SIP server and nothing more: whether
// a desk is logged in, and which desks of a group ring, is known there
// (Kamailio's location table and its group list, docs/desk-media.md), so the
// alarm's path needs no hub. A desk or group with nobody logged in is refused
// at once (404) and the hunt moves on.
import type { KioskConfig } from '../config/schema/kiosk.js';

const NAMED = /^(desk|group):(.+)$/;

/** The SIP URI the kiosk calls for a hunt-list entry (SIP URIs are returned as they are). */
export function resolveTarget(uri: string, sip: Pick<KioskConfig['sip'], 'account' | 'deskServer'>): string {
  const m = NAMED.exec(uri);
  if (!m) return uri;
  const host = sip.deskServer ?? sip.account.domain;
  return `sip:${m[2]}@${host}`;
}

/** Why a config's named targets cannot be reached (for validation), or undefined. */
export function namedTargetProblem(sip: Pick<KioskConfig['sip'], 'account' | 'deskServer' | 'targets'>): string | undefined {
  const named = [...sip.targets.emergency, ...sip.targets.information].some((t) => NAMED.test(t.uri));
  if (named && !sip.deskServer && sip.account.registrars.length === 0) return 'desk: and group: targets need a registrar (sip.account.registrars) or sip.deskServer: the site SIP server that knows the desks';
  return undefined;
}
