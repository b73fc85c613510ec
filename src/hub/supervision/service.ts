// Supervision at the hub (issue 15, hub side; docs/supervision.md):
//  - the test answerer (answerer.ts) when the hub config has supervision.answerer;
//  - the kiosks' supervision.test verdicts, stored and joined with what the
//    answerer observed (by testId);
//  - the on-demand test (command supervision.test, its result = the verdict),
//    which is also the rollout's test-call canary check;
//  - faults as the hub sees them: the kiosk's own (heartbeat and
//    fault.raised/cleared) and "hub-link" for a kiosk the hub does not hear;
//  - the kiosk's link going up and down (for availability);
//  - the overdue test: a kiosk whose last passed test is older than its
//    interval plus the grace raises a hub alarm on the desk board (category
//    'supervision', source 'hub'), until a test passes or a dispatcher resets it.
import type { Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { HubSupervision } from '../../config/schema/hub.js';
import type { HubConfig } from '../../config/schema/hub.js';
import { Batcher } from '../batcher.js';
import type { HubContext, SessionInfo } from '../context.js';
import { sendOneKiosk } from '../kiosk-command.js';
import type { CanaryCheck, Verdict } from '../facilities/checks.js';
import type { IncomingEvent, KioskRow } from '../storage/storage.js';
import type { AnswerRow, TestRow, TestStep } from '../storage/supervision.js';
import { TestAnswerer, TEST_ID } from './answerer.js';
import { availability, DAY_MS, type DayFigure, type KioskHistory } from './availability.js';

export type SupervisionConfig = Static<typeof HubSupervision>;

export function supervisionConfig(config: HubConfig): SupervisionConfig {
  return Value.Default(HubSupervision, structuredClone(config.supervision ?? {})) as SupervisionConfig;
}

/** The call steps of the contract, in order, then the local self-tests. */
export const CALL_STEPS = ['registered', 'invite', 'audio-out', 'audio-in', 'dtmf', 'cleared'];

/** A fault as the hub shows it. */
export interface HubFault {
  kiosk: string;
  zone: string;
  code: string;
  detail: string;
  /** 'kiosk': the kiosk reports it; 'hub': the hub sees it (the link) */
  source: 'kiosk' | 'hub';
  /** since when, ms (when known) */
  since?: number;
}

/** A test as the API shows it: the kiosk's verdict with the answerer's record. */
export interface JoinedTest extends TestRow {
  answerer: AnswerRow | null;
}

const ON_DEMAND_WAIT_MS = 30_000;

/** Parses a supervision.test event's data; undefined when it is not one (logged by the caller). */
export function parseTest(kiosk: string, data: unknown): TestRow | undefined {
  const d = data as Record<string, unknown> | null;
  if (!d || typeof d !== 'object') return undefined;
  const testId = d.testId;
  if (typeof testId !== 'string' || !TEST_ID.test(testId) || !testId.startsWith(`${kiosk}-t-`)) return undefined;
  const t = (v: unknown) => (typeof v === 'string' && Number.isFinite(Date.parse(v)) ? new Date(v).toISOString() : undefined);
  const startedAt = t(d.startedAt);
  const at = t(d.at);
  if (!startedAt || !at || typeof d.passed !== 'boolean' || !Array.isArray(d.steps)) return undefined;
  const steps: TestStep[] = d.steps.slice(0, 40).flatMap((s: unknown) => {
    const x = s as Record<string, unknown>;
    if (!x || typeof x.step !== 'string' || typeof x.ok !== 'boolean') return [];
    return [{ step: x.step.slice(0, 40), ok: x.ok, ms: typeof x.ms === 'number' && Number.isFinite(x.ms) ? Math.round(x.ms) : 0, detail: typeof x.detail === 'string' ? x.detail.slice(0, 500) : '' }];
  });
  const trigger = ['schedule', 'hub', 'local'].includes(d.trigger as string) ? (d.trigger as string) : 'local';
  return {
    testId,
    kiosk,
    trigger,
    startedAt,
    at,
    passed: d.passed,
    failedStep: typeof d.failedStep === 'string' ? d.failedStep.slice(0, 40) : null,
    steps,
    intervalS: typeof d.intervalS === 'number' && Number.isInteger(d.intervalS) && d.intervalS > 0 ? d.intervalS : null,
    graceS: typeof d.graceS === 'number' && Number.isInteger(d.graceS) && d.graceS >= 0 ? d.graceS : null,
    next: t(d.next) ?? null,
  };
}

export class SupervisionService {
  readonly cfg: SupervisionConfig;
  answerer?: TestAnswerer;
  private readonly answers: Batcher<AnswerRow>;
  private readonly links: Batcher<{ kiosk: string; at: number; online: boolean }>;
  /** link state last written by this instance, per kiosk held here */
  private readonly linkState = new Map<string, boolean>();
  private overdueTimer?: NodeJS.Timeout;
  private checking = false;
  /** benchmark and metrics hooks */
  readonly counters = { testsStored: 0, overdueRaised: 0 };

  constructor(private readonly hub: HubContext) {
    this.cfg = supervisionConfig(hub.config);
    this.answers = new Batcher((rows) => hub.storage.supervision.insertAnswers(rows), { split: true });
    this.links = new Batcher((rows) => hub.storage.supervision.insertLinks(rows), { split: true });
  }

  async start(): Promise<void> {
    const { hub, cfg } = this;
    hub.link.watch({ events: (kiosk, events) => void this.onEvents(kiosk, events).catch((err: Error) => hub.log.error({ err: err.message, kiosk }, 'supervision: kiosk events not followed')) });
    hub.link.observers.push((ids, why) => this.onLink(ids, why));
    // The rollout's test-call canary check: on, now that there is an answerer to call.
    const i = hub.facilities.checks.findIndex((c) => c.name === 'test-call');
    if (i >= 0) hub.facilities.checks[i] = this.canaryCheck();
    if (cfg.answerer) {
      const a = cfg.answerer;
      const account = a.account ?? { user: cfg.answererUser, domain: a.localHost, registrars: [], registrationMode: 'serial' as const, expiresS: 300 };
      this.answerer = new TestAnswerer({
        account,
        localHost: a.localHost,
        localPort: a.localPort,
        rtpPortRange: a.rtpPortRange,
        codecs: a.codecs,
        toneTimeoutMs: a.toneTimeoutMs,
        instanceId: hub.instanceId,
        log: hub.log.child({ area: 'test-answerer' }),
        record: (row) => void this.answers.enqueue(row).catch((err: Error) => hub.log.error({ err: err.message, testId: row.testId }, 'test answerer record not stored')),
      });
      await this.answerer.start();
    }
    this.overdueTimer = setInterval(() => void this.checkOverdue().catch((err: Error) => hub.log.warn({ err: err.message }, 'overdue check failed')), cfg.overdueCheckS * 1000);
    this.overdueTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.overdueTimer);
    await this.answerer?.stop().catch(() => undefined);
    await Promise.allSettled([this.answers.drain(), this.links.drain()]);
  }

  // ---- kiosk events ------------------------------------------------------------------

  private async onEvents(kiosk: string, events: IncomingEvent[]): Promise<void> {
    const tests: TestRow[] = [];
    for (const e of events) {
      if (e.type !== 'supervision.test') continue;
      const t = parseTest(kiosk, e.data);
      if (t) tests.push(t);
      else this.hub.log.warn({ kiosk, id: e.id }, 'supervision.test event not understood: kept as an event only');
    }
    if (tests.length === 0) return;
    await this.hub.storage.supervision.insertTests(tests);
    this.counters.testsStored += tests.length;
    if (tests.some((t) => t.passed)) {
      const open = (await this.hub.storage.supervision.openOverdue()).get(kiosk);
      if (open && (await this.hub.storage.supervision.resetOverdue(open.alarmId, 'test', 'a test passed'))) await this.hub.push.publish('desk', 'alarm', { ref: open.alarmId });
    }
    this.hub.facilities.feed.changedHere([kiosk]);
  }

  /** Link changes of this instance's kiosks (written only when they change). */
  private onLink(ids: string[], why: string): void {
    if (why !== 'presence' && why !== 'offline') return;
    const now = Date.now();
    for (const id of ids) {
      // Asked of the link directly: every presence flush (twice a second) would otherwise copy its whole view.
      const online = why === 'presence' ? this.hub.link.isLocal(id) : false;
      if (this.linkState.get(id) === online) continue;
      this.linkState.set(id, online);
      void this.links.enqueue({ kiosk: id, at: now, online }).catch((err: Error) => this.hub.log.warn({ err: err.message }, 'link change not stored'));
    }
  }

  // ---- faults --------------------------------------------------------------------------

  /** Every open fault of the fleet (or one kiosk): the kiosks' own, and "hub-link" for those the hub does not hear. */
  async faults(f: { kiosk?: string; zone?: string } = {}): Promise<HubFault[]> {
    const { hub } = this;
    const rows = await hub.storage.listKiosks({ ids: f.kiosk ? [f.kiosk] : undefined, zone: f.zone });
    const local = hub.link.localView();
    const now = Date.now();
    const out: HubFault[] = [];
    for (const r of rows) {
      if (r.revoked) continue;
      for (const x of r.faults) out.push({ kiosk: r.id, zone: r.zone, code: x.code, detail: x.detail, source: 'kiosk' });
      const mine = local.get(r.id);
      const online = mine ? mine.online : r.instanceId !== null && (r.lastSeen ?? 0) > now - hub.offlineAfterMs;
      if (!online) {
        const last = mine?.lastSeen ?? r.lastSeen ?? undefined;
        out.push({ kiosk: r.id, zone: r.zone, code: 'hub-link', detail: last ? `not heard since ${new Date(last).toISOString()}` : 'never connected', source: 'hub', ...(last ? { since: last } : {}) });
      }
    }
    return out;
  }

  // ---- tests ------------------------------------------------------------------------------

  async join(tests: TestRow[]): Promise<JoinedTest[]> {
    const answers = await this.hub.storage.supervision.answers(tests.map((t) => t.testId));
    return tests.map((t) => ({ ...t, answerer: answers.get(t.testId) ?? null }));
  }

  /**
   * Runs a test on a kiosk now: the command supervision.test, waiting for its
   * result (the kiosk answers once the test finished) and then for its
   * verdict event. `ok` only when the test passed.
   */
  async testNow(s: Pick<SessionInfo, 'user' | 'role'>, kiosk: string, waitMs = ON_DEMAND_WAIT_MS): Promise<{ id?: string; ok: boolean; pending?: boolean; error?: string; test?: JoinedTest }> {
    const { hub } = this;
    const since = Date.now() - 1000; // the kiosk's clock may run a little behind ours
    // ... so a test that ended just before this one is not taken for its verdict.
    const previous = (await hub.storage.supervision.lastTests([kiosk])).get(kiosk)?.testId;
    const id = await sendOneKiosk(hub, s, kiosk, 'supervision.test', {});
    if (!id) return { ok: false, error: `kiosk ${kiosk} is offline` };
    const until = Date.now() + waitMs;
    let result: { ok: boolean; error?: string } | null | undefined;
    for (;;) {
      result ??= (await hub.storage.getCommand(id))?.results[kiosk];
      if (result) {
        // The verdict event travels on the kiosk's event stream, right behind its command result.
        const t = await hub.storage.supervision.testAfter(kiosk, since, 'hub', previous);
        if (t) return { id, ok: result.ok && t.passed, ...(result.error ? { error: result.error } : !t.passed ? { error: `failed at ${t.failedStep ?? '?'}` } : {}), test: (await this.join([t]))[0] };
      }
      if (Date.now() >= until) {
        if (result) return { id, ok: result.ok, ...(result.error ? { error: result.error } : {}), pending: true };
        return { id, ok: false, pending: true, error: 'the kiosk has not finished the test yet' };
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** The rollout's test-call check: one on-demand test per canary, after its health window. */
  private canaryCheck(): CanaryCheck {
    const running = new Map<string, Promise<Verdict>>();
    const done = new Map<string, Verdict>();
    return {
      name: 'test-call',
      // On where this hub has a test answerer for the canaries to call (without one the test could only fail).
      enabled: () => !!this.cfg.answerer,
      judge: async (k: KioskRow, r, since) => {
        const key = `${r.id}:${k.id}`;
        const d = done.get(key);
        if (d) return d;
        // A test the kiosk ran after acknowledging the change counts as well (a schedule or an earlier run).
        const t = await this.hub.storage.supervision.testAfter(k.id, since);
        if (t) return t.passed ? { state: 'pass' } : { state: 'fail', detail: `test call failed at ${t.failedStep ?? '?'}` };
        if (!running.has(key)) {
          running.set(
            key,
            this.testNow({ user: `rollout:${r.id}`, role: 'admin' }, k.id).then(
              (v): Verdict => {
                const verdict: Verdict = v.ok ? { state: 'pass' } : v.pending ? { state: 'pending', detail: 'test call running' } : { state: 'fail', detail: `test call: ${v.error ?? 'failed'}` };
                if (verdict.state !== 'pending') done.set(key, verdict);
                running.delete(key);
                return verdict;
              },
              (err: Error): Verdict => {
                running.delete(key);
                return { state: 'pending', detail: `test call not started: ${err.message}` };
              },
            ),
          );
        }
        return { state: 'pending', detail: 'test call running' };
      },
    };
  }

  // ---- overdue tests ------------------------------------------------------------------

  /**
   * Raises the overdue alarm of every kiosk whose last passed test (or its
   * enrolment) is older than its interval (as it last reported it, else the
   * hub's default) plus the grace. Every instance may run it: the alarm id is
   * made of the kiosk and the deadline, so the row is written once.
   */
  async checkOverdue(now = Date.now()): Promise<string[]> {
    if (this.checking) return [];
    this.checking = true;
    try {
      const { storage } = this.hub;
      const [kiosks, passed, schedules, open] = await Promise.all([storage.listKiosks(), storage.supervision.lastPassed(), storage.supervision.lastSchedule(), storage.supervision.openOverdue()]);
      const raised: string[] = [];
      for (const k of kiosks) {
        if (k.revoked || open.has(k.id)) continue;
        const p = passed.get(k.id);
        const sched = schedules.get(k.id);
        const intervalS = sched?.intervalS ?? p?.intervalS ?? this.cfg.defaultIntervalS;
        const graceS = sched?.graceS ?? this.cfg.graceS;
        const base = p?.at ?? Date.parse(k.enrolledAt);
        const deadline = base + (intervalS + graceS) * 1000;
        if (now <= deadline) continue;
        const alarmId = `${k.id}-sv-${deadline.toString(36)}`;
        // Reset by a dispatcher: stays reset until the kiosk passes a test and is overdue again.
        if (await storage.supervision.overdueExists(alarmId)) continue;
        const limit = `interval ${intervalS} s + grace ${graceS} s`;
        const reason = p ? `no passed test since ${new Date(p.at).toISOString()} (${limit})` : `no passed test since enrolment (${limit})`;
        if (await storage.supervision.raiseOverdue(k.id, alarmId, reason)) {
          this.counters.overdueRaised++;
          raised.push(alarmId);
          this.hub.log.warn({ kiosk: k.id, alarmId, reason }, 'test overdue: alarm raised');
          await this.hub.push.publish('desk', 'alarm', { ref: alarmId });
          this.hub.facilities.feed.changedHere([k.id]);
        }
      }
      return raised;
    } finally {
      this.checking = false;
    }
  }

  /** A dispatcher resets an overdue alarm. */
  async resetOverdue(alarmId: string, by: string): Promise<boolean> {
    const ok = await this.hub.storage.supervision.resetOverdue(alarmId, by, 'reset by a dispatcher');
    if (ok) await this.hub.push.publish('desk', 'alarm', { ref: alarmId });
    return ok;
  }

  // ---- availability ---------------------------------------------------------------------

  /** The histories of the kiosks (of a zone) for [from, to). */
  async histories(from: number, to: number, zone?: string): Promise<KioskHistory[]> {
    const { storage } = this.hub;
    const kiosks = (await storage.listKiosks({ zone })).filter((k) => !k.revoked);
    const ids = kiosks.map((k) => k.id);
    if (ids.length === 0) return [];
    const [schedules, links, tests, faults] = await Promise.all([
      storage.supervision.lastSchedule(),
      storage.supervision.linksBetween(ids, from, to),
      storage.supervision.testsBetween(ids, from, to),
      storage.supervision.faultEvents(ids, to),
    ]);
    const by = <T extends { kiosk: string }>(list: T[]) => {
      const m = new Map<string, T[]>();
      for (const x of list) (m.get(x.kiosk) ?? m.set(x.kiosk, []).get(x.kiosk)!).push(x);
      return m;
    };
    const L = by(links);
    const T = by(tests);
    const F = by(faults);
    return kiosks.map((k) => ({
      kiosk: k.id,
      zone: k.zone,
      enrolledAt: Date.parse(k.enrolledAt),
      intervalS: schedules.get(k.id)?.intervalS ?? this.cfg.defaultIntervalS,
      graceS: schedules.get(k.id)?.graceS ?? this.cfg.graceS,
      links: (L.get(k.id) ?? []).map((l) => ({ at: l.at, online: l.online })),
      tests: (T.get(k.id) ?? []).map((t) => ({ at: Date.parse(t.at), passed: t.passed, failedStep: t.failedStep })),
      faults: (F.get(k.id) ?? []).map((f) => ({ at: f.at, type: f.type, code: f.code })),
    }));
  }

  /** Availability per kiosk and per zone per UTC day, for the days from `from` up to `to` (exclusive). */
  async availability(from: number, to: number, zone?: string): Promise<{ from: string; to: string; kiosks: DayFigure[]; zones: DayFigure[] }> {
    const f = Math.floor(from / DAY_MS) * DAY_MS;
    const t = Math.ceil(to / DAY_MS) * DAY_MS;
    const r = availability(await this.histories(f, t, zone), f, t);
    return { from: new Date(f).toISOString(), to: new Date(t).toISOString(), ...r };
  }
}
