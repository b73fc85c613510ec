// The PA console's and incidents' SQL (migration 100_pa.sql), exposed as
// `storage.pa`: the message library with its versions and approvals, plays
// (now, at a time, repeated), actions and their per-kiosk receipts, incidents
// and their timelines. The same SQL on PGlite and PostgreSQL.
import type { Db, Sql } from './db.js';

export type LocalText = { en: string; 'zh-CN'?: string };
export type MessageState = 'draft' | 'approved' | 'retired';
export interface LangAudio {
  sha256: string;
  seconds: number;
  /** spoken by espeak-ng at the hub (not a recording) */
  synthetic: boolean;
}

export interface MessageRow {
  id: string;
  version: number;
  name: string;
  text: LocalText;
  level: string | null;
  audio: Partial<Record<'en' | 'zh-CN', LangAudio>>;
  clip: { sha256: string; seconds: number } | null;
  state: MessageState;
  createdBy: string;
  createdAt: string;
  editedBy: string;
  approvedBy: string | null;
  approvedAt: string | null;
}

export interface PlayRow {
  id: string;
  messageId: string;
  messageVersion: number;
  zones: string[];
  kiosks: string[] | null;
  channel: string;
  drill: boolean;
  incidentId: string | null;
  startAt: string | null;
  everyS: number | null;
  times: number | null;
  nextAt: string | null;
  fired: number;
  state: 'scheduled' | 'done' | 'cancelled';
  createdBy: string;
  createdAt: string;
  cancelledBy: string | null;
  cancelledAt: string | null;
}

export type ReceiptState = 'pending' | 'delivered' | 'started' | 'finished' | 'stopped' | 'failed';
/** How far along a receipt is: an update of lower rank never overwrites. */
export const RECEIPT_RANK: Record<ReceiptState, number> = { pending: 0, delivered: 1, started: 2, finished: 3, stopped: 3, failed: 3 };
export const RECEIPT_STATES = Object.keys(RECEIPT_RANK) as ReceiptState[];

export interface ActionRow {
  id: string;
  kind: 'message' | 'live';
  playId: string | null;
  messageId: string | null;
  messageVersion: number | null;
  text: LocalText | null;
  zones: string[];
  channel: string;
  drill: boolean;
  incidentId: string | null;
  createdBy: string;
  createdAt: string;
  endedAt: string | null;
}

export interface ReceiptRow {
  kiosk: string;
  state: ReceiptState;
  reason: string | null;
  via: string | null;
  deliveredAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  updatedAt: string;
}

export interface ReceiptUpdate {
  action: string;
  kiosk: string;
  state: ReceiptState;
  reason?: string;
  via?: string;
  /** only the reason changes (a note such as "missed multicast, unicast instead"), never the state */
  note?: boolean;
}

export type Counts = Record<ReceiptState, number> & { total: number };

export interface IncidentRow {
  id: string;
  drill: boolean;
  state: 'open' | 'closed';
  title: string;
  kind: 'incident' | 'evacuation';
  level: string;
  colour: string | null;
  zones: string[];
  blockedExits: string[];
  guidance: LocalText | null;
  messageId: string | null;
  playId: string | null;
  declaredBy: string;
  declaredAt: string;
  closedBy: string | null;
  closedAt: string | null;
  summary: string | null;
}

export interface TimelineEntry {
  serial: number;
  at: string;
  by: string;
  kind: string;
  text: string;
  detail: unknown;
}

const iso = (d: unknown): string => (d instanceof Date ? d.toISOString() : String(d));
const isoOrNull = (d: unknown): string | null => (d == null ? null : iso(d));
const json = (v: unknown) => JSON.stringify(v ?? null);

export class PaStorage {
  constructor(private readonly db: Db) {}

  // ---- message library -------------------------------------------------------

  async createMessage(m: { id: string; name: string; text: LocalText; level?: string | null; by: string }): Promise<MessageRow | undefined> {
    const r = await this.db.query(
      `insert into pa_messages (id, version, name, text_en, text_zh, level, created_by, edited_by) values ($1, 1, $2, $3, $4, $5, $6, $6)
       on conflict do nothing returning *`,
      [m.id, m.name, m.text.en, m.text['zh-CN'] ?? null, m.level ?? null, m.by],
    );
    return r[0] ? messageRow(r[0]) : undefined;
  }

