// Storage of the reboots asked from the hub (storage.reboots, migration
// 202_kiosk_reboots.sql): each kiosk's boot id and one row per kiosk.reboot
// command, from asked to back, not-back, refused or failed.
import type { Db, Sql } from './db.js';

export type RebootState = 'asked' | 'rebooting' | 'back' | 'not-back' | 'refused' | 'failed';

export interface RebootRow {
  commandId: string;
  kiosk: string;
  by: string;
  state: RebootState;
  askedAt: string;
  deadline: string;
  bootBefore: string;
  /** when the kiosk said the system has the reboot */
  handedAt: string | null;
  /** back, not-back, refused or failed: when */
  endedAt: string | null;
  bootAfter: string | null;
  error: string | null;
}

interface Raw {
  command_id: string;
  kiosk_id: string;
  asked_by: string;
  state: RebootState;
  asked_at: Date;
  deadline: Date;
  boot_before: string;
  handed_at: Date | null;
  ended_at: Date | null;
  boot_after: string | null;
  error: string | null;
}

const iso = (d: unknown): string => (d instanceof Date ? d.toISOString() : new Date(String(d)).toISOString());
const row = (r: Raw): RebootRow => ({
  commandId: r.command_id,
  kiosk: r.kiosk_id,
  by: r.asked_by,
  state: r.state,
  askedAt: iso(r.asked_at),
  deadline: iso(r.deadline),
  bootBefore: r.boot_before,
  handedAt: r.handed_at ? iso(r.handed_at) : null,
  endedAt: r.ended_at ? iso(r.ended_at) : null,
  bootAfter: r.boot_after,
  error: r.error,
});
const OPEN = `state in ('asked', 'rebooting')`;

export class RebootStorage {
  constructor(private readonly db: Db) {}

  /**
   * Boot ids kiosks reported (a heartbeat received at `seenAt`, ms), many in
   * two statements (a fleet reconnecting at once): each is stored on its
   * kiosk's row, and a kiosk's open reboot asked before that heartbeat, on
   * another boot, is done. Returns the reboots that ended.
   */
  async bootsSeen(seen: { kiosk: string; bootId: string; seenAt: number }[]): Promise<{ commandId: string; kiosk: string }[]> {
    if (seen.length === 0) return [];
    const last = new Map(seen.map((s) => [s.kiosk, s])); // the newest report of a kiosk wins
    const kiosks = [...last.keys()];
    const boots = kiosks.map((k) => last.get(k)!.bootId);
    const at = kiosks.map((k) => last.get(k)!.seenAt);
    await this.db.query(
      `update kiosks k set boot_id = u.b from unnest($1::text[], $2::text[]) as u(id, b) where k.id = u.id and k.boot_id is distinct from u.b`,
      [kiosks, boots],
    );
    const rs = await this.db.query<{ command_id: string; kiosk_id: string }>(
      `update kiosk_reboots r set state = 'back', ended_at = now(), boot_after = u.b
         from unnest($1::text[], $2::text[], $3::float8[]) as u(id, b, seen)
        where r.kiosk_id = u.id and r.${OPEN} and r.boot_before <> u.b and r.asked_at < to_timestamp(u.seen / 1000)
        returning r.command_id, r.kiosk_id`,
      [kiosks, boots, at],
    );
    return rs.map((r) => ({ commandId: r.command_id, kiosk: r.kiosk_id }));
  }

  async bootId(kiosk: string): Promise<string | null> {
    const [r] = await this.db.query<{ boot_id: string | null }>('select boot_id from kiosks where id = $1', [kiosk]);
    return r?.boot_id ?? null;
  }

  /** A new reboot, in the transaction that stores its command; fails (unique index) while another of the kiosk is open. */
  async create(tx: Sql, r: { commandId: string; kiosk: string; by: string; bootBefore: string; timeoutS: number }): Promise<void> {
    await tx.query(
      `insert into kiosk_reboots (command_id, kiosk_id, asked_by, boot_before, deadline) values ($1, $2, $3, $4, now() + $5::float8 * interval '1 second')`,
      [r.commandId, r.kiosk, r.by, r.bootBefore, r.timeoutS],
    );
  }

  async open(kiosk: string): Promise<RebootRow | undefined> {
    const [r] = await this.db.query<Raw>(`select * from kiosk_reboots where kiosk_id = $1 and ${OPEN}`, [kiosk]);
    return r && row(r);
  }

  async get(commandId: string): Promise<RebootRow | undefined> {
    const [r] = await this.db.query<Raw>('select * from kiosk_reboots where command_id = $1', [commandId]);
    return r && row(r);
  }

  /** A kiosk's reboots, newest first. */
  async list(kiosk: string, limit = 20): Promise<RebootRow[]> {
    return (await this.db.query<Raw>('select * from kiosk_reboots where kiosk_id = $1 order by asked_at desc limit $2', [kiosk, limit])).map(row);
  }

  /** The newest reboot of each of these kiosks (all when ids is undefined), for the fleet list. */
  async latest(ids?: string[]): Promise<Map<string, RebootRow>> {
    const rs = await this.db.query<Raw>(
      `select distinct on (kiosk_id) * from kiosk_reboots where ($1::text[] is null or kiosk_id = any($1)) order by kiosk_id, asked_at desc`,
      [ids ?? null],
    );
    return new Map(rs.map((r) => [r.kiosk_id, row(r)]));
  }

  /** The kiosk (by its connection) says its system has the reboot: asked -> rebooting. */
  async handed(commandId: string, kiosk: string): Promise<boolean> {
    const rs = await this.db.query(`update kiosk_reboots set state = 'rebooting', handed_at = now() where command_id = $1 and kiosk_id = $2 and state = 'asked' returning command_id`, [commandId, kiosk]);
    return rs.length > 0;
  }

  /** The kiosk refused, or its reboot command failed: the reboot ends with its reason. */
  async answered(commandId: string, kiosk: string, state: 'refused' | 'failed', error: string): Promise<boolean> {
    const rs = await this.db.query(
      `update kiosk_reboots set state = $3, ended_at = now(), error = $4 where command_id = $1 and kiosk_id = $2 and ${OPEN} returning command_id`,
      [commandId, kiosk, state, error],
    );
    return rs.length > 0;
  }

  /** Open reboots past their deadline end as not-back (each taken by one instance only). */
  async expire(): Promise<{ commandId: string; kiosk: string; error: string }[]> {
    const rs = await this.db.query<{ command_id: string; kiosk_id: string; error: string }>(
      `update kiosk_reboots
          set state = 'not-back', ended_at = now(),
              error = case when handed_at is null then 'no answer, and ' else '' end || 'not back within ' || round(extract(epoch from (deadline - asked_at)))::int || ' s'
        where ${OPEN} and deadline < now()
        returning command_id, kiosk_id, error`,
    );
    return rs.map((r) => ({ commandId: r.command_id, kiosk: r.kiosk_id, error: r.error }));
  }
}
