// Supervision's tables (migration 400_supervision.sql): the kiosks' test
// verdicts, the test answerer's observations, link changes, and the hub's own
// "test overdue" alarms (rows of the alarms table, category 'supervision',
// source 'hub').
import type { Db } from './db.js';

export interface TestStep {
  step: string;
  ok: boolean;
  ms: number;
  detail: string;
}

/** A kiosk's verdict (its recorded event supervision.test). */
export interface TestRow {
  testId: string;
  kiosk: string;
  trigger: string;
  startedAt: string;
  at: string;
  passed: boolean;
  failedStep: string | null;
  steps: TestStep[];
  intervalS: number | null;
  /** the kiosk's supervision.graceS (null from kiosks before it was reported) */
  graceS: number | null;
  next: string | null;
}

/** What the hub's test answerer observed on a test call. */
export interface AnswerRow {
  testId: string;
  kiosk: string;
  callId: string;
  instanceId: string;
  fromUri: string | null;
  answeredAt: string | null;
  /** the kiosk's 1000 Hz tone detected for >= 300 ms */
  toneHeard: boolean;
  /** ms from answer to detection */
  toneMs: number | null;
  /** the INFO body sent ('audio-out=ok' / 'audio-out=fail'), null when none went out */
  infoSent: string | null;
  /** RFC 4733 digit 1 received from the kiosk */
  dtmfReceived: boolean;
  /** digit 2 sent back */
  dtmfSent: boolean;
  endedAt: string;
  endReason: string | null;
  rtp: unknown;
}

export interface LinkChange {
  kiosk: string;
  at: number;
  online: boolean;
}

const iso = (d: unknown): string => (d instanceof Date ? d.toISOString() : new Date(String(d)).toISOString());
const json = (v: unknown) => JSON.stringify(v ?? null);

function testRow(r: Record<string, unknown>): TestRow {
  return {
    testId: r.test_id as string,
    kiosk: r.kiosk_id as string,
    trigger: r.trigger as string,
    startedAt: iso(r.started_at),
    at: iso(r.at),
    passed: !!r.passed,
    failedStep: (r.failed_step as string | null) ?? null,
    steps: (r.steps as TestStep[]) ?? [],
    intervalS: (r.interval_s as number | null) ?? null,
    graceS: (r.grace_s as number | null) ?? null,
    next: (r.next_at as string | null) ?? null,
  };
}

function answerRow(r: Record<string, unknown>): AnswerRow {
  return {
    testId: r.test_id as string,
    kiosk: r.kiosk_id as string,
    callId: r.call_id as string,
    instanceId: r.instance_id as string,
    fromUri: (r.from_uri as string | null) ?? null,
    answeredAt: r.answered_at ? iso(r.answered_at) : null,
    toneHeard: !!r.tone_heard,
    toneMs: (r.tone_ms as number | null) ?? null,
    infoSent: (r.info_sent as string | null) ?? null,
    dtmfReceived: !!r.dtmf_received,
    dtmfSent: !!r.dtmf_sent,
    endedAt: iso(r.ended_at),
    endReason: (r.end_reason as string | null) ?? null,
    rtp: r.rtp ?? null,
  };
}

const TEST_COLS = 'test_id, kiosk_id, trigger, started_at, at, passed, failed_step, steps, interval_s, next_at, grace_s';

export class SupervisionStorage {
  constructor(private readonly db: Db) {}