  /**
   * Changes a wording. A draft is changed in place (its audio is kept only for
   * languages whose text did not change); an approved wording gets a new
   * version, a draft.
   */
  async editMessage(id: string, patch: { name?: string; text?: LocalText; level?: string | null }, by: string): Promise<MessageRow | undefined> {
    return this.db.transaction(async (tx) => {
      const cur = (await tx.query('select * from pa_messages where id = $1 order by version desc limit 1 for update', [id]))[0];
      if (!cur) return undefined;
      const c = messageRow(cur);
      const text = patch.text ?? c.text;
      const audio = { ...c.audio };
      if (text.en !== c.text.en) delete audio.en;
      if ((text['zh-CN'] ?? null) !== (c.text['zh-CN'] ?? null)) delete audio['zh-CN'];
      const unchangedAudio = !!audio.en === !!c.audio.en && !!audio['zh-CN'] === !!c.audio['zh-CN'];
      const clip = unchangedAudio ? c.clip : null;
      const level = patch.level === undefined ? c.level : patch.level;
      const name = patch.name ?? c.name;
      const args = [id, name, text.en, text['zh-CN'] ?? null, level, json(audio), clip?.sha256 ?? null, clip?.seconds ?? null, by];
      const rows =
        c.state === 'draft'
          ? await tx.query(
              `update pa_messages set name = $2, text_en = $3, text_zh = $4, level = $5, audio = $6::jsonb, clip_sha256 = $7, clip_seconds = $8, edited_by = $9
               where id = $1 and version = $10 returning *`,
              [...args, c.version],
            )
          : await tx.query(
              `insert into pa_messages (id, version, name, text_en, text_zh, level, audio, clip_sha256, clip_seconds, created_by, edited_by)
               values ($1, $10, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $9) returning *`,
              [...args, c.version + 1],
            );
      return messageRow(rows[0]!);
    });
  }

  /** Sets the audio of one language of a draft; returns the draft, or undefined when there is no draft. */
  async setMessageAudio(id: string, version: number, lang: 'en' | 'zh-CN', a: LangAudio, by: string): Promise<MessageRow | undefined> {
    const r = await this.db.query(
      `update pa_messages set audio = jsonb_set(audio, $3::text[], $4::jsonb), clip_sha256 = null, clip_seconds = null, edited_by = $5
       where id = $1 and version = $2 and state = 'draft' returning *`,
      [id, version, [lang], json(a), by],
    );
    return r[0] ? messageRow(r[0]) : undefined;
  }

  /** The composed clip (every language in order) of a draft. */
  async setMessageClip(id: string, version: number, clip: { sha256: string; seconds: number }): Promise<void> {
    await this.db.query(`update pa_messages set clip_sha256 = $3, clip_seconds = $4 where id = $1 and version = $2 and state = 'draft'`, [id, version, clip.sha256, clip.seconds]);
  }

  /** Approves a draft; the approved version before it is retired. Returns the row, or why not. */
  async approveMessage(id: string, version: number, by: string): Promise<{ ok: true; row: MessageRow } | { ok: false; error: string; status: number }> {
    return this.db.transaction(async (tx) => {
      const cur = (await tx.query('select * from pa_messages where id = $1 and version = $2 for update', [id, version]))[0];
      if (!cur) return { ok: false, error: 'no such message version', status: 404 };
      const m = messageRow(cur);
      if (m.state !== 'draft') return { ok: false, error: `version ${version} is ${m.state}, not a draft`, status: 409 };
      if (m.createdBy === by || m.editedBy === by) return { ok: false, error: 'a second user must approve: you wrote or changed this draft', status: 403 };
      if (!m.clip) return { ok: false, error: 'the draft has no audio for every language yet', status: 409 };
      await tx.query(`update pa_messages set state = 'retired' where id = $1 and state = 'approved'`, [id]);
      const r = await tx.query(`update pa_messages set state = 'approved', approved_by = $3, approved_at = now() where id = $1 and version = $2 returning *`, [id, version, by]);
      return { ok: true, row: messageRow(r[0]!) };
    });
  }

