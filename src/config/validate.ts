// Config validation: JSON Schema (ajv, with defaults filled in) first, then the
// few cross-references a schema cannot express (zone ids, pin clashes, board
// pin ranges). Every problem is reported with its JSON pointer; nothing is
// returned as valid unless all checks pass. The schema validators are
// compiled ahead of time by the build (src/validators), so a kiosk starts
// without loading ajv and the TypeBox schemas.
import { validator, type ValidationError, type ValidatorName } from '../validators/index.js';
import type { KioskConfig } from './schema/kiosk.js';
import type { HubConfig } from './schema/hub.js';
import { loadBoardProfile } from './boards.js';
import { namedTargetProblem } from '../intercom/targets.js';
import { rtpRangeProblem } from '../intercom/media/rtp-ports.js';
import { sipTlsPairProblem, sipTlsProblems } from '../intercom/tls-files.js';
import { DEFAULT_PAGING_USER, reservedKioskUserProblem, reservedSipUserProblem } from '../sipserver/reserved-users.js';

export interface ConfigError {
  path: string; // JSON pointer, '' for the whole document
  message: string;
}

export type Result<T> = { ok: true; value: T; errors: [] } | { ok: false; errors: ConfigError[] };

function toErrors(errors: ValidationError[] | null | undefined): ConfigError[] {
  const out: ConfigError[] = [];
  for (const e of errors ?? []) {
    // Unions report one error per branch; keep the summary, not the noise.
    if (e.keyword === 'const' && e.schemaPath.includes('anyOf')) continue;
    let path = e.instancePath;
    let message = e.message ?? 'invalid';
    if (e.keyword === 'required') path += '/' + (e.params as { missingProperty: string }).missingProperty, (message = 'is required');
    if (e.keyword === 'additionalProperties') {
      path += '/' + (e.params as { additionalProperty: string }).additionalProperty;
      message = 'is not a known setting';
    }
    if (e.keyword === 'anyOf') message = 'must be one of the allowed values';
    if (!out.some((o) => o.path === path && o.message === message)) out.push({ path, message });
  }
  return out;
}

function schemaCheck<T>(name: ValidatorName, doc: unknown): Result<T> {
  const copy = structuredClone(doc);
  const v = validator(name);
  if (v(copy)) return { ok: true, value: copy as T, errors: [] };
  return { ok: false, errors: toErrors(v.errors) };
}

function zoneIds(site: { zones: { id: string }[] }): Set<string> {
  return new Set(site.zones.map((z) => z.id));
}

export function checkKiosk(config: KioskConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  const zones = zoneIds(config.site);
  if (!zones.has(config.zone)) errors.push({ path: '/zone', message: `unknown zone "${config.zone}" (site has: ${[...zones].join(', ')})` });
  config.pa.multicast.forEach((m, i) => {
    if (m.zone && !zones.has(m.zone)) errors.push({ path: `/pa/multicast/${i}/zone`, message: `unknown zone "${m.zone}"` });
  });
  // Pins: no line used twice, and every line must exist on the board profile.
  const seen = new Map<number, string>();
  const board = config.io.board ? loadBoardProfile(config.io.board) : undefined;
  if (config.io.board && !board) errors.push({ path: '/io/board', message: `unknown board profile "${config.io.board}"` });
  for (const group of ['inputs', 'outputs'] as const) {
    for (const [name, def] of Object.entries(config.io[group])) {
      if (!def) continue;
      const path = `/io/${group}/${name}/pin`;
      const other = seen.get(def.pin);
      if (other) errors.push({ path, message: `pin ${def.pin} is already used by ${other}` });
      else seen.set(def.pin, name);
      if (board && !board.pins.includes(def.pin)) errors.push({ path, message: `pin ${def.pin} does not exist on board ${board.name}` });
    }
  }
  const rtp = rtpRangeProblem(config.sip.rtpPortRange);
  if (rtp) errors.push({ path: '/sip/rtpPortRange', message: rtp });
  const named = namedTargetProblem(config.sip);
  if (named) errors.push({ path: '/sip/targets', message: named });
  // Every call to the account's own user would be taken for a page.
  const paging = config.sip.paging;
  // Names the site SIP server routes as pages (reserved-users.ts); a kiosk's own paging user is checked just below.
  const reserved = reservedKioskUserProblem(config.sip.account.user, paging ? undefined : DEFAULT_PAGING_USER);
  if (reserved) errors.push({ path: '/sip/account/user', message: reserved });
  if (paging && paging.user.toLowerCase() === config.sip.account.user.toLowerCase()) {
    errors.push({ path: '/sip/paging/user', message: `must differ from sip.account.user ("${config.sip.account.user}"): every call to the kiosk would be a page` });
  }
  const pair = sipTlsPairProblem(config);
  if (pair) errors.push(pair);
  errors.push(...hubUrlProblems(config.hub));
  if (config.io.driver === 'johnny-five' && !config.io.serialPort) {
    errors.push({ path: '/io/serialPort', message: 'is required for the johnny-five driver' });
  }
  return errors;
}

/** The hub URLs a kiosk tries in turn: each one once (the same URL twice would only slow the failover). */
function hubUrlProblems(hub: KioskConfig['hub']): ConfigError[] {
  const norm = (u: string) => {
    try {
      return new URL(u).href;
    } catch {
      return u;
    }
  };
  const seen = new Map<string, string>([[norm(hub?.url ?? ''), '/hub/url']]);
  const out: ConfigError[] = [];
  (hub?.backupUrls ?? []).forEach((u, i) => {
    const path = `/hub/backupUrls/${i}`;
    const other = seen.get(norm(u));
    if (other) out.push({ path, message: `"${u}" is already listed at ${other}` });
    else seen.set(norm(u), path);
  });
  return out;
}

