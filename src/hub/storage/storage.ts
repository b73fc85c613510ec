// HubStorage: everything the hub keeps, behind one interface, in SQL that
// runs unchanged on PGlite and PostgreSQL. Plugins never write SQL; they call
// these methods. Batch writes use unnest() so one statement carries many rows.
import { randomBytes } from 'node:crypto';
import type { Db, Sql } from './db.js';
import { migrate } from './migrate.js';
import { FacilitiesStorage } from './facilities.js';
import { PaStorage } from './pa.js';
import { DeskStorage } from './desk.js';
import { SupervisionStorage } from './supervision.js';
import { RebootStorage } from './reboots.js';

export type Role = 'dispatcher' | 'facilities' | 'admin';
export const ROLES: Role[] = ['dispatcher', 'facilities', 'admin'];
export type LayerScope = 'defaults' | 'site' | 'zone' | 'kiosk';
export const LAYER_SCOPES: LayerScope[] = ['defaults', 'site', 'zone', 'kiosk'];
/** The layer versions a kiosk config version was made of (kept with it). */
export interface LayerRef {
  defaults: number;
  site: number;
  zone: number;
  kiosk: number;
  zoneId: string;
}

export interface KioskRow {
  id: string;
  zone: string;
  location: unknown;
  baseConfig: string | null;
  revoked: boolean;
  enrolledAt: string;
  enrolledBy: string;
  tokenIssuedAt: string | null;
  instanceId: string | null;
  lastSeen: number | null;
  firmware: string | null;
  configVersion: number;
  faults: { code: string; detail: string }[];
  outbox: number;
}

export interface SessionRow {
  user: string;
  role: Role;
  csrf: string;
  expiresAt: number;
  rights: Right[];
}

export interface EventRow {
  serial: number;
  id: string;
  kiosk: string;
  seq: number;
  at: string;
  type: string;
  data: unknown;
  receivedAt: string;
}

export interface IncomingEvent {
  id: string;
  seq: number;
  at: string;
  type: string;
  data: unknown;
}

export interface EventFilter {
  kiosk?: string;
  zone?: string;
  type?: string;
  from?: string;
  to?: string;
  after?: number;
  limit?: number;
}

export interface AuditEntry {
  user: string;
  role: string;
  action: string;
  target?: string;
  result: string;
  detail?: unknown;
  address?: string;
}

export interface PresenceUpdate {
  id: string;
  lastSeen: number;
  firmware?: string;
  configVersion?: number;
  faults?: { code: string; detail: string }[];
  outbox?: number;
}

const iso = (d: unknown): string => (d instanceof Date ? d.toISOString() : String(d));
const ms = (d: unknown): number | null => (d == null ? null : d instanceof Date ? d.getTime() : Date.parse(String(d)));
const json = (v: unknown) => JSON.stringify(v ?? null);

/**
 * Many values in one row: `sql` selects one column `v` per row; the rows come
 * back as one JSON array. Both engines' clients parse a row at a time in
 * JavaScript, which for the thousands of rows of a fan-out (kiosk ids,
 * pending versions) cost more than the query itself; one JSON value is parsed once.
 */
async function many<T>(db: Sql, sql: string, params: unknown[], opts: { ordered?: boolean } = {}): Promise<T[]> {
  // ordered: `sql` also selects `o`, the order the values keep
  const [r] = await db.query<{ vs: T[] | null }>(`select json_agg(q.v${opts.ordered ? ' order by q.o' : ''}) as vs from (${sql}) q`, params);
  return r?.vs ?? [];
}

/** Alarm states by how far along they are: a later transition of lower rank never overwrites. */
export const ALARM_RANK: Record<string, number> = { raised: 0, calling: 1, queued: 1, talking: 1, acknowledged: 2, reset: 3 };

/** Rights a user may hold besides the role (hub config users[].rights). */
export type Right = 'pa.approve';
export const RIGHTS: Right[] = ['pa.approve'];

/** Each kiosk's first answer to command $1 (k, ok, error): answers are stored in batches of arrays; within a batch, the earlier in the array (as the counters of commandResults). */
const FIRST_ANSWERS = `select distinct on (u.k) u.k, u.ok, u.error
    from command_answers ca cross join lateral unnest(ca.kiosks, ca.oks, ca.errors) with ordinality as u(k, ok, error, i)
   where ca.command_id = $1
   order by u.k, ca.serial, u.i`;

export class HubStorage {
  /** PA console and incidents (src/hub/storage/pa.ts) */
  readonly pa: PaStorage;
  /** the dispatch desk (src/hub/storage/desk.ts) */
  readonly desk: DeskStorage;
  /** facilities console: layer version states, rollouts, fleet map reads (src/hub/storage/facilities.ts) */
  readonly facilities: FacilitiesStorage;
  /** supervision: test verdicts, the test answerer's records, link changes, overdue alarms (src/hub/storage/supervision.ts) */
  readonly supervision: SupervisionStorage;
  /** reboots of kiosk boards asked from the hub, and each kiosk's boot id (src/hub/storage/reboots.ts) */
  readonly reboots: RebootStorage;

