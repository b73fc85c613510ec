// Storage of the facilities console (storage.facilities): layer versions with
// their state (staged, released, abandoned), rollouts and their kiosks, and the
// reads the fleet map and the rollout runner need. Plain SQL, the same on
// PGlite and PostgreSQL (migration 200_facilities.sql).
import type { Db, Sql } from './db.js';
import type { LayerScope } from './storage.js';

const iso = (d: unknown): string => (d instanceof Date ? d.toISOString() : String(d));
const json = (v: unknown) => JSON.stringify(v ?? null);

export type RolloutState = 'canary' | 'rest' | 'done' | 'failed';
export type RolloutKioskState = 'waiting' | 'sent' | 'acked' | 'healthy' | 'failed' | 'refused' | 'rolled-back';

export interface RolloutRow {
  id: string;
  kind: 'change' | 'rollback';
  scope: LayerScope;
  target: string;
  version: number;
  previous: number;
  state: RolloutState;
  reason: string;
  comment: string;
  createdBy: string;
  createdAt: string;
  stageAt: number;
  finishedAt: string | null;
  canaryTimeoutS: number;
  eventSerial: number;
}

export interface RolloutKioskRow {
  kiosk: string;
  stage: 'canary' | 'rest';
  version: number | null;
  state: RolloutKioskState;
  detail: string;
  faultsBefore: { code: string; detail: string }[] | null;
  updatedAt: string;
}

export interface LayerVersionRow {
  scope: string;
  target: string;
  version: number;
  state: 'staged' | 'released' | 'abandoned';
  author: string;
  comment: string;
  createdAt: string;
}

function rolloutRow(r: Record<string, unknown>): RolloutRow {
  return {
    id: r.id as string,
    kind: r.kind as RolloutRow['kind'],
    scope: r.scope as LayerScope,
    target: r.target as string,
    version: Number(r.version),
    previous: Number(r.previous),
    state: r.state as RolloutState,
    reason: r.reason as string,
    comment: r.comment as string,
    createdBy: r.created_by as string,
    createdAt: iso(r.created_at),
    stageAt: new Date(r.stage_at as string).getTime(),
    finishedAt: r.finished_at ? iso(r.finished_at) : null,
    canaryTimeoutS: Number(r.canary_timeout_s),
    eventSerial: Number(r.event_serial),
  };
}

export class FacilitiesStorage {
  constructor(private readonly db: Db) {}

  // ---- layer versions -------------------------------------------------------

  /** A new version of a layer in the given state; returns its number. */
  async addLayerVersion(tx: Sql, l: { scope: LayerScope; target: string; document: unknown; author: string; comment: string; state: 'staged' | 'released' }): Promise<number> {
    const r = await tx.query<{ version: number }>(
      `insert into config_layers (scope, target, version, document, author, comment, state)
       select $1, $2, coalesce(max(version), 0) + 1, $3::jsonb, $4, $5, $6 from config_layers where scope = $1 and target = $2
       returning version`,
      [l.scope, l.target, json(l.document), l.author, l.comment, l.state],
    );
    return Number(r[0]!.version);
  }

  async setLayerState(scope: LayerScope, target: string, version: number, state: 'released' | 'abandoned', tx: Sql = this.db): Promise<void> {
    await tx.query('update config_layers set state = $4 where scope = $1 and target = $2 and version = $3', [scope, target, version, state]);
  }

  /** The newest released version of one layer (0: none). */
  async releasedVersion(scope: LayerScope, target: string, tx: Sql = this.db): Promise<number> {
    const r = await tx.query<{ v: number | null }>(`select max(version) as v from config_layers where scope = $1 and target = $2 and state = 'released'`, [scope, target]);
    return Number(r[0]?.v ?? 0);
  }

  async layerVersions(scope?: LayerScope, target?: string): Promise<LayerVersionRow[]> {
    const rows = await this.db.query<{ scope: string; target: string; version: number; state: LayerVersionRow['state']; author: string; comment: string; created_at: Date }>(
      `select scope, target, version, state, author, comment, created_at from config_layers
       where ($1::text is null or scope = $1) and ($2::text is null or target = $2) order by scope, target, version desc`,
      [scope ?? null, target ?? null],
    );
    return rows.map((r) => ({ scope: r.scope, target: r.target, version: Number(r.version), state: r.state, author: r.author, comment: r.comment, createdAt: iso(r.created_at) }));
  }

  // ---- rollouts -------------------------------------------------------------