export function checkHub(config: HubConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  const zones = zoneIds(config.site);
  const ids = new Set<string>();
  config.kiosks.forEach((k, i) => {
    if (!zones.has(k.zone)) errors.push({ path: `/kiosks/${i}/zone`, message: `unknown zone "${k.zone}"` });
    if (ids.has(k.id)) errors.push({ path: `/kiosks/${i}/id`, message: `duplicate kiosk id "${k.id}"` });
    ids.add(k.id);
  });
  const desks = new Set<string>();
  config.desk?.desks.forEach((d, i) => {
    if (desks.has(d.id)) errors.push({ path: `/desk/desks/${i}/id`, message: `duplicate desk "${d.id}"` });
    desks.add(d.id);
    // Without the RPC the hub cannot set a password per session: the desk's static one is handed out.
    if (!config.desk?.sip.rpc && !d.password) errors.push({ path: `/desk/desks/${i}/password`, message: `desk "${d.id}" needs a password (or desk.sip.rpc, which gives each session its own)` });
  });
  // A group is called as sip:GROUP@domain, like a desk: the names must not clash.
  config.desk?.desks.forEach((d, i) =>
    d.groups?.forEach((g, j) => {
      if (desks.has(g)) errors.push({ path: `/desk/desks/${i}/groups/${j}`, message: `group "${g}" has the name of a desk` });
    }),
  );
  errors.push(...hubSipAccountProblems(config));
  const paZones = new Set(Object.keys(config.pa?.zones ?? {}));
  const phones = new Set<string>();
  (config.pa?.sipPhones ?? []).forEach((p, i) => {
    if (phones.has(p.user)) errors.push({ path: `/pa/sipPhones/${i}/user`, message: `duplicate SIP phone "${p.user}"` });
    phones.add(p.user);
    if (p.zones !== '*') p.zones.forEach((z, j) => !paZones.has(z) && errors.push({ path: `/pa/sipPhones/${i}/zones/${j}`, message: `no page group for zone "${z}" (pa.zones)` }));
  });
  if (phones.size && !config.pa?.gateway) errors.push({ path: '/pa/sipPhones', message: 'SIP phones page through the page gateway: configure pa.gateway' });
  const gatewayRtp = rtpRangeProblem(config.pa?.gateway?.rtpPortRange);
  if (gatewayRtp) errors.push({ path: '/pa/gateway/rtpPortRange', message: gatewayRtp });
  const answererRtp = rtpRangeProblem(config.supervision?.answerer?.rtpPortRange);
  if (answererRtp) errors.push({ path: '/supervision/answerer/rtpPortRange', message: answererRtp });
  const names = new Set<string>();
  config.users.forEach((u, i) => {
    if (names.has(u.name)) errors.push({ path: `/users/${i}/name`, message: `duplicate user "${u.name}"` });
    names.add(u.name);
  });
  return errors;
}

/**
 * The names the hub puts at the site SIP server (desks and their groups, which it also sets there over the RPC,
 * the page gateway, the test answerer's account, the desk phones that page) must not be its paging addresses
 * (reserved-users.ts). The kiosks' paging user is not refused here: the test bed's page gateway is named so.
 */
function hubSipAccountProblems(config: HubConfig): ConfigError[] {
  const names: [string, string | undefined][] = [
    ...(config.desk?.desks ?? []).flatMap((d, i): [string, string | undefined][] => [[`/desk/desks/${i}/id`, d.id], ...(d.groups ?? []).map((g, j): [string, string] => [`/desk/desks/${i}/groups/${j}`, g])]),
    ['/pa/gateway/account/user', config.pa?.gateway?.account.user],
    ...(config.pa?.sipPhones ?? []).map((p, i): [string, string] => [`/pa/sipPhones/${i}/user`, p.user]),
    ['/supervision/answerer/account/user', config.supervision?.answerer?.account?.user],
  ];
  return names.flatMap(([path, user]) => {
    const problem = user === undefined ? undefined : reservedSipUserProblem(user);
    return problem ? [{ path, message: problem }] : [];
  });
}

/**
 * `dir`: the folder of the kiosk's config file, where its relative file paths
 * point (sip.tls); given, those files are checked too. Without it (the hub
 * composing a kiosk's config) they cannot be.
 */
export function validateKioskConfig(doc: unknown, opts: { dir?: string } = {}): Result<KioskConfig> {
  const r = schemaCheck<KioskConfig>('kiosk-config', doc);
  if (!r.ok) return r;
  const errors = checkKiosk(r.value);
  if (opts.dir !== undefined) errors.push(...sipTlsProblems(r.value, opts.dir));
  return errors.length ? { ok: false, errors } : r;
}

export function validateHubConfig(doc: unknown): Result<HubConfig> {
  const r = schemaCheck<HubConfig>('hub-config', doc);
  if (!r.ok) return r;
  const errors = checkHub(r.value);
  return errors.length ? { ok: false, errors } : r;
}

export function validateKioskDefaults(doc: unknown): Result<Partial<KioskConfig>> {
  return schemaCheck<Partial<KioskConfig>>('kiosk-defaults', doc);
}

export function validateSiteFile(doc: unknown): Result<unknown> {
  return schemaCheck<unknown>('site-file', doc);
}
