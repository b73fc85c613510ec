// Which zone page dialled on a desk SIP phone the gateway takes (pa.sipPhones).
// The site SIP server (route ZONE_PAGE in src/sipserver/kamailio-cfg.ts) sends
// sip:page-zone-ZONE@domain to the gateway's registration with two headers it
// sets after removing any the caller sent: X-Helppoint-Page-Zone (the zone)
// and P-Asserted-Identity (the authenticated caller). They mean something only
// because of how the call arrived, so that is checked first: from the SIP
// server over the gateway's registration flow. Then the asserted caller must
// be listed for the zone. Everything else is refused.
import type { PaConfig } from './config.js';
import { ZONE_PAGE_HEADER } from '../../sipserver/kamailio-cfg.js';

export const ZONE_HEADER = ZONE_PAGE_HEADER;
const PAI = 'p-asserted-identity';

export type PhonePage = { ok: true; zone: string; by: string; emergency: boolean } | { ok: false; reason: string; zone?: string; by?: string };

/** The user of a single SIP URI in P-Asserted-Identity at `domain` ("<sip:user@domain>", with or without a display name). */
export function assertedUser(value: string | undefined, domain: string): string | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(?:"[^"]*"\s*)?<sip:([^@:;<>,\s]+)@([^:;<>,\s]+)(?::\d+)?(?:;[^<>,]*)?>\s*$/i.exec(value) ?? /^\s*sip:([^@:;<>,\s]+)@([^:;<>,\s]+)(?::\d+)?\s*$/i.exec(value);
  if (!m || m[2]!.toLowerCase() !== domain.toLowerCase()) return undefined;
  return m[1];
}

export function phonePage(
  headers: Record<string, string>,
  o: { fromServer: boolean; domain: string; phones: PaConfig['sipPhones']; zones: PaConfig['zones'] },
): PhonePage {
  const zone = headers[ZONE_HEADER.toLowerCase()]?.trim() ?? '';
  if (!o.fromServer) return { ok: false, reason: 'not from the site SIP server over the gateway\'s registration', zone };
  const user = assertedUser(headers[PAI], o.domain);
  if (!user) return { ok: false, reason: `no single caller asserted by the SIP server in the domain ${o.domain} (P-Asserted-Identity: ${headers[PAI] ?? 'none'})`, zone };
  const by = `sip:${user}`;
  const phone = o.phones.find((p) => p.user === user);
  if (!phone) return { ok: false, reason: `${by} is not a paging phone (pa.sipPhones)`, zone, by };
  if (!Object.hasOwn(o.zones, zone)) return { ok: false, reason: `no page group for zone "${zone}" (pa.zones)`, zone, by };
  if (phone.zones !== '*' && !phone.zones.includes(zone)) return { ok: false, reason: `${by} may not page zone "${zone}"`, zone, by };
  return { ok: true, zone, by, emergency: phone.emergency };
}