  async retireMessage(id: string): Promise<number> {
    return (await this.db.query(`update pa_messages set state = 'retired' where id = $1 and state <> 'retired' returning 1`, [id])).length;
  }

  async getMessage(id: string, version?: number): Promise<MessageRow | undefined> {
    const r = await this.db.query(`select * from pa_messages where id = $1 and ($2::int is null or version = $2) order by version desc limit 1`, [id, version ?? null]);
    return r[0] ? messageRow(r[0]) : undefined;
  }

  async approvedMessage(id: string): Promise<MessageRow | undefined> {
    const r = await this.db.query(`select * from pa_messages where id = $1 and state = 'approved' order by version desc limit 1`, [id]);
    return r[0] ? messageRow(r[0]) : undefined;
  }

  /** The approved message for an incident level (the newest approval if several). */
  async messageForLevel(level: string): Promise<MessageRow | undefined> {
    const r = await this.db.query(`select * from pa_messages where level = $1 and state = 'approved' order by approved_at desc limit 1`, [level]);
    return r[0] ? messageRow(r[0]) : undefined;
  }

  /** Every message: its newest version, and its approved version when that is an older one. */
  async listMessages(): Promise<{ latest: MessageRow; approved: MessageRow | null }[]> {
    const rows = (await this.db.query(`select * from pa_messages order by id, version desc`)).map(messageRow);
    const out = new Map<string, { latest: MessageRow; approved: MessageRow | null }>();
    for (const r of rows) {
      const e = out.get(r.id);
      if (!e) out.set(r.id, { latest: r, approved: r.state === 'approved' ? r : null });
      else if (!e.approved && r.state === 'approved') e.approved = r;
    }
    return [...out.values()];
  }

  // ---- plays -------------------------------------------------------------------

  async createPlay(p: Omit<PlayRow, 'fired' | 'state' | 'createdAt' | 'cancelledBy' | 'cancelledAt'>): Promise<PlayRow> {
    const r = await this.db.query(
      `insert into pa_plays (id, message_id, message_version, zones, kiosks, channel, drill, incident_id, start_at, every_s, times, next_at, state, created_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'scheduled', $13) returning *`,
      [p.id, p.messageId, p.messageVersion, p.zones, p.kiosks, p.channel, p.drill, p.incidentId, p.startAt, p.everyS, p.times, p.nextAt, p.createdBy],
    );
    return playRow(r[0]!);
  }

  /**
   * Claims one occurrence of each play that is due: its next time moves on
   * (or the play is done) in the same statement, so two hub instances never
   * fire the same occurrence.
   */
  async claimDuePlays(limit = 50): Promise<PlayRow[]> {
    const due = await this.db.query<{ id: string; fired: number }>(`select id, fired from pa_plays where state = 'scheduled' and next_at <= now() order by next_at limit $1`, [limit]);
    const claimed: PlayRow[] = [];
    for (const d of due) {
      const r = await this.db.query(
        `update pa_plays set fired = fired + 1,
           next_at = case when every_s is null or (times is not null and fired + 1 >= times) then null else next_at + every_s * interval '1 second' end,
           state = case when every_s is null or (times is not null and fired + 1 >= times) then 'done' else 'scheduled' end
         where id = $1 and state = 'scheduled' and fired = $2 returning *`,
        [d.id, d.fired],
      );
      if (r[0]) claimed.push({ ...playRow(r[0]), fired: Number(r[0].fired) });
    }
    return claimed;
  }

  async cancelPlay(id: string, by: string): Promise<PlayRow | undefined> {
    const r = await this.db.query(
      `update pa_plays set state = 'cancelled', next_at = null, cancelled_by = $2, cancelled_at = now() where id = $1 and state <> 'cancelled' returning *`,
      [id, by],
    );
    return r[0] ? playRow(r[0]) : undefined;
  }

