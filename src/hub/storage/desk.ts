// The dispatch desk's tables (migration 300_desk.sql), exposed as
// `storage.desk`: desks held by dispatchers, claims on alarms (exactly one
// desk takes an alarm), what dispatchers did, open information calls and the
// callers' screen languages. The alarm rows themselves are the platform's
// (`alarms`, one per alarmId from kiosk alarm.state events).
import type { Db } from './db.js';

export interface Seat {
  desk: string;
  user: string;
  takenAt: string;
}

export interface Claim {
  alarmId: string;
  kiosk: string;
  user: string;
  desk: string;
  mode: 'answer' | 'pickup' | 'listen';
  claimedAt: string;
  confirmed: boolean;
}

export interface DeskAction {
  serial: number;
  at: string;
  kiosk: string;
  alarmId: string | null;
  user: string;
  desk: string | null;
  action: string;
  detail: unknown;
}

/** One line of the board: an open alarm, or an information call that has not ended. */
export interface BoardRow {
  /** alarmId, or the call id of an information call */
  ref: string;
  type: 'alarm' | 'call';
  kind: 'emergency' | 'information';
  kiosk: string;
  zone: string;
  location: unknown;
  category: string | null;
  /** the language the kiosk's screen shows (null: not reported yet) */
  lang: string | null;
  state: string;
  /** when the alarm was raised (or the call placed), ISO */
  raisedAt: string;
  /** the last transition, ISO */
  at: string;
  attempt: number | null;
  /** SIP URI of the desk being called or talking */
  target: string | null;
  /** the reason of the last transition (re-sent, 486 Busy Here, ...) */
  reason: string | null;
  claim: Omit<Claim, 'alarmId' | 'kiosk'> | null;
}

const iso = (d: unknown): string => (d instanceof Date ? d.toISOString() : String(d));
const json = (v: unknown) => JSON.stringify(v ?? null);
/** The SIP user of a URI: "sip:desk-1@10.0.0.5:5062" -> "desk-1". */
/** The SIP user a hunt-list target names: sip:USER@host, or a console desk by name (desk:USER). */
export const sipUser = (uri: string | null | undefined): string | null => (uri ? (/^sips?:([^@;>]+)@/i.exec(uri)?.[1] ?? /^desk:(.+)$/.exec(uri)?.[1] ?? null) : null);

function claimRow(r: Record<string, unknown>): Claim {
  return {
    alarmId: r.alarm_id as string,
    kiosk: r.kiosk_id as string,
    user: r.user_name as string,
    desk: r.desk_id as string,
    mode: r.mode as Claim['mode'],
    claimedAt: iso(r.claimed_at),
    confirmed: !!r.confirmed,
  };
}

export class DeskStorage {
  constructor(private readonly db: Db) {}

  // ---- desks held by dispatchers -----------------------------------------------

  /**
   * Gives a dispatcher's session a desk: the one it holds already, else the
   * first of `candidates` that is free or held by a session that has ended
   * (logged out, expired, revoked). One statement per candidate: two
   * dispatchers never get the same desk.
   */
  async takeSeat(candidates: string[], user: string, sessionSha256: string): Promise<Seat | undefined> {
    const held = await this.seatOf(sessionSha256);
    if (held) return held;
    for (const desk of candidates) {
      const r = await this.db.query<{ desk_id: string; user_name: string; taken_at: Date }>(
        `insert into desk_seats (desk_id, user_name, session_sha256) values ($1, $2, $3)
         on conflict (desk_id) do update set user_name = excluded.user_name, session_sha256 = excluded.session_sha256, taken_at = now(), sip_secret = null
         where not exists (select 1 from sessions s where s.id_sha256 = desk_seats.session_sha256 and s.revoked_at is null and s.expires_at > now())
         returning desk_id, user_name, taken_at`,
        [desk, user, sessionSha256],
      );
      if (r[0]) return { desk: r[0].desk_id, user: r[0].user_name, takenAt: iso(r[0].taken_at) };
    }
    return undefined;
  }

  async seatOf(sessionSha256: string): Promise<Seat | undefined> {
    const r = (await this.db.query<{ desk_id: string; user_name: string; taken_at: Date }>('select desk_id, user_name, taken_at from desk_seats where session_sha256 = $1', [sessionSha256]))[0];
    return r && { desk: r.desk_id, user: r.user_name, takenAt: iso(r.taken_at) };
  }