  constructor(readonly db: Db) {
    this.pa = new PaStorage(db);
    this.desk = new DeskStorage(db);
    this.facilities = new FacilitiesStorage(db);
    this.supervision = new SupervisionStorage(db);
    this.reboots = new RebootStorage(db);
  }

  async migrate(): Promise<string[]> {
    return migrate(this.db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** A setting kept in the database, created with `make` the first time (shared by every instance). */
  async setting(key: string, make: () => string): Promise<string> {
    await this.db.query('insert into settings (key, value) values ($1, $2) on conflict (key) do nothing', [key, make()]);
    return (await this.db.query<{ value: string }>('select value from settings where key = $1', [key]))[0]!.value;
  }

  // ---- kiosks ------------------------------------------------------------

  /**
   * The hub config's kiosk list provisions kiosks: new ones are inserted with
   * their token hash; for known ones zone, location and base file follow the
   * file, while tokens rotated or revoked through the API stay as they are.
   * `revoked: true` in the file revokes.
   */
  async provisionKiosks(list: { id: string; zone: string; location: unknown; tokenSha256?: string; revoked?: boolean; config?: string }[]): Promise<void> {
    if (list.length === 0) return;
    await this.db.query(
      `insert into kiosks (id, zone, location, base_config, token_sha256, token_issued_at, revoked_at)
       select id, zone, location, base, tok, case when tok is null then null else now() end, case when rev then now() end
       from unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::boolean[]) as t(id, zone, location, base, tok, rev)
       on conflict (id) do update set zone = excluded.zone, location = excluded.location, base_config = excluded.base_config,
         token_sha256 = coalesce(kiosks.token_sha256, excluded.token_sha256),
         revoked_at = coalesce(kiosks.revoked_at, excluded.revoked_at)`,
      [
        list.map((k) => k.id),
        list.map((k) => k.zone),
        list.map((k) => json(k.location)),
        list.map((k) => k.config ?? null),
        list.map((k) => k.tokenSha256 ?? null),
        list.map((k) => !!k.revoked),
      ],
    );
  }

  /** id -> token hash of every kiosk that may connect (not revoked). */
  async activeTokens(): Promise<Map<string, string>> {
    const rows = await this.db.query<{ id: string; token_sha256: string }>('select id, token_sha256 from kiosks where revoked_at is null and token_sha256 is not null');
    return new Map(rows.map((r) => [r.token_sha256, r.id]));
  }

  async kioskByToken(sha256: string): Promise<string | undefined> {
    return (await this.db.query<{ id: string }>('select id from kiosks where token_sha256 = $1 and revoked_at is null', [sha256]))[0]?.id;
  }

  async listKiosks(where: { zone?: string; ids?: string[] } = {}): Promise<KioskRow[]> {
    const rows = await this.db.query(
      `select * from kiosks where ($1::text is null or zone = $1) and ($2::text[] is null or id = any($2)) order by id`,
      [where.zone ?? null, where.ids ?? null],
    );
    return rows.map(kioskRow);
  }

  /** Ids only (cheap for large zones): kiosks of a zone and/or a list, not revoked unless asked. */
  async kioskIds(where: { zone?: string; ids?: string[]; withRevoked?: boolean }): Promise<string[]> {
    return many<string>(
      this.db,
      `select id as v, id as o from kiosks where (($1::text is not null and zone = $1) or ($2::text[] is not null and id = any($2))) and ($3 or revoked_at is null)`,
      [where.zone ?? null, where.ids ?? null, !!where.withRevoked],
      { ordered: true },
    );
  }

  /** What a config push needs of each kiosk (its base file), without the rest of the row. */
  async kioskBases(ids: string[]): Promise<Map<string, { id: string; zone: string; baseConfig: string | null }>> {
    const rows = await many<{ id: string; zone: string; baseConfig: string | null }>(this.db, `select json_build_object('id', id, 'zone', zone, 'baseConfig', base_config) as v from kiosks where id = any($1)`, [ids]);
    return new Map(rows.map((r) => [r.id, r]));
  }

  async getKiosk(id: string): Promise<KioskRow | undefined> {
    return (await this.listKiosks({ ids: [id] }))[0];
  }

  async enrolKiosk(k: { id: string; zone: string; location: unknown; baseConfig?: string }, tokenSha256: string, by: string): Promise<boolean> {
    const r = await this.db.query(
      `insert into kiosks (id, zone, location, base_config, token_sha256, token_issued_at, enrolled_by) values ($1, $2, $3::jsonb, $4, $5, now(), $6)
       on conflict (id) do nothing returning id`,
      [k.id, k.zone, json(k.location), k.baseConfig ?? null, tokenSha256, by],
    );
    return r.length === 1;
  }

  /** A new token for a kiosk (rotation; also lifts a revocation). */
  async setToken(id: string, tokenSha256: string): Promise<boolean> {
    return (await this.db.query('update kiosks set token_sha256 = $2, token_issued_at = now(), revoked_at = null where id = $1 returning id', [id, tokenSha256])).length === 1;
  }

  async revokeKiosk(id: string): Promise<boolean> {
    return (await this.db.query('update kiosks set revoked_at = coalesce(revoked_at, now()), token_sha256 = null where id = $1 returning id', [id])).length === 1;
  }

  /** Presence, batched: online kiosks held by an instance, their last heartbeat and reported state. */
  async updatePresence(instanceId: string, updates: PresenceUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await this.db.query(
      `update kiosks k set instance_id = $1, last_seen = to_timestamp(u.seen / 1000.0),
         firmware = coalesce(u.firmware, k.firmware), config_version = coalesce(u.cv, k.config_version),
         faults = coalesce(u.faults, k.faults), outbox = coalesce(u.outbox, k.outbox)
       from unnest($2::text[], $3::float8[], $4::text[], $5::int[], $6::jsonb[], $7::int[]) as u(id, seen, firmware, cv, faults, outbox)
       where k.id = u.id`,
      [
        instanceId,
        updates.map((u) => u.id),
        updates.map((u) => u.lastSeen),
        updates.map((u) => u.firmware ?? null),
        updates.map((u) => u.configVersion ?? null),
        updates.map((u) => (u.faults ? json(u.faults) : null)),
        updates.map((u) => u.outbox ?? null),
      ],
    );
  }

  /** The instance lost these kiosks (socket closed or silent). */
  async markOffline(instanceId: string, ids: string[]): Promise<void> {
    if (ids.length) await this.db.query('update kiosks set instance_id = null where id = any($2) and instance_id = $1', [instanceId, ids]);
  }

  /** Kiosks connected to some instance and heard from within the limit. */
  async onlineKiosks(ids: string[], withinMs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    return new Set(
      await many<string>(this.db, `select id as v from kiosks where id = any($1) and instance_id is not null and last_seen > now() - ($2::float8 * interval '1 millisecond')`, [ids, withinMs]),
    );
  }

  // ---- users and sessions --------------------------------------------------

  async provisionUsers(users: { name: string; role: Role; passwordHash: string; rights?: Right[] }[]): Promise<void> {
    for (const u of users) {
      await this.db.query(
        `insert into users (name, role, password_hash, rights) values ($1, $2, $3, $4)
         on conflict (name) do update set role = excluded.role, password_hash = excluded.password_hash, rights = excluded.rights where users.source = 'config'`,
        [u.name, u.role, u.passwordHash, u.rights ?? []],
      );
    }
  }

  async getUser(name: string): Promise<{ name: string; role: Role; passwordHash: string; rights: Right[] } | undefined> {
    const r = (await this.db.query<{ name: string; role: Role; password_hash: string; rights: Right[] }>('select name, role, password_hash, rights from users where name = $1 and not disabled', [name]))[0];
    return r && { name: r.name, role: r.role, passwordHash: r.password_hash, rights: r.rights ?? [] };
  }

  /**
   * A new session; with `audit`, its audit record is written by the same
   * statement (both or neither, one round trip: a log-in's cheapest write).
   */
  async createSession(s: { idSha256: string; user: string; role: Role; csrf: string; address?: string; ttlS: number }, audit?: AuditEntry): Promise<void> {
    const params = [s.idSha256, s.user, s.role, s.csrf, s.address ?? null, s.ttlS];
    const insert = `insert into sessions (id_sha256, user_name, role, csrf, address, expires_at) values ($1, $2, $3, $4, $5, now() + $6::int * interval '1 second')`;
    if (!audit) return void (await this.db.query(insert, params));
    await this.db.query(
      `with s as (${insert} returning 1)
       insert into audit (user_name, role, action, target, result, detail, address) select $7, $8, $9, $10, $11, $12::jsonb, $13 from s`,
      [...params, audit.user, audit.role, audit.action, audit.target ?? '', audit.result, audit.detail === undefined ? null : json(audit.detail), audit.address ?? null],
    );
  }

  async getSession(idSha256: string): Promise<SessionRow | undefined> {
    // Rights are read with the session, from the user as it is now: a right taken away applies at once.
    const r = (
      await this.db.query<{ user_name: string; role: Role; csrf: string; expires_at: Date; rights: Right[] | null }>(
        `select s.user_name, s.role, s.csrf, s.expires_at, u.rights from sessions s left join users u on u.name = s.user_name
         where s.id_sha256 = $1 and s.revoked_at is null and s.expires_at > now()`,
        [idSha256],
      )
    )[0];
    return r && { user: r.user_name, role: r.role, csrf: r.csrf, expiresAt: ms(r.expires_at)!, rights: r.rights ?? [] };
  }

  async revokeSession(idSha256: string): Promise<void> {
    await this.db.query('update sessions set revoked_at = now() where id_sha256 = $1 and revoked_at is null', [idSha256]);
  }

  /** Ends every session of a user not ended yet; returns them (their areas let go of what they held). */
  async revokeUserSessions(user: string): Promise<{ idSha256: string; user: string }[]> {
    const rows = await this.db.query<{ id_sha256: string }>('update sessions set revoked_at = now() where user_name = $1 and revoked_at is null returning id_sha256', [user]);
    return rows.map((r) => ({ idSha256: r.id_sha256, user }));
  }

  async purgeSessions(): Promise<void> {
    await this.db.query(`delete from sessions where expires_at < now() - interval '1 day'`);
    await this.db.query(`delete from rate_limits where window_start < now() - interval '1 day'`);
  }

  // ---- config layers and kiosk config versions ------------------------------

  /** Stores a new version of a layer; returns it. */
  async addLayer(scope: LayerScope, target: string, document: unknown, author: string, comment = '', tx: Sql = this.db): Promise<number> {
    const r = await tx.query<{ version: number }>(
      `insert into config_layers (scope, target, version, document, author, comment)
       select $1, $2, coalesce(max(version), 0) + 1, $3::jsonb, $4, $5 from config_layers where scope = $1 and target = $2
       returning version`,
      [scope, target, json(document), author, comment],
    );
    return r[0]!.version;
  }

  /** The current version of every layer (scope -> target -> version): the newest released one (migration 200: staged versions are tried on canaries first). */
  async currentLayers(): Promise<Map<string, number>> {
    const rows = await this.db.query<{ scope: string; target: string; version: number }>(`select scope, target, max(version) as version from config_layers where state = 'released' group by scope, target`);
    return new Map(rows.map((r) => [`${r.scope}/${r.target}`, Number(r.version)]));
  }

  /** One version of a layer, or its current (newest released) one. */
  async getLayer(scope: LayerScope, target: string, version?: number): Promise<{ version: number; document: unknown; author: string; comment: string; createdAt: string } | undefined> {
    const r = (
      await this.db.query<{ version: number; document: unknown; author: string; comment: string; created_at: Date }>(
        `select version, document, author, comment, created_at from config_layers where scope = $1 and target = $2 and (version = $3 or ($3::int is null and state = 'released')) order by version desc limit 1`,
        [scope, target, version ?? null],
      )
    )[0];
    return r && { version: r.version, document: r.document, author: r.author, comment: r.comment, createdAt: iso(r.created_at) };
  }

  async listLayers(scope?: LayerScope, target?: string): Promise<{ scope: string; target: string; version: number; author: string; comment: string; createdAt: string }[]> {
    const rows = await this.db.query<{ scope: string; target: string; version: number; author: string; comment: string; created_at: Date }>(
      `select scope, target, version, author, comment, created_at from config_layers where ($1::text is null or scope = $1) and ($2::text is null or target = $2) order by scope, target, version`,
      [scope ?? null, target ?? null],
    );
    return rows.map((r) => ({ scope: r.scope, target: r.target, version: r.version, author: r.author, comment: r.comment, createdAt: iso(r.created_at) }));
  }

  /**
   * A push: a layer change (optional) and a new config version for each kiosk,
   * one transaction. Older pending versions of those kiosks are superseded.
   */
  async pushConfig(opts: {
    by: string;
    layer?: { scope: LayerScope; target: string; document: unknown; comment?: string }[];
    kiosks: string[];
    layersOf: (kiosk: Pick<KioskRow, 'id' | 'zone'>, current: Map<string, number>) => LayerRef;
  }): Promise<{ pushId: string; versions: { kiosk: string; version: number }[]; layers: Map<string, LayerRef> }> {
    const pushId = `cfg-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    return this.db.transaction(async (tx) => {
      // Locked in id order (two pushes cannot deadlock), with each kiosk's pending version (migration 008): this push supersedes it.
      const [locked] = await tx.query<{ vs: { id: string; zone: string; pending: number | null }[] | null }>(
        `with l as (select id, zone, config_pending from kiosks where id = any($1) order by id for update)
         select json_agg(json_build_object('id', id, 'zone', zone, 'pending', config_pending) order by id) as vs from l`,
        [opts.kiosks],
      );
      const kiosks = locked?.vs ?? [];
      for (const l of opts.layer ?? []) await this.addLayer(l.scope, l.target, l.document, opts.by, l.comment ?? '', tx);
      const cur = new Map(
        (await tx.query<{ scope: string; target: string; version: number }>(`select scope, target, max(version) as version from config_layers where state = 'released' group by scope, target`)).map((r) => [
          `${r.scope}/${r.target}`,
          Number(r.version),
        ]),
      );
      await tx.query('insert into config_pushes (id, created_by) values ($1, $2)', [pushId, opts.by]);
      const superseded = kiosks.filter((k) => k.pending !== null);
      if (superseded.length)
        await tx.query(
          `update kiosk_configs c set status = 'superseded' from unnest($1::text[], $2::int[]) as p(kiosk, version)
            where c.kiosk_id = p.kiosk and c.version = p.version and c.status = 'pending'`,
          [superseded.map((k) => k.id), superseded.map((k) => k.pending)],
        );
      const layers = new Map(kiosks.map((k) => [k.id, opts.layersOf(k, cur)]));
      const [r] = await tx.query<{ vs: { kiosk: string; version: number }[] | null }>(
        `with ins as (
           insert into kiosk_configs (kiosk_id, version, push_id, layers)
           select k.id, greatest(coalesce((select max(c.version) from kiosk_configs c where c.kiosk_id = k.id), 0), k.config_version) + 1, $1, l.layers
           from unnest($2::text[], $3::jsonb[]) as l(kiosk_id, layers) join kiosks k on k.id = l.kiosk_id
           returning kiosk_id, version),
         -- Each kiosk's newest version is this push's, pending (configStatus counts config_state; acks find it by config_pending).
         u as (update kiosks k set config_pending = ins.version, config_state = 'pending' from ins where k.id = ins.kiosk_id)
         select json_agg(json_build_object('kiosk', kiosk_id, 'version', version)) as vs from ins`,
        [pushId, kiosks.map((k) => k.id), kiosks.map((k) => json(layers.get(k.id)))],
      );
      return { pushId, versions: r?.vs ?? [], layers };
    });
  }

  /** The newest pending config version of each of these kiosks (optionally of one push). */
  async pendingConfigs(kiosks: string[], pushId?: string): Promise<{ kiosk: string; version: number; layers: LayerRef; baseConfig: string | null }[]> {
    // The base file comes along: the sender composes from it without reading every kiosk row again. Each version row
    // by primary key from its kiosk row (migration 008; "offset 0" keeps the planner from scanning the whole history).
    return many<{ kiosk: string; version: number; layers: LayerRef; baseConfig: string | null }>(
      this.db,
      `select json_build_object('kiosk', k.id, 'version', c.version, 'layers', c.layers, 'baseConfig', k.base_config) as v
         from kiosks k cross join lateral (select version, layers, push_id from kiosk_configs c where c.kiosk_id = k.id and c.version = k.config_pending offset 0) c
        where k.id = any($1) and k.config_pending is not null and ($2::text is null or c.push_id = $2)`,
      [kiosks, pushId ?? null],
    );
  }

  /** The newest config version of a kiosk, whatever its status. */
  async latestConfig(kiosk: string): Promise<{ version: number; layers: LayerRef; status: string; errors: unknown[] | null; createdAt: string } | undefined> {
    const r = (
      await this.db.query<{ version: number; layers: LayerRef; status: string; errors: unknown[] | null; created_at: Date }>(
        `select version, layers, status, errors, created_at from kiosk_configs where kiosk_id = $1 and status <> 'superseded' order by version desc limit 1`,
        [kiosk],
      )
    )[0];
    return r && { version: r.version, layers: r.layers, status: r.status, errors: r.errors, createdAt: iso(r.created_at) };
  }

  /**
   * Acks and nacks, batched: only a pending version changes; an ack also
   * raises the kiosk's config version. One statement (one commit) per batch.
   */
  async configResults(results: { kiosk: string; version: number; ok: boolean; errors?: unknown[] }[]): Promise<void> {
    if (results.length === 0) return;
    // A pending version is its kiosk's newest not superseded one (a push supersedes the older pending ones), named on
    // the kiosk row (config_pending, migration 008): its row is found by primary key, and the answer to it is the
    // kiosk's config state. An answer to any other version (superseded, already answered) changes no version row.
    await this.db.query(
      `with r as (select * from unnest($1::text[], $2::int[], $3::boolean[], $4::jsonb[]) as r(kiosk, version, ok, errors)),
       c as (
         update kiosk_configs c set status = case when r.ok then 'acked' else 'refused' end, errors = r.errors, acked_at = now()
           from r join kiosks k on k.id = r.kiosk and k.config_pending = r.version
          where c.kiosk_id = r.kiosk and c.version = r.version and c.status = 'pending'
          returning c.kiosk_id, c.status),
       v as (select kiosk, max(version) as version from r where ok group by kiosk)
       update kiosks k set config_version = greatest(k.config_version, x.version), config_state = coalesce(x.status, k.config_state),
              config_pending = case when x.status is null then k.config_pending end
         from (select coalesce(v.kiosk, c.kiosk_id) as kiosk, v.version, c.status from v full join c on c.kiosk_id = v.kiosk) x
        where k.id = x.kiosk`,
      [results.map((r) => r.kiosk), results.map((r) => r.version), results.map((r) => r.ok), results.map((r) => (r.errors ? json(r.errors) : null))],
    );
  }

  /** Counts of kiosks (of a zone, or all) by the state of their newest config version (kiosks.config_state, migration 006). */
  async configStatus(zone?: string): Promise<{ acked: number; pending: number; refused: number }> {
    const rows = await this.db.query<{ status: string | null; n: number }>(
      `select config_state as status, count(*)::int as n from kiosks where ($1::text is null or zone = $1) group by config_state`,
      [zone ?? null],
    );
    const n = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
    const total = rows.reduce((a, r) => a + r.n, 0);
    return { acked: n('acked'), refused: n('refused'), pending: total - n('acked') - n('refused') };
  }

  // ---- commands -----------------------------------------------------------

  /**
   * Stores a command and, in the same statement, one row per kiosk it waits for (command_pending, migration 009).
   * The rows go in in key order, so their index grows at its end instead of taking them scattered: for a zone of
   * 10,000 about 25 ms instead of 35 on the test bed's PostgreSQL, and no kiosk is sent the command before it.
   */
  async createCommand(c: { id: string; command: string; args: unknown; by: string; role: string; kiosks: string[] }, tx: Sql = this.db): Promise<void> {
    await tx.query(
      `with c as (insert into commands (id, command, args, created_by, role, kiosks) values ($1, $2, $3::jsonb, $4, $5, $6::text[]) returning id)
       insert into command_pending (command_id, kiosk) select c.id, t.k from c cross join (select distinct k from unnest($6::text[]) as u(k) order by k) as t(k)`,
      [c.id, c.command, json(c.args), c.by, c.role, c.kiosks],
    );
  }

  async getCommand(id: string): Promise<{ id: string; command: string; args: unknown; by: string; at: number; results: Record<string, { ok: boolean; error?: string } | null> } | undefined> {
    const c = (await this.db.query<{ id: string; command: string; args: unknown; created_by: string; created_at: Date }>('select id, command, args, created_by, created_at from commands where id = $1', [id]))[0];
    if (!c) return undefined;
    const rs = await this.db.query<{ kiosk_id: string; ok: boolean | null; error: string | null }>(
      `select t.k as kiosk_id, a.ok, a.error
         from (select unnest(kiosks) as k from commands where id = $1) t
         left join (${FIRST_ANSWERS}) a on a.k = t.k
        order by t.k`,
      [id],
    );
    const results: Record<string, { ok: boolean; error?: string } | null> = {};
    for (const r of rs) results[r.kiosk_id] = r.ok === null ? null : { ok: r.ok, ...(r.error ? { error: r.error } : {}) };
    return { id: c.id, command: c.command, args: c.args, by: c.created_by, at: ms(c.created_at)!, results };
  }

  /**
   * How many of a command's kiosks answered, for consoles watching a large
   * fan-out: the counters kept with the answers (commandResults), one row by
   * its key, whatever the size of the fan-out.
   */
  async commandSummary(id: string): Promise<{ total: number; pending: number; ok: number; failed: number } | undefined> {
    const [r] = await this.db.query<{ total: number; ok: number; failed: number }>(
      'select coalesce(cardinality(kiosks), 0) as total, answered_ok as ok, answered_failed as failed from commands where id = $1',
      [id],
    );
    if (!r) return undefined;
    return { total: r.total, pending: r.total - r.ok - r.failed, ok: r.ok, failed: r.failed };
  }

  /** The command and which of these kiosks still wait for it (for the instance holding their sockets). */
  async pendingCommand(id: string, kiosks: string[]): Promise<{ command: string; args: unknown; kiosks: string[] } | undefined> {
    const c = (await this.db.query<{ command: string; args: unknown }>('select command, args from commands where id = $1', [id]))[0];
    if (!c) return undefined;
    // The rows still pending (the command was sent to the kiosk, no answer stored yet), by primary key.
    const rs = await many<string>(this.db, 'select kiosk as v from command_pending where command_id = $1 and kiosk = any($2::text[])', [id, kiosks]);
    return { command: c.command, args: c.args, kiosks: rs };
  }

  /**
   * Stores a batch of answers: one row per command in the batch, whatever the
   * number of kiosks, and the command's counters (commandSummary) with it, in
   * one call of command_answers_add (migrations 007, 009). The answers that
   * count are the kiosks' rows it deletes from command_pending: a kiosk's
   * first answer counts once, whichever instance stores it, a repeated answer
   * or one from a kiosk the command was not sent to not at all. A batch of one
   * command (a fan-out) is one statement, its own transaction: the command
   * row's lock (its counters) is held from the counters' update to the commit.
   */
  async commandResults(results: { id: string; kiosk: string; ok: boolean; error?: string }[]): Promise<void> {
    if (results.length === 0) return;
    const byCommand = new Map<string, { kiosks: string[]; oks: boolean[]; errors: (string | null)[] }>();
    for (const r of results) {
      let c = byCommand.get(r.id);
      if (!c) byCommand.set(r.id, (c = { kiosks: [], oks: [], errors: [] }));
      c.kiosks.push(r.kiosk);
      c.oks.push(r.ok);
      c.errors.push(r.error ?? null);
    }
    const add = (tx: Sql, id: string) => {
      const c = byCommand.get(id)!;
      return tx.query('select command_answers_add($1, $2::text[], $3::boolean[], $4::text[])', [id, c.kiosks, c.oks, c.errors]);
    };
    if (byCommand.size === 1) return void (await add(this.db, results[0]!.id));
    // Locks taken in one order (by command id): two batches of the same commands cannot deadlock.
    const ids = [...byCommand.keys()].sort();
    await this.db.transaction(async (tx) => {
      for (const id of ids) await add(tx, id);
    });
  }

  // ---- events and alarms ----------------------------------------------------

  /**
   * Stores batches of events from several kiosks in one transaction (group
   * commit); returns how many were new per kiosk. Nothing is acknowledged to
   * a kiosk before this resolves, i.e. before the commit.
   */
  async insertEvents(batches: { kiosk: string; events: IncomingEvent[] }[]): Promise<number[]> {
    const flat = batches.flatMap((b) => b.events.map((e) => ({ ...e, kiosk: b.kiosk })));
    if (flat.length === 0) return batches.map(() => 0);
    const alarms = flat.filter((e) => e.type === 'alarm.state' && e.data && typeof (e.data as { alarmId?: unknown }).alarmId === 'string');
    const inserted = await this.db.transaction(async (tx) => {
      const rows = await tx.query<{ kiosk_id: string }>(
        `insert into events (id, kiosk_id, seq, at, at_ts, type, data)
         select id, kiosk, seq, at, at_ts, type, data from unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::timestamptz[], $6::text[], $7::jsonb[])
           as t(id, kiosk, seq, at, at_ts, type, data)
         on conflict (id) do nothing returning kiosk_id`,
        [
          flat.map((e) => e.id),
          flat.map((e) => e.kiosk),
          flat.map((e) => e.seq),
          flat.map((e) => e.at),
          flat.map((e) => validTime(e.at)),
          flat.map((e) => e.type),
          flat.map((e) => json(e.data)),
        ],
      );
      if (alarms.length) await upsertAlarms(tx, alarms);
      return rows;
    });
    const per = new Map<string, number>();
    for (const r of inserted) per.set(r.kiosk_id, (per.get(r.kiosk_id) ?? 0) + 1);
    return batches.map((b) => {
      const n = per.get(b.kiosk) ?? 0;
      per.delete(b.kiosk); // one kiosk appears once per group (one batch in flight per kiosk)
      return n;
    });
  }

  async listEvents(f: EventFilter): Promise<EventRow[]> {
    const rows = await this.db.query<{ serial: string | number; id: string; kiosk_id: string; seq: string | number; at: string; type: string; data: unknown; received_at: Date }>(
      `select e.serial, e.id, e.kiosk_id, e.seq, e.at, e.type, e.data, e.received_at from events e
       where ($1::text is null or e.kiosk_id = $1)
         and ($2::text is null or e.kiosk_id in (select id from kiosks where zone = $2))
         and ($3::text is null or e.type = $3)
         and ($4::timestamptz is null or coalesce(e.at_ts, e.received_at) >= $4)
         and ($5::timestamptz is null or coalesce(e.at_ts, e.received_at) < $5)
         and e.serial > $6
       order by e.serial limit $7`,
      [f.kiosk ?? null, f.zone ?? null, f.type ?? null, f.from ?? null, f.to ?? null, f.after ?? 0, Math.min(f.limit ?? 1000, 100_000)],
    );
    return rows.map((r) => ({ serial: Number(r.serial), id: r.id, kiosk: r.kiosk_id, seq: Number(r.seq), at: r.at, type: r.type, data: r.data, receivedAt: iso(r.received_at) }));
  }

  /**
   * Retention: each kiosk keeps its newest `perKiosk` events (so one noisy
   * kiosk cannot evict another's records), and none older than maxAgeDays.
   */
  async applyRetention(perKiosk: number, maxAgeDays?: number): Promise<number> {
    const over = await this.db.query<{ kiosk_id: string }>('select kiosk_id from events group by kiosk_id having count(*) > $1', [perKiosk]);
    let deleted = 0;
    for (const { kiosk_id } of over) {
      deleted += (
        await this.db.query(
          `delete from events where kiosk_id = $1 and serial <= (select serial from events where kiosk_id = $1 order by serial desc offset $2 limit 1) returning 1`,
          [kiosk_id, perKiosk],
        )
      ).length;
    }
    if (maxAgeDays) deleted += (await this.db.query(`delete from events where received_at < now() - $1::int * interval '1 day' returning 1`, [maxAgeDays])).length;
    return deleted;
  }

  async listAlarms(f: { kiosk?: string; open?: boolean } = {}): Promise<{ alarmId: string; kiosk: string; state: string; data: unknown; updatedAt: string }[]> {
    const rows = await this.db.query<{ alarm_id: string; kiosk_id: string; state: string; data: unknown; updated_at: Date }>(
      `select alarm_id, kiosk_id, state, data, updated_at from alarms where ($1::text is null or kiosk_id = $1) and (not $2 or state <> 'reset') order by updated_at desc limit 10000`,
      [f.kiosk ?? null, !!f.open],
    );
    return rows.map((r) => ({ alarmId: r.alarm_id, kiosk: r.kiosk_id, state: r.state, data: r.data, updatedAt: iso(r.updated_at) }));
  }

  // ---- audit ----------------------------------------------------------------

  async audit(e: AuditEntry): Promise<void> {
    await this.db.query('insert into audit (user_name, role, action, target, result, detail, address) values ($1, $2, $3, $4, $5, $6::jsonb, $7)', [
      e.user,
      e.role,
      e.action,
      e.target ?? '',
      e.result,
      e.detail === undefined ? null : json(e.detail),
      e.address ?? null,
    ]);
  }

  async listAudit(f: { user?: string; action?: string; from?: string; to?: string; after?: number; limit?: number }): Promise<(AuditEntry & { serial: number; at: string })[]> {
    const rows = await this.db.query<{ serial: string | number; at: Date; user_name: string; role: string; action: string; target: string; result: string; detail: unknown; address: string | null }>(
      `select * from audit where ($1::text is null or user_name = $1) and ($2::text is null or action = $2)
         and ($3::timestamptz is null or at >= $3) and ($4::timestamptz is null or at < $4) and serial > $5
       order by serial limit $6`,
      [f.user ?? null, f.action ?? null, f.from ?? null, f.to ?? null, f.after ?? 0, Math.min(f.limit ?? 1000, 100_000)],
    );
    return rows.map((r) => ({
      serial: Number(r.serial),
      at: iso(r.at),
      user: r.user_name,
      role: r.role,
      action: r.action,
      target: r.target,
      result: r.result,
      detail: r.detail ?? undefined,
      address: r.address ?? undefined,
    }));
  }
}

function kioskRow(r: Record<string, unknown>): KioskRow {
  return {
    id: r.id as string,
    zone: r.zone as string,
    location: r.location,
    baseConfig: (r.base_config as string | null) ?? null,
    revoked: r.revoked_at != null,
    enrolledAt: iso(r.enrolled_at),
    enrolledBy: r.enrolled_by as string,
    tokenIssuedAt: r.token_issued_at ? iso(r.token_issued_at) : null,
    instanceId: (r.instance_id as string | null) ?? null,
    lastSeen: ms(r.last_seen),
    firmware: (r.firmware as string | null) ?? null,
    configVersion: Number(r.config_version ?? 0),
    faults: (r.faults as KioskRow['faults']) ?? [],
    outbox: Number(r.outbox ?? 0),
  };
}

function validTime(s: string): string | null {
  const t = Date.parse(s);
  return Number.isFinite(t) && t > 0 && t < 253402300800000 ? new Date(t).toISOString() : null;
}

async function upsertAlarms(tx: Sql, events: (IncomingEvent & { kiosk: string })[]): Promise<void> {
  // Within a group, the latest transition per alarm goes in (rank, then time); the row takes it only if it is not older.
  const best = new Map<string, { e: IncomingEvent & { kiosk: string }; rank: number }>();
  for (const e of events) {
    const d = e.data as { alarmId: string; state?: unknown; at?: unknown };
    const rank = typeof d.state === 'string' && Object.hasOwn(ALARM_RANK, d.state) ? ALARM_RANK[d.state]! : -1;
    if (rank < 0) continue;
    const prev = best.get(d.alarmId);
    if (!prev || rank > prev.rank || (rank === prev.rank && String(d.at ?? e.at) >= String((prev.e.data as { at?: string }).at ?? prev.e.at))) best.set(d.alarmId, { e, rank });
  }
  if (best.size === 0) return;
  const list = [...best.values()];
  // Kiosk data is untrusted: only strings go into the text columns.
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 500) : undefined);
  const d = (x: { e: IncomingEvent }) => {
    const r = x.e.data as Record<string, unknown>;
    return { alarmId: r.alarmId as string, state: r.state as string, kind: str(r.kind), category: str(r.category), source: str(r.source), raisedAt: str(r.raisedAt), at: str(r.at) };
  };
  await tx.query(
    `insert into alarms (alarm_id, kiosk_id, state, rank, kind, category, source, raised_at, at, data)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[])
     on conflict (alarm_id) do update set state = excluded.state, rank = excluded.rank, at = excluded.at, data = excluded.data, updated_at = now(),
       category = coalesce(excluded.category, alarms.category)
     where alarms.kiosk_id = excluded.kiosk_id and (excluded.rank > alarms.rank or (excluded.rank = alarms.rank and excluded.at >= alarms.at))`,
    [
      list.map((x) => d(x).alarmId),
      list.map((x) => x.e.kiosk),
      list.map((x) => d(x).state),
      list.map((x) => x.rank),
      list.map((x) => d(x).kind ?? null),
      list.map((x) => d(x).category ?? null),
      list.map((x) => d(x).source ?? null),
      list.map((x) => d(x).raisedAt ?? null),
      list.map((x) => String(d(x).at ?? x.e.at)),
      list.map((x) => json(x.e.data)),
    ],
  );
}