  async getPlay(id: string): Promise<PlayRow | undefined> {
    const r = await this.db.query('select * from pa_plays where id = $1', [id]);
    return r[0] ? playRow(r[0]) : undefined;
  }

  async listPlays(f: { active?: boolean; incident?: string; limit?: number } = {}): Promise<PlayRow[]> {
    const r = await this.db.query(
      `select * from pa_plays where ($1::boolean is not true or state = 'scheduled') and ($2::text is null or incident_id = $2) order by created_at desc limit $3`,
      [f.active ?? null, f.incident ?? null, f.limit ?? 200],
    );
    return r.map(playRow);
  }

  // ---- actions and receipts ----------------------------------------------------------

  /** An action with a receipt row for each kiosk (pending, or already failed: offline). */
  async createAction(a: Omit<ActionRow, 'createdAt' | 'endedAt'>, receipts: { kiosk: string; state: ReceiptState; reason?: string }[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `insert into pa_actions (id, kind, play_id, message_id, message_version, text, zones, channel, drill, incident_id, created_by)
         values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11)`,
        [a.id, a.kind, a.playId, a.messageId, a.messageVersion, a.text ? json(a.text) : null, a.zones, a.channel, a.drill, a.incidentId, a.createdBy],
      );
      if (receipts.length)
        await tx.query(
          `insert into pa_receipts (action_id, kiosk_id, state, rank, reason, ended_at)
           select $1, k, s, r, reason, case when r = 3 then now() end from unnest($2::text[], $3::text[], $4::int[], $5::text[]) as t(k, s, r, reason)`,
          [a.id, receipts.map((r) => r.kiosk), receipts.map((r) => r.state), receipts.map((r) => RECEIPT_RANK[r.state]), receipts.map((r) => r.reason ?? null)],
        );
    });
  }

  async endAction(id: string): Promise<void> {
    await this.db.query('update pa_actions set ended_at = coalesce(ended_at, now()) where id = $1', [id]);
  }

  /**
   * Receipt updates, batched (one statement): a state moves only forward; the
   * times of each step are kept. Returns the actions that changed.
   */
  async applyReceipts(updates: ReceiptUpdate[], tx: Sql = this.db): Promise<string[]> {
    if (updates.length === 0) return [];
    // Within a batch, the furthest update per receipt goes in (a note never moves the state).
    // A 'started' folded into a later state (same batch), or arriving after it (another batch), still sets its time.
    const best = new Map<string, ReceiptUpdate & { started: boolean }>();
    const notes: ReceiptUpdate[] = [];
    for (const u of updates) {
      if (u.note) {
        notes.push(u);
        continue;
      }
      const k = `${u.action}\u0000${u.kiosk}`;
      const prev = best.get(k);
      const started = u.state === 'started' || !!prev?.started;
      if (!prev || RECEIPT_RANK[u.state] > RECEIPT_RANK[prev.state]) best.set(k, { ...u, started, via: u.via ?? prev?.via, reason: u.reason ?? (prev && RECEIPT_RANK[prev.state] === RECEIPT_RANK[u.state] ? prev.reason : undefined) });
      else prev.started = started;
    }
    const list = [...best.values()];
    const changed = new Set<string>();
    if (list.length) {
      const rows = await tx.query<{ action_id: string }>(
        `update pa_receipts r set
           state = case when u.rank > r.rank then u.state else r.state end,
           reason = case when u.rank > r.rank then coalesce(u.reason, r.reason) else r.reason end,
           via = coalesce(u.via, r.via),
           rank = greatest(r.rank, u.rank),
           delivered_at = case when u.rank >= 1 then coalesce(r.delivered_at, now()) else r.delivered_at end,
           started_at = case when u.started then coalesce(r.started_at, now()) else r.started_at end,
           ended_at = case when u.rank = 3 and r.rank < 3 then now() else r.ended_at end,
           updated_at = now()
         from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::bool[]) as u(action_id, kiosk_id, state, rank, reason, via, started)
         where r.action_id = u.action_id and r.kiosk_id = u.kiosk_id
           and (u.rank > r.rank or (u.via is not null and r.via is distinct from u.via) or (u.started and r.started_at is null))
         returning r.action_id`,
        [list.map((u) => u.action), list.map((u) => u.kiosk), list.map((u) => u.state), list.map((u) => RECEIPT_RANK[u.state]), list.map((u) => u.reason ?? null), list.map((u) => u.via ?? null), list.map((u) => u.started)],
      );
      for (const r of rows) changed.add(r.action_id);
    }
    if (notes.length) {
      const rows = await tx.query<{ action_id: string }>(
        `update pa_receipts r set reason = u.reason, updated_at = now()
         from unnest($1::text[], $2::text[], $3::text[]) as u(action_id, kiosk_id, reason)
         where r.action_id = u.action_id and r.kiosk_id = u.kiosk_id and r.rank < 3 returning r.action_id`,
        [notes.map((u) => u.action), notes.map((u) => u.kiosk), notes.map((u) => u.reason ?? null)],
      );
      for (const r of rows) changed.add(r.action_id);
    }
    return [...changed];
  }

  /**
   * Receipts that will not move any more: a kiosk that never answered a
   * command (`pendingS` after it was sent), or never reported the end of a
   * live page (`endedS` after the page ended). They fail with the reason.
   */
  async expireReceipts(pendingS: number, endedS: number): Promise<string[]> {
    const a = await this.db.query<{ action_id: string }>(
      `update pa_receipts r set state = 'failed', rank = 3, reason = 'no answer from the kiosk', ended_at = now(), updated_at = now()
       from pa_actions a where a.id = r.action_id and r.rank = 0 and a.created_at < now() - $1::int * interval '1 second' returning r.action_id`,
      [pendingS],
    );
    const b = await this.db.query<{ action_id: string }>(
      `update pa_receipts r set state = 'failed', rank = 3, reason = coalesce(r.reason || '; ', '') || 'the kiosk did not report the end', ended_at = now(), updated_at = now()
       from pa_actions a where a.id = r.action_id and r.rank between 1 and 2 and a.ended_at < now() - $1::int * interval '1 second' returning r.action_id`,
      [endedS],
    );
    return [...new Set([...a, ...b].map((r) => r.action_id))];
  }

  /** Receipts still open (pending, delivered, started) of an action: for ending them when it ends. */
  async openReceipts(action: string): Promise<string[]> {
    return (await this.db.query<{ kiosk_id: string }>('select kiosk_id from pa_receipts where action_id = $1 and rank < 3', [action])).map((r) => r.kiosk_id);
  }

  async getAction(id: string): Promise<ActionRow | undefined> {
    const r = await this.db.query('select * from pa_actions where id = $1', [id]);
    return r[0] ? actionRow(r[0]) : undefined;
  }

  async listActions(f: { incident?: string; play?: string; since?: string; limit?: number } = {}): Promise<ActionRow[]> {
    const r = await this.db.query(
      `select * from pa_actions where ($1::text is null or incident_id = $1) and ($2::text is null or play_id = $2) and ($3::timestamptz is null or created_at >= $3)
       order by created_at desc limit $4`,
      [f.incident ?? null, f.play ?? null, f.since ?? null, f.limit ?? 100],
    );
    return r.map(actionRow);
  }

  async receipts(action: string, updatedAfter?: string): Promise<ReceiptRow[]> {
    const r = await this.db.query(
      `select * from pa_receipts where action_id = $1 and ($2::timestamptz is null or updated_at > $2) order by kiosk_id`,
      [action, updatedAfter ?? null],
    );
    return r.map((x) => ({
      kiosk: x.kiosk_id as string,
      state: x.state as ReceiptState,
      reason: (x.reason as string | null) ?? null,
      via: (x.via as string | null) ?? null,
      deliveredAt: isoOrNull(x.delivered_at),
      startedAt: isoOrNull(x.started_at),
      endedAt: isoOrNull(x.ended_at),
      updatedAt: iso(x.updated_at),
    }));
  }

  async counts(actions: string[]): Promise<Map<string, Counts>> {
    const rows = await this.db.query<{ action_id: string; state: ReceiptState; n: number }>(
      'select action_id, state, count(*)::int as n from pa_receipts where action_id = any($1) group by action_id, state',
      [actions],
    );
    const out = new Map<string, Counts>();
    for (const a of actions) out.set(a, { ...(Object.fromEntries(RECEIPT_STATES.map((s) => [s, 0])) as Record<ReceiptState, number>), total: 0 });
    for (const r of rows) {
      const c = out.get(r.action_id)!;
      c[r.state] = Number(r.n);
      c.total += Number(r.n);
    }
    return out;
  }

  // ---- incidents ------------------------------------------------------------------------

  async createIncident(i: Omit<IncidentRow, 'state' | 'declaredAt' | 'closedBy' | 'closedAt' | 'summary'>, first: { text: string; detail?: unknown }): Promise<IncidentRow> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query(
        `insert into incidents (id, drill, title, kind, level, colour, zones, blocked_exits, guidance, message_id, play_id, declared_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12) returning *`,
        [i.id, i.drill, i.title, i.kind, i.level, i.colour, i.zones, i.blockedExits, i.guidance ? json(i.guidance) : null, i.messageId, i.playId, i.declaredBy],
      );
      await this.addTimeline([{ incident: i.id, by: i.declaredBy, kind: 'declared', text: first.text, detail: first.detail }], tx);
      return incidentRow(r[0]!);
    });
  }

  async updateIncident(id: string, patch: Partial<Pick<IncidentRow, 'title' | 'kind' | 'level' | 'colour' | 'blockedExits' | 'guidance' | 'messageId' | 'playId'>>): Promise<IncidentRow | undefined> {
    const r = await this.db.query(
      `update incidents set title = coalesce($2, title), kind = coalesce($3, kind), level = coalesce($4, level), colour = coalesce($5, colour),
         blocked_exits = coalesce($6, blocked_exits), guidance = coalesce($7::jsonb, guidance), message_id = coalesce($8, message_id), play_id = coalesce($9, play_id)
       where id = $1 and state = 'open' returning *`,
      [id, patch.title ?? null, patch.kind ?? null, patch.level ?? null, patch.colour ?? null, patch.blockedExits ?? null, patch.guidance ? json(patch.guidance) : null, patch.messageId ?? null, patch.playId ?? null],
    );
    return r[0] ? incidentRow(r[0]) : undefined;
  }

  async closeIncident(id: string, by: string, summary: string): Promise<IncidentRow | undefined> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query(`update incidents set state = 'closed', closed_by = $2, closed_at = now(), summary = $3 where id = $1 and state = 'open' returning *`, [id, by, summary]);
      if (!r[0]) return undefined;
      await this.addTimeline([{ incident: id, by, kind: 'closed', text: summary }], tx);
      return incidentRow(r[0]);
    });
  }

  async getIncident(id: string): Promise<IncidentRow | undefined> {
    const r = await this.db.query('select * from incidents where id = $1', [id]);
    return r[0] ? incidentRow(r[0]) : undefined;
  }

  async listIncidents(f: { drill?: boolean; state?: 'open' | 'closed'; limit?: number } = {}): Promise<IncidentRow[]> {
    const r = await this.db.query(
      `select * from incidents where ($1::boolean is null or drill = $1) and ($2::text is null or state = $2) order by declared_at desc limit $3`,
      [f.drill ?? null, f.state ?? null, f.limit ?? 200],
    );
    return r.map(incidentRow);
  }

  /** Open incidents (and drills) covering any of these zones. */
  async openIncidentsIn(zones: string[]): Promise<IncidentRow[]> {
    if (zones.length === 0) return [];
    const r = await this.db.query(`select * from incidents where state = 'open' and zones && $1::text[] order by declared_at`, [zones]);
    return r.map(incidentRow);
  }

  async addTimeline(entries: { incident: string; by: string; kind: string; text: string; detail?: unknown }[], tx: Sql = this.db): Promise<void> {
    if (entries.length === 0) return;
    await tx.query(
      `insert into incident_timeline (incident_id, by_user, kind, text, detail)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[])`,
      [entries.map((e) => e.incident), entries.map((e) => e.by), entries.map((e) => e.kind), entries.map((e) => e.text), entries.map((e) => (e.detail === undefined ? null : json(e.detail)))],
    );
  }

  async timeline(id: string): Promise<TimelineEntry[]> {
    const r = await this.db.query('select * from incident_timeline where incident_id = $1 order by serial', [id]);
    return r.map((x) => ({ serial: Number(x.serial), at: iso(x.at), by: x.by_user as string, kind: x.kind as string, text: x.text as string, detail: x.detail ?? null }));
  }
}