  /** Desks held by a live session. */
  async seats(): Promise<Seat[]> {
    const rows = await this.db.query<{ desk_id: string; user_name: string; taken_at: Date }>(
      `select d.desk_id, d.user_name, d.taken_at from desk_seats d join sessions s on s.id_sha256 = d.session_sha256
       where s.revoked_at is null and s.expires_at > now() order by d.desk_id`,
    );
    return rows.map((r) => ({ desk: r.desk_id, user: r.user_name, takenAt: iso(r.taken_at) }));
  }

  /** Records the SIP secret set for the session's desk; false when the session no longer holds it. */
  async setSipSecret(desk: string, sessionSha256: string, secret: string): Promise<boolean> {
    return (await this.db.query('update desk_seats set sip_secret = $3 where desk_id = $1 and session_sha256 = $2 returning desk_id', [desk, sessionSha256, secret])).length > 0;
  }

  /**
   * The SIP secret of every desk held by a live session (a desk absent here
   * must be locked), how long ago it was taken (a take whose secret is not
   * recorded yet is in progress on some instance) and how long until the
   * session expires (both by the database's clock).
   */
  async liveSipSecrets(desk?: string): Promise<Map<string, { secret: string | null; ageMs: number; expiresInMs: number }>> {
    const rows = await this.db.query<{ desk_id: string; sip_secret: string | null; age_ms: number | string; expires_in_ms: number | string }>(
      `select d.desk_id, d.sip_secret, (extract(epoch from (now() - d.taken_at)) * 1000)::float8 as age_ms,
              (extract(epoch from (s.expires_at - now())) * 1000)::float8 as expires_in_ms
       from desk_seats d join sessions s on s.id_sha256 = d.session_sha256
       where s.revoked_at is null and s.expires_at > now() and ($1::text is null or d.desk_id = $1)`,
      [desk ?? null],
    );
    return new Map(rows.map((r) => [r.desk_id, { secret: r.sip_secret, ageMs: Number(r.age_ms), expiresInMs: Number(r.expires_in_ms) }]));
  }

  /** The session lets go of its desk (log-out, or the dispatcher leaves the desk); returns the desk. */
  async releaseSeat(sessionSha256: string): Promise<string | undefined> {
    return (await this.db.query<{ desk_id: string }>('delete from desk_seats where session_sha256 = $1 returning desk_id', [sessionSha256]))[0]?.desk_id;
  }

  // ---- claims ---------------------------------------------------------------------

  /**
   * Takes an alarm for a desk: wins when nobody holds a live claim on it (or
   * this desk already does). Otherwise returns the holder.
   */
  async claim(c: { alarmId: string; kiosk: string; user: string; desk: string; mode: Claim['mode'] }): Promise<{ ok: true; claim: Claim } | { ok: false; holder: Claim }> {
    const won = await this.db.query(
      `insert into desk_claims (alarm_id, kiosk_id, user_name, desk_id, mode) values ($1, $2, $3, $4, $5)
       on conflict (alarm_id) do update set user_name = excluded.user_name, desk_id = excluded.desk_id, mode = excluded.mode,
         claimed_at = now(), confirmed = false, released_at = null, released_why = null
       where desk_claims.released_at is not null or desk_claims.desk_id = excluded.desk_id
       returning *`,
      [c.alarmId, c.kiosk, c.user, c.desk, c.mode],
    );
    if (won[0]) return { ok: true, claim: claimRow(won[0]) };
    const holder = (await this.db.query('select * from desk_claims where alarm_id = $1', [c.alarmId]))[0];
    // Released between the two statements: try once more.
    if (!holder || holder.released_at) return this.claim(c);
    return { ok: false, holder: claimRow(holder) };
  }

  /** Lets go of a claim (the desk hung up, its call failed); only the holding desk's, unless desk is omitted. */
  async releaseClaim(alarmId: string, desk: string | undefined, why: string): Promise<boolean> {
    const r = await this.db.query(
      `update desk_claims set released_at = now(), released_why = $3 where alarm_id = $1 and released_at is null and ($2::text is null or desk_id = $2) returning 1`,
      [alarmId, desk ?? null, why],
    );
    return r.length === 1;
  }