  async createRollout(
    tx: Sql,
    r: { id: string; kind: 'change' | 'rollback'; scope: LayerScope; target: string; version: number; previous: number; state: RolloutState; comment: string; by: string; canaryTimeoutS: number; eventSerial: number },
    kiosks: { kiosk: string; stage: 'canary' | 'rest'; faultsBefore?: unknown }[],
  ): Promise<void> {
    await tx.query(
      `insert into rollouts (id, kind, scope, target, version, previous, state, comment, created_by, canary_timeout_s, event_serial)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [r.id, r.kind, r.scope, r.target, r.version, r.previous, r.state, r.comment, r.by, r.canaryTimeoutS, r.eventSerial],
    );
    if (kiosks.length)
      await tx.query(
        `insert into rollout_kiosks (rollout_id, kiosk_id, stage, faults_before) select $1, k, s, f from unnest($2::text[], $3::text[], $4::jsonb[]) as t(k, s, f)`,
        [r.id, kiosks.map((k) => k.kiosk), kiosks.map((k) => k.stage), kiosks.map((k) => (k.faultsBefore === undefined ? null : json(k.faultsBefore)))],
      );
  }

  async getRollout(id: string): Promise<RolloutRow | undefined> {
    const r = (await this.db.query('select * from rollouts where id = $1', [id]))[0];
    return r && rolloutRow(r);
  }

  async listRollouts(f: { scope?: LayerScope; target?: string; limit?: number } = {}): Promise<RolloutRow[]> {
    const rows = await this.db.query(
      `select * from rollouts where ($1::text is null or scope = $1) and ($2::text is null or target = $2) order by created_at desc limit $3`,
      [f.scope ?? null, f.target ?? null, Math.min(f.limit ?? 50, 1000)],
    );
    return rows.map(rolloutRow);
  }

  /** Rollouts of a layer still running (canary or rest stage). */
  async activeRollouts(scope?: LayerScope, target?: string): Promise<RolloutRow[]> {
    const rows = await this.db.query(
      `select * from rollouts where state in ('canary', 'rest') and ($1::text is null or scope = $1) and ($2::text is null or target = $2) order by created_at`,
      [scope ?? null, target ?? null],
    );
    return rows.map(rolloutRow);
  }

  /**
   * Running rollouts this instance may drive: its own, or any whose lease ran
   * out (its instance stopped). The lease is taken or renewed in the same statement.
   */
  async claimRollouts(instance: string, leaseMs: number): Promise<RolloutRow[]> {
    const rows = await this.db.query(
      `update rollouts set owner = $1, lease_until = now() + $2::float8 * interval '1 millisecond'
       where state in ('canary', 'rest') and (owner = $1 or owner is null or lease_until < now())
       returning *`,
      [instance, leaseMs],
    );
    return rows.map(rolloutRow);
  }

  async setRolloutState(id: string, state: RolloutState, reason?: string, tx: Sql = this.db): Promise<void> {
    await tx.query(
      `update rollouts set state = $2, reason = coalesce($3, reason), stage_at = case when state <> $2 then now() else stage_at end,
         finished_at = case when $2 in ('done', 'failed') then now() else finished_at end
       where id = $1`,
      [id, state, reason ?? null],
    );
  }

  async rolloutKiosks(id: string, stage?: 'canary' | 'rest'): Promise<RolloutKioskRow[]> {
    const rows = await this.db.query<{ kiosk_id: string; stage: 'canary' | 'rest'; version: number | null; state: RolloutKioskState; detail: string; faults_before: RolloutKioskRow['faultsBefore']; updated_at: Date }>(
      `select kiosk_id, stage, version, state, detail, faults_before, updated_at from rollout_kiosks where rollout_id = $1 and ($2::text is null or stage = $2) order by stage, kiosk_id`,
      [id, stage ?? null],
    );
    return rows.map((r) => ({ kiosk: r.kiosk_id, stage: r.stage, version: r.version == null ? null : Number(r.version), state: r.state, detail: r.detail, faultsBefore: r.faults_before, updatedAt: iso(r.updated_at) }));
  }

  /** Counts by state per stage (for large rollouts: the console shows counts, not 1,000 rows). */
  async rolloutCounts(id: string): Promise<{ stage: string; state: string; n: number }[]> {
    const rows = await this.db.query<{ stage: string; state: string; n: number }>(
      'select stage, state, count(*)::int as n from rollout_kiosks where rollout_id = $1 group by stage, state order by stage, state',
      [id],
    );
    return rows.map((r) => ({ ...r, n: Number(r.n) }));
  }

  /** Kiosk rows of a rollout change state (batched). */
  async updateRolloutKiosks(id: string, updates: { kiosk: string; state: RolloutKioskState; version?: number; detail?: string }[], tx: Sql = this.db): Promise<void> {
    if (updates.length === 0) return;
    await tx.query(
      `update rollout_kiosks r set state = u.state, version = coalesce(u.version, r.version), detail = coalesce(u.detail, r.detail), updated_at = now()
       from unnest($2::text[], $3::text[], $4::int[], $5::text[]) as u(kiosk, state, version, detail)
       where r.rollout_id = $1 and r.kiosk_id = u.kiosk`,
      [id, updates.map((u) => u.kiosk), updates.map((u) => u.state), updates.map((u) => u.version ?? null), updates.map((u) => u.detail ?? null)],
    );
  }

  /**
   * Staged versions that apply to kiosks: the canaries of running canary
   * stages compose the staged version of their rollout's layer.
   */
  async canaryPins(kiosks?: string[], exceptRollout?: string): Promise<{ kiosk: string; scope: LayerScope; target: string; version: number }[]> {
    const rows = await this.db.query<{ kiosk_id: string; scope: LayerScope; target: string; version: number }>(
      `select k.kiosk_id, r.scope, r.target, r.version from rollouts r join rollout_kiosks k on k.rollout_id = r.id
       where r.state = 'canary' and k.stage = 'canary' and ($1::text[] is null or k.kiosk_id = any($1)) and ($2::text is null or r.id <> $2)`,
      [kiosks ?? null, exceptRollout ?? null],
    );
    return rows.map((r) => ({ kiosk: r.kiosk_id, scope: r.scope, target: r.target, version: Number(r.version) }));
  }

  // ---- what the runner reads -------------------------------------------------

  /** The newest event serial (a rollout judges only the events after it). */
  async eventSerial(): Promise<number> {
    const r = await this.db.query<{ s: string | number | null }>('select max(serial) as s from events');
    return Number(r[0]?.s ?? 0);
  }

  /** The fate of kiosk config versions (pending, acked, refused, superseded) and the errors of a refusal. */
  async configFates(pairs: { kiosk: string; version: number }[]): Promise<Map<string, { status: string; errors: unknown[] | null }>> {
    if (pairs.length === 0) return new Map();
    const rows = await this.db.query<{ kiosk_id: string; version: number; status: string; errors: unknown[] | null }>(
      `select c.kiosk_id, c.version, c.status, c.errors from kiosk_configs c join unnest($1::text[], $2::int[]) as p(k, v) on c.kiosk_id = p.k and c.version = p.v`,
      [pairs.map((p) => p.kiosk), pairs.map((p) => p.version)],
    );
    return new Map(rows.map((r) => [`${r.kiosk_id}@${r.version}`, { status: r.status, errors: r.errors }]));
  }

  /** config.healthy and config.rollback events of these kiosks after a serial, oldest first. */
  async configVerdicts(kiosks: string[], afterSerial: number): Promise<{ kiosk: string; type: string; data: { version?: number; to?: number; reason?: string } }[]> {
    if (kiosks.length === 0) return [];
    const rows = await this.db.query<{ kiosk_id: string; type: string; data: { version?: number; to?: number; reason?: string } }>(
      `select kiosk_id, type, data from events where kiosk_id = any($1) and serial > $2 and type in ('config.healthy', 'config.rollback') order by serial`,
      [kiosks, afterSerial],
    );
    return rows.map((r) => ({ kiosk: r.kiosk_id, type: r.type, data: r.data ?? {} }));
  }

  /** The newest config version of each kiosk and the layer versions it was made of. */
  async latestConfigs(kiosks: string[]): Promise<Map<string, { version: number; status: string; layers: Record<string, unknown> }>> {
    if (kiosks.length === 0) return new Map();
    const rows = await this.db.query<{ kiosk_id: string; version: number; status: string; layers: Record<string, unknown> }>(
      `select distinct on (kiosk_id) kiosk_id, version, status, layers from kiosk_configs where kiosk_id = any($1) and status <> 'superseded' order by kiosk_id, version desc`,
      [kiosks],
    );
    return new Map(rows.map((r) => [r.kiosk_id, { version: Number(r.version), status: r.status, layers: r.layers }]));
  }

  /** The newest acknowledged config version of each kiosk (what it runs, as far as the hub knows). */
  async runningConfigs(kiosks: string[]): Promise<Map<string, { version: number; layers: Record<string, unknown> }>> {
    if (kiosks.length === 0) return new Map();
    const rows = await this.db.query<{ kiosk_id: string; version: number; layers: Record<string, unknown> }>(
      `select distinct on (c.kiosk_id) c.kiosk_id, c.version, c.layers from kiosk_configs c join kiosks k on k.id = c.kiosk_id
       where c.kiosk_id = any($1) and c.status = 'acked' and c.version <= k.config_version order by c.kiosk_id, c.version desc`,
      [kiosks],
    );
    return new Map(rows.map((r) => [r.kiosk_id, { version: Number(r.version), layers: r.layers }]));
  }

  // ---- the fleet map ----------------------------------------------------------

  /** The newest alarm of each kiosk (state and time). */
  async lastAlarms(kiosks?: string[]): Promise<Map<string, { alarmId: string; state: string; at: string; category: string | null }>> {
    const rows = await this.db.query<{ kiosk_id: string; alarm_id: string; state: string; at: string; category: string | null }>(
      `select distinct on (kiosk_id) kiosk_id, alarm_id, state, at, category from alarms where ($1::text[] is null or kiosk_id = any($1)) order by kiosk_id, updated_at desc`,
      [kiosks ?? null],
    );
    return new Map(rows.map((r) => [r.kiosk_id, { alarmId: r.alarm_id, state: r.state, at: r.at, category: r.category }]));
  }

  /** When each kiosk last said it started (uptime), from its heartbeats (migration 200 column). */
  async setStartedAt(updates: { id: string; startedAt: number }[]): Promise<void> {
    if (updates.length === 0) return;
    await this.db.query(
      `update kiosks k set started_at = to_timestamp(u.t / 1000.0) from unnest($1::text[], $2::float8[]) as u(id, t) where k.id = u.id`,
      [updates.map((u) => u.id), updates.map((u) => u.startedAt)],
    );
  }
}