function messageRow(r: Record<string, unknown>): MessageRow {
  return {
    id: r.id as string,
    version: Number(r.version),
    name: r.name as string,
    text: { en: r.text_en as string, ...(r.text_zh ? { 'zh-CN': r.text_zh as string } : {}) },
    level: (r.level as string | null) ?? null,
    audio: (r.audio as MessageRow['audio']) ?? {},
    clip: r.clip_sha256 ? { sha256: r.clip_sha256 as string, seconds: Number(r.clip_seconds) } : null,
    state: r.state as MessageState,
    createdBy: r.created_by as string,
    createdAt: iso(r.created_at),
    editedBy: r.edited_by as string,
    approvedBy: (r.approved_by as string | null) ?? null,
    approvedAt: isoOrNull(r.approved_at),
  };
}

function playRow(r: Record<string, unknown>): PlayRow {
  return {
    id: r.id as string,
    messageId: r.message_id as string,
    messageVersion: Number(r.message_version),
    zones: (r.zones as string[]) ?? [],
    kiosks: (r.kiosks as string[] | null) ?? null,
    channel: r.channel as string,
    drill: !!r.drill,
    incidentId: (r.incident_id as string | null) ?? null,
    startAt: isoOrNull(r.start_at),
    everyS: r.every_s == null ? null : Number(r.every_s),
    times: r.times == null ? null : Number(r.times),
    nextAt: isoOrNull(r.next_at),
    fired: Number(r.fired),
    state: r.state as PlayRow['state'],
    createdBy: r.created_by as string,
    createdAt: iso(r.created_at),
    cancelledBy: (r.cancelled_by as string | null) ?? null,
    cancelledAt: isoOrNull(r.cancelled_at),
  };
}