  /** A desk is let go (its dispatcher logged out): its live claims end with it. */
  async releaseClaimsOfDesk(desk: string, why: string): Promise<string[]> {
    return (await this.db.query<{ alarm_id: string }>(`update desk_claims set released_at = now(), released_why = $2 where desk_id = $1 and released_at is null returning alarm_id`, [desk, why])).map(
      (r) => r.alarm_id,
    );
  }

  async liveClaim(alarmId: string): Promise<Claim | undefined> {
    const r = (await this.db.query('select * from desk_claims where alarm_id = $1 and released_at is null', [alarmId]))[0];
    return r && claimRow(r);
  }

  /**
   * Follows the alarm's transitions: talking with the claiming desk confirms
   * its claim; ringing again (calling, queued) ends a confirmed claim (its
   * call is over) or one that never became a call within lapseS; a reset ends
   * any. Returns whether a claim changed.
   */
  async followAlarm(alarmId: string, state: string, at: string, target: string | undefined, lapseS: number): Promise<boolean> {
    if (state === 'talking' && target) {
      // A group rang several desks at once: the one that took the claim is the one that answered.
      if (target.startsWith('group:')) return (await this.db.query('update desk_claims set confirmed = true where alarm_id = $1 and released_at is null and not confirmed returning 1', [alarmId])).length > 0;
      const desk = sipUser(target);
      return (await this.db.query('update desk_claims set confirmed = true where alarm_id = $1 and released_at is null and desk_id = $2 and not confirmed returning 1', [alarmId, desk])).length > 0;
    }
    if (state === 'calling' || state === 'queued') {
      return (
        await this.db.query(
          `update desk_claims set released_at = now(), released_why = 'the alarm rings again' where alarm_id = $1 and released_at is null
           and (confirmed or claimed_at < $2::timestamptz - $3::int * interval '1 second') returning 1`,
          [alarmId, at, lapseS],
        )
      ).length > 0;
    }
    if (state === 'reset') return this.releaseClaim(alarmId, undefined, 'reset');
    return false;
  }

  // ---- what dispatchers did ------------------------------------------------------------

  async action(a: { kiosk: string; alarmId?: string | null; user: string; desk?: string | null; action: string; detail?: unknown }): Promise<DeskAction> {
    const r = (
      await this.db.query<Record<string, unknown>>(
        `insert into desk_actions (kiosk_id, alarm_id, user_name, desk_id, action, detail) values ($1, $2, $3, $4, $5, $6::jsonb) returning *`,
        [a.kiosk, a.alarmId ?? null, a.user, a.desk ?? null, a.action, a.detail === undefined ? null : json(a.detail)],
      )
    )[0]!;
    return actionRow(r);
  }

