// Which page dialled on a desk SIP phone the gateway takes (pa.sipPhones).
// The site SIP server (route ZONE_PAGE in src/sipserver/kamailio-cfg.ts) sends
// sip:page-zone-ZONE@domain, sip:page-group-GROUP@domain and sip:page-all@domain
// to the gateway's registration with headers it sets after removing any the
// caller sent: X-Helppoint-Page-Zone (the zone) or X-Helppoint-Page-Group (the
// zone group, "*" for all-call), and P-Asserted-Identity (the authenticated
// caller). They mean something only because of how the call arrived, so that
// is checked first: from the SIP server over the gateway's registration flow.
// Then the asserted caller must be listed for every zone it would page: a
// group only if it may page each zone of the group, all-call only with "*".
// Everything else is refused.
import type { PaConfig } from './config.js';
import { GROUP_PAGE_HEADER, ZONE_PAGE_HEADER } from '../../sipserver/kamailio-cfg.js';

export const ZONE_HEADER = ZONE_PAGE_HEADER;
export const GROUP_HEADER = GROUP_PAGE_HEADER;
/** The group header's value for all-call (sip:page-all@domain): not a group id (ids are lower-case letters, digits, - and _). */
export const ALL_ZONES = '*';
const PAI = 'p-asserted-identity';

type Phone = PaConfig['sipPhones'][number];
type Refusal = { ok: false; reason: string; by?: string };
export type PhonePage = { ok: true; zone: string; by: string; emergency: boolean } | (Refusal & { zone?: string });
export type PhoneGroupPage = { ok: true; group: string; zones: string[]; by: string; emergency: boolean } | (Refusal & { group?: string });
/** The site's zones and the PA zone groups each belongs to (site config zones[].groups). */
export type SiteZones = readonly { id: string; groups?: string[] }[];

/** The user of a single SIP URI in P-Asserted-Identity at `domain` ("<sip:user@domain>", with or without a display name). */
export function assertedUser(value: string | undefined, domain: string): string | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(?:"[^"]*"\s*)?<sip:([^@:;<>,\s]+)@([^:;<>,\s]+)(?::\d+)?(?:;[^<>,]*)?>\s*$/i.exec(value) ?? /^\s*sip:([^@:;<>,\s]+)@([^:;<>,\s]+)(?::\d+)?\s*$/i.exec(value);
  if (!m || m[2]!.toLowerCase() !== domain.toLowerCase()) return undefined;
  return m[1];
}

/** Who is calling, trusted by arrival and the SIP server's assertion: a listed phone, or why not. */
function caller(headers: Record<string, string>, o: { fromServer: boolean; domain: string; phones: PaConfig['sipPhones'] }): { phone: Phone; by: string } | Refusal {
  if (!o.fromServer) return { ok: false, reason: 'not from the site SIP server over the gateway\'s registration' };
  const user = assertedUser(headers[PAI], o.domain);
  if (!user) return { ok: false, reason: `no single caller asserted by the SIP server in the domain ${o.domain} (P-Asserted-Identity: ${headers[PAI] ?? 'none'})` };
  const by = `sip:${user}`;
  const phone = o.phones.find((p) => p.user === user);
  if (!phone) return { ok: false, reason: `${by} is not a paging phone (pa.sipPhones)`, by };
  return { phone, by };
}

export function phonePage(
  headers: Record<string, string>,
  o: { fromServer: boolean; domain: string; phones: PaConfig['sipPhones']; zones: PaConfig['zones'] },
): PhonePage {
  const zone = headers[ZONE_HEADER.toLowerCase()]?.trim() ?? '';
  const c = caller(headers, o);
  if ('ok' in c) return { ...c, zone };
  const { phone, by } = c;
  if (!Object.hasOwn(o.zones, zone)) return { ok: false, reason: `no page group for zone "${zone}" (pa.zones)`, zone, by };
  if (phone.zones !== '*' && !phone.zones.includes(zone)) return { ok: false, reason: `${by} may not page zone "${zone}"`, zone, by };
  return { ok: true, zone, by, emergency: phone.emergency };
}

/** A zone group's page (or all-call, group "*"): every zone of it, if the phone may page each one. */
export function phoneGroupPage(
  headers: Record<string, string>,
  o: { fromServer: boolean; domain: string; phones: PaConfig['sipPhones']; zones: PaConfig['zones']; site: SiteZones },
): PhoneGroupPage {
  const group = headers[GROUP_HEADER.toLowerCase()]?.trim() ?? '';
  const c = caller(headers, o);
  if ('ok' in c) return { ...c, group };
  const { phone, by } = c;
  if (headers[ZONE_HEADER.toLowerCase()] !== undefined) return { ok: false, reason: 'both a zone and a zone group named', group, by };
  if (group === ALL_ZONES) {
    if (phone.zones !== '*') return { ok: false, reason: `${by} may not page all zones (only a phone with zones "*" may)`, group, by };
    // Every zone of the site that has a page group, in the site's order: what the console offers.
    const zones = o.site.map((z) => z.id).filter((z) => Object.hasOwn(o.zones, z));
    if (!zones.length) return { ok: false, reason: 'no zone has a page group (pa.zones)', group, by };
    return { ok: true, group, zones, by, emergency: phone.emergency };
  }
  const zones = o.site.filter((z) => z.groups?.includes(group)).map((z) => z.id);
  if (!group || !zones.length) return { ok: false, reason: `no zone group "${group}" (groups of the site's zones)`, group, by };
  // A group with a zone that cannot be paged is refused whole, as a console's page naming that zone is.
  const noPa = zones.filter((z) => !Object.hasOwn(o.zones, z));
  if (noPa.length) return { ok: false, reason: `zone group "${group}": no page group for zone(s) ${noPa.join(', ')} (pa.zones)`, group, by };
  const notOwn = phone.zones === '*' ? [] : zones.filter((z) => !(phone.zones as string[]).includes(z));
  if (notOwn.length) return { ok: false, reason: `${by} may not page zone group "${group}": not its zone(s) ${notOwn.join(', ')}`, group, by };
  return { ok: true, group, zones, by, emergency: phone.emergency };
}