function actionRow(r: Record<string, unknown>): ActionRow {
  return {
    id: r.id as string,
    kind: r.kind as ActionRow['kind'],
    playId: (r.play_id as string | null) ?? null,
    messageId: (r.message_id as string | null) ?? null,
    messageVersion: r.message_version == null ? null : Number(r.message_version),
    text: (r.text as LocalText | null) ?? null,
    zones: (r.zones as string[]) ?? [],
    channel: r.channel as string,
    drill: !!r.drill,
    incidentId: (r.incident_id as string | null) ?? null,
    createdBy: r.created_by as string,
    createdAt: iso(r.created_at),
    endedAt: isoOrNull(r.ended_at),
  };
}

function incidentRow(r: Record<string, unknown>): IncidentRow {
  return {
    id: r.id as string,
    drill: !!r.drill,
    state: r.state as IncidentRow['state'],
    title: r.title as string,
    kind: r.kind as IncidentRow['kind'],
    level: r.level as string,
    colour: (r.colour as string | null) ?? null,
    zones: (r.zones as string[]) ?? [],
    blockedExits: (r.blocked_exits as string[]) ?? [],
    guidance: (r.guidance as LocalText | null) ?? null,
    messageId: (r.message_id as string | null) ?? null,
    playId: (r.play_id as string | null) ?? null,
    declaredBy: r.declared_by as string,
    declaredAt: iso(r.declared_at),
    closedBy: (r.closed_by as string | null) ?? null,
    closedAt: isoOrNull(r.closed_at),
    summary: (r.summary as string | null) ?? null,
  };
}