  async actions(f: { kiosk: string; from?: string; limit?: number }): Promise<DeskAction[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `select * from desk_actions where kiosk_id = $1 and ($2::timestamptz is null or at >= $2) order by serial desc limit $3`,
      [f.kiosk, f.from ?? null, Math.min(f.limit ?? 500, 5000)],
    );
    return rows.map(actionRow);
  }

  // ---- folded from kiosk events -----------------------------------------------------------

  /** An information call's state; it leaves the table when it ends. */
  async foldCall(kiosk: string, boot: string, e: { callId: string; state: string; category?: string; target?: string; attempt?: number }): Promise<void> {
    // A kiosk that restarted has no call from before (it may not have said that they ended).
    await this.db.query('delete from desk_calls where kiosk_id = $1 and boot <> $2', [kiosk, boot]);
    if (e.state === 'ended' || e.state === 'failed') {
      await this.db.query('delete from desk_calls where call_id = $1 and kiosk_id = $2', [e.callId, kiosk]);
      return;
    }
    await this.db.query(
      `insert into desk_calls (call_id, kiosk_id, boot, state, category, target, attempt) values ($1, $2, $7, $3, $4, $5, $6)
       on conflict (call_id) do update set state = excluded.state, target = coalesce(excluded.target, desk_calls.target),
         attempt = coalesce(excluded.attempt, desk_calls.attempt), category = coalesce(excluded.category, desk_calls.category), updated_at = now()
       where desk_calls.kiosk_id = excluded.kiosk_id`,
      [e.callId, kiosk, e.state, e.category ?? null, e.target ?? null, e.attempt ?? null, boot],
    );
  }

  /** The language the kiosk's screen shows, as last reported (null: not yet). */
  async language(kiosk: string): Promise<string | null> {
    return (await this.db.query<{ lang: string }>('select lang from desk_languages where kiosk_id = $1', [kiosk]))[0]?.lang ?? null;
  }

  async setLanguage(kiosk: string, lang: string): Promise<void> {
    await this.db.query('insert into desk_languages (kiosk_id, lang) values ($1, $2) on conflict (kiosk_id) do update set lang = excluded.lang, at = now()', [kiosk, lang]);
  }

  // ---- the board ----------------------------------------------------------------------------

  /**
   * Open alarms (not reset) and information calls not ended (updated within
   * callMaxAgeS), with kiosk, location, language and the live claim.
   * Emergency before information, then oldest first.
   */
  async board(f: { alarmId?: string; callId?: string; kiosk?: string; callMaxAgeS?: number } = {}): Promise<BoardRow[]> {
    const alarms =
      f.callId !== undefined
        ? []
        : await this.db.query<Record<string, unknown>>(
            `select a.alarm_id, a.kiosk_id, a.state, a.category, a.raised_at, a.at, a.data, k.zone, k.location, l.lang,
               c.user_name, c.desk_id, c.mode, c.claimed_at, c.confirmed
             from alarms a join kiosks k on k.id = a.kiosk_id
             left join desk_languages l on l.kiosk_id = a.kiosk_id
             left join desk_claims c on c.alarm_id = a.alarm_id and c.released_at is null
             where a.state <> 'reset' and ($1::text is null or a.alarm_id = $1) and ($2::text is null or a.kiosk_id = $2)`,
            [f.alarmId ?? null, f.kiosk ?? null],
          );
    const calls =
      f.alarmId !== undefined
        ? []
        : await this.db.query<Record<string, unknown>>(
            `select d.call_id, d.kiosk_id, d.state, d.category, d.target, d.attempt, d.started_at, d.updated_at, k.zone, k.location, l.lang
             from desk_calls d join kiosks k on k.id = d.kiosk_id left join desk_languages l on l.kiosk_id = d.kiosk_id
             where d.updated_at > now() - $1::int * interval '1 second' and ($2::text is null or d.call_id = $2) and ($3::text is null or d.kiosk_id = $3)`,
            [f.callMaxAgeS ?? 1800, f.callId ?? null, f.kiosk ?? null],
          );
    const rows: BoardRow[] = [
      ...alarms.map((r): BoardRow => {
        const d = (r.data ?? {}) as { attempt?: unknown; target?: unknown; reason?: unknown };
        return {
          ref: r.alarm_id as string,
          type: 'alarm',
          kind: 'emergency',
          kiosk: r.kiosk_id as string,
          zone: r.zone as string,
          location: r.location,
          category: (r.category as string | null) ?? null,
          lang: (r.lang as string | null) ?? null,
          state: r.state as string,
          raisedAt: (r.raised_at as string | null) ?? (r.at as string),
          at: r.at as string,
          attempt: typeof d.attempt === 'number' ? d.attempt : null,
          target: typeof d.target === 'string' ? d.target : null,
          reason: typeof d.reason === 'string' ? d.reason : null,
          claim: r.desk_id ? { user: r.user_name as string, desk: r.desk_id as string, mode: r.mode as Claim['mode'], claimedAt: iso(r.claimed_at), confirmed: !!r.confirmed } : null,
        };
      }),
      ...calls.map(
        (r): BoardRow => ({
          ref: r.call_id as string,
          type: 'call',
          kind: 'information',
          kiosk: r.kiosk_id as string,
          zone: r.zone as string,
          location: r.location,
          category: (r.category as string | null) ?? null,
          lang: (r.lang as string | null) ?? null,
          state: r.state as string,
          raisedAt: iso(r.started_at),
          at: iso(r.updated_at),
          attempt: (r.attempt as number | null) ?? null,
          target: (r.target as string | null) ?? null,
          reason: null,
          claim: null,
        }),
      ),
    ];
    return rows.sort((a, b) => (a.kind === b.kind ? Date.parse(a.raisedAt) - Date.parse(b.raisedAt) : a.kind === 'emergency' ? -1 : 1));
  }
}

function actionRow(r: Record<string, unknown>): DeskAction {
  return {
    serial: Number(r.serial),
    at: iso(r.at),
    kiosk: r.kiosk_id as string,
    alarmId: (r.alarm_id as string | null) ?? null,
    user: r.user_name as string,
    desk: (r.desk_id as string | null) ?? null,
    action: r.action as string,
    detail: r.detail ?? null,
  };
}