  /** Stores kiosk verdicts (a re-sent event changes nothing). */
  async insertTests(rows: TestRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `insert into supervision_tests (${TEST_COLS})
       select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::bool[], $7::text[], $8::jsonb[], $9::int[], $10::text[], $11::int[])
       on conflict (test_id) do nothing`,
      [
        rows.map((r) => r.testId),
        rows.map((r) => r.kiosk),
        rows.map((r) => r.trigger),
        rows.map((r) => r.startedAt),
        rows.map((r) => r.at),
        rows.map((r) => r.passed),
        rows.map((r) => r.failedStep),
        rows.map((r) => json(r.steps)),
        rows.map((r) => r.intervalS),
        rows.map((r) => r.next),
        rows.map((r) => r.graceS),
      ],
    );
  }

  async insertAnswers(rows: AnswerRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `insert into supervision_answers (test_id, kiosk_id, call_id, instance_id, from_uri, answered_at, tone_heard, tone_ms, info_sent, dtmf_received, dtmf_sent, ended_at, end_reason, rtp)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bool[], $8::int[], $9::text[], $10::bool[], $11::bool[], $12::timestamptz[], $13::text[], $14::jsonb[])
       on conflict (test_id) do nothing`,
      [
        rows.map((r) => r.testId),
        rows.map((r) => r.kiosk),
        rows.map((r) => r.callId),
        rows.map((r) => r.instanceId),
        rows.map((r) => r.fromUri),
        rows.map((r) => r.answeredAt),
        rows.map((r) => r.toneHeard),
        rows.map((r) => r.toneMs),
        rows.map((r) => r.infoSent),
        rows.map((r) => r.dtmfReceived),
        rows.map((r) => r.dtmfSent),
        rows.map((r) => r.endedAt),
        rows.map((r) => r.endReason),
        rows.map((r) => json(r.rtp)),
      ],
    );
  }

  async insertLinks(rows: LinkChange[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(`insert into supervision_links (kiosk_id, at, online) select k, to_timestamp(t / 1000.0), o from unnest($1::text[], $2::float8[], $3::bool[]) as u(k, t, o)`, [
      rows.map((r) => r.kiosk),
      rows.map((r) => r.at),
      rows.map((r) => r.online),
    ]);
  }

  /** The last verdict of each kiosk (all, or these). */
  async lastTests(ids?: string[]): Promise<Map<string, TestRow>> {
    const rows = await this.db.query<Record<string, unknown>>(
      `select distinct on (kiosk_id) ${TEST_COLS} from supervision_tests where ($1::text[] is null or kiosk_id = any($1)) order by kiosk_id, at desc`,
      [ids ?? null],
    );
    return new Map(rows.map((r) => [r.kiosk_id as string, testRow(r)]));
  }

  /** When each kiosk last passed a test, and its interval then. */
  async lastPassed(): Promise<Map<string, { at: number; intervalS: number | null }>> {
    const rows = await this.db.query<{ kiosk_id: string; at: Date; interval_s: number | null }>(
      `select distinct on (kiosk_id) kiosk_id, at, interval_s from supervision_tests where passed order by kiosk_id, at desc`,
    );
    return new Map(rows.map((r) => [r.kiosk_id, { at: new Date(r.at).getTime(), intervalS: r.interval_s }]));
  }

  /** The interval and grace each kiosk reported last (passed or not); grace null from kiosks that did not report one. */
  async lastSchedule(): Promise<Map<string, { intervalS: number; graceS: number | null }>> {
    const rows = await this.db.query<{ kiosk_id: string; interval_s: number; grace_s: number | null }>(
      `select distinct on (kiosk_id) kiosk_id, interval_s, grace_s from supervision_tests where interval_s is not null order by kiosk_id, at desc`,
    );
    return new Map(rows.map((r) => [r.kiosk_id, { intervalS: r.interval_s, graceS: r.grace_s ?? null }]));
  }

  async history(kiosk: string, limit = 50, before?: string): Promise<TestRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `select ${TEST_COLS} from supervision_tests where kiosk_id = $1 and ($2::timestamptz is null or at < $2) order by at desc limit $3`,
      [kiosk, before ?? null, limit],
    );
    return rows.map(testRow);
  }

  /** Tests of the kiosks in a time range (availability), oldest first, plus each kiosk's last one before it. */
  async testsBetween(kiosks: string[], from: number, to: number): Promise<TestRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `(select ${TEST_COLS} from supervision_tests where kiosk_id = any($1) and at >= to_timestamp($2 / 1000.0) and at < to_timestamp($3 / 1000.0))
       union all
       (select distinct on (kiosk_id) ${TEST_COLS} from supervision_tests where kiosk_id = any($1) and at < to_timestamp($2 / 1000.0) order by kiosk_id, at desc)`,
      [kiosks, from, to],
    );
    return rows.map(testRow).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  }

  async test(testId: string): Promise<TestRow | undefined> {
    const r = (await this.db.query<Record<string, unknown>>(`select ${TEST_COLS} from supervision_tests where test_id = $1`, [testId]))[0];
    return r ? testRow(r) : undefined;
  }

  async answer(testId: string): Promise<AnswerRow | undefined> {
    const r = (await this.db.query<Record<string, unknown>>('select * from supervision_answers where test_id = $1', [testId]))[0];
    return r ? answerRow(r) : undefined;
  }

  async answers(testIds: string[]): Promise<Map<string, AnswerRow>> {
    if (testIds.length === 0) return new Map();
    const rows = await this.db.query<Record<string, unknown>>('select * from supervision_answers where test_id = any($1)', [testIds]);
    return new Map(rows.map((r) => [r.test_id as string, answerRow(r)]));
  }

  /** The first test of a kiosk that finished after an instant (an on-demand test's verdict), by trigger. */
  async testAfter(kiosk: string, since: number, trigger?: string, exclude?: string): Promise<TestRow | undefined> {
    const r = (
      await this.db.query<Record<string, unknown>>(
        `select ${TEST_COLS} from supervision_tests where kiosk_id = $1 and at >= to_timestamp($2 / 1000.0) and ($3::text is null or trigger = $3)
           and ($4::text is null or test_id <> $4) order by at asc limit 1`,
        [kiosk, since, trigger ?? null, exclude ?? null],
      )
    )[0];
    return r ? testRow(r) : undefined;
  }

  /** Link changes of the kiosks in a range, plus each kiosk's last one before it. */
  async linksBetween(kiosks: string[], from: number, to: number): Promise<LinkChange[]> {
    const rows = await this.db.query<{ kiosk_id: string; at: Date; online: boolean }>(
      `(select kiosk_id, at, online from supervision_links where kiosk_id = any($1) and at >= to_timestamp($2 / 1000.0) and at < to_timestamp($3 / 1000.0))
       union all
       (select distinct on (kiosk_id) kiosk_id, at, online from supervision_links where kiosk_id = any($1) and at < to_timestamp($2 / 1000.0) order by kiosk_id, at desc)`,
      [kiosks, from, to],
    );
    return rows.map((r) => ({ kiosk: r.kiosk_id, at: new Date(r.at).getTime(), online: r.online })).sort((a, b) => a.at - b.at);
  }

  /** fault.raised / fault.cleared events of the kiosks up to `to` (by the kiosk's event time). */
  async faultEvents(kiosks: string[], to: number): Promise<{ kiosk: string; at: number; type: string; code: string; detail: string }[]> {
    const rows = await this.db.query<{ kiosk_id: string; at: string; type: string; data: { code?: string; detail?: string } | null }>(
      `select kiosk_id, at, type, data from events where kiosk_id = any($1) and type in ('fault.raised', 'fault.cleared') and coalesce(at_ts, received_at) < to_timestamp($2 / 1000.0) order by serial`,
      [kiosks, to],
    );
    return rows
      .map((r) => ({ kiosk: r.kiosk_id, at: Date.parse(r.at), type: r.type, code: String(r.data?.code ?? ''), detail: String(r.data?.detail ?? '') }))
      .filter((r) => Number.isFinite(r.at))
      .sort((a, b) => a.at - b.at);
  }

  // ---- the hub's own "test overdue" alarms (rows of the alarms table) ------------------------

  /** Open overdue alarms by kiosk. */
  async openOverdue(): Promise<Map<string, { alarmId: string; raisedAt: string }>> {
    const rows = await this.db.query<{ alarm_id: string; kiosk_id: string; raised_at: string }>(
      `select alarm_id, kiosk_id, raised_at from alarms where category = 'supervision' and source = 'hub' and state <> 'reset'`,
    );
    return new Map(rows.map((r) => [r.kiosk_id, { alarmId: r.alarm_id, raisedAt: r.raised_at }]));
  }

  /**
   * Raises the overdue alarm of a kiosk. Its id is made of the deadline, so
   * two hub instances noticing the same silence write one row; a dispatcher's
   * reset stays reset until the kiosk passes a test and is overdue again.
   */
  async raiseOverdue(kiosk: string, alarmId: string, reason: string): Promise<boolean> {
    const now = new Date().toISOString();
    const data = { alarmId, state: 'raised', kind: 'emergency', category: 'supervision', source: 'hub', raisedAt: now, at: now, reason };
    const r = await this.db.query(
      `insert into alarms (alarm_id, kiosk_id, state, rank, kind, category, source, raised_at, at, data)
       values ($1, $2, 'raised', 0, 'emergency', 'supervision', 'hub', $3, $3, $4::jsonb) on conflict (alarm_id) do nothing returning 1`,
      [alarmId, kiosk, now, json(data)],
    );
    return r.length > 0;
  }

  /** Whether an alarm is one of the hub's overdue alarms (reset at the hub, not by a kiosk command). */
  async isHubAlarm(alarmId: string): Promise<boolean> {
    return (await this.db.query(`select 1 from alarms where alarm_id = $1 and category = 'supervision' and source = 'hub'`, [alarmId])).length > 0;
  }

  /** Ends an overdue alarm (a passed test, or a dispatcher's reset). */
  async resetOverdue(alarmId: string, by: string, reason: string): Promise<boolean> {
    const now = new Date().toISOString();
    const r = await this.db.query(
      `update alarms set state = 'reset', rank = 3, at = $2, updated_at = now(),
         data = data || jsonb_build_object('state', 'reset', 'at', $2::text, 'by', $3::text, 'reason', $4::text)
       where alarm_id = $1 and category = 'supervision' and source = 'hub' and state <> 'reset' returning 1`,
      [alarmId, now, by, reason],
    );
    return r.length > 0;
  }

  /** Whether an overdue alarm with this id exists already (open or reset). */
  async overdueExists(alarmId: string): Promise<boolean> {
    return (await this.db.query('select 1 from alarms where alarm_id = $1', [alarmId])).length > 0;
  }

  /** Passed / total tests finished since an instant (metrics). */
  async passRate(sinceMs: number): Promise<{ passed: number; total: number }> {
    const r = (
      await this.db.query<{ passed: string | number; total: string | number }>(
        `select count(*) filter (where passed) as passed, count(*) as total from supervision_tests where at >= to_timestamp($1 / 1000.0)`,
        [sinceMs],
      )
    )[0]!;
    return { passed: Number(r.passed), total: Number(r.total) };
  }
}
