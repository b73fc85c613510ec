// Supervision at the hub, end to end with light kiosks (real WebSockets, the
// real protocol) on PGlite and PostgreSQL: verdicts joined with the answerer's
// record, the fleet list's "Last test call", the on-demand test, faults at the
// hub within 10 s, the overdue alarm on the desk board, availability, /metrics
// (parsed by a Prometheus text-format parser), and roles on every route.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { DEMO_TOKEN, engines, startHub, type TestHub } from '../hub/harness.js';
import { lightKiosk, type LightKiosk } from '../helpers/light-kiosk.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { ContractCaller } from '../helpers/test-caller.js';

const METRICS_TOKEN = 'metrics-token-for-the-tests-0123456789';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

for (const engine of engines()) {
  describe(`supervision at the hub: results, faults, overdue, availability, metrics (${engine.name})`, function () {
    this.timeout(90_000);
    let t: TestHub;
    let admin: ConsoleSession;
    let dispatcher: ConsoleSession;
    let facilities: ConsoleSession;
    const kiosks: LightKiosk[] = [];
    let seq = 0;

    const kiosk = async (id: string) => {
      const k = lightKiosk(t.wsUrl, id, DEMO_TOKEN(id), { heartbeatMs: 1000 });
      await k.welcomed;
      kiosks.push(k);
      return k;
    };
    const sendEvents = async (k: LightKiosk, events: { type: string; data: unknown; at?: string }[]) => {
      const batch = events.map((e) => ({ id: `${k.id}:1:${++seq}`, seq, at: e.at ?? new Date().toISOString(), type: e.type, data: e.data }));
      k.send({ type: 'events', batch });
      const ack = await k.next('events-ack');
      assert.equal((ack.ids as string[]).length, batch.length);
    };
    const steps = (failed?: string) =>
      ['registered', 'invite', 'audio-out', 'audio-in', 'dtmf', 'cleared'].map((step) => ({ step, ok: step !== failed, ms: 10, detail: step === failed ? 'no 2000 Hz tone' : 'ok' }));
    const verdict = (kioskId: string, o: { testId?: string; passed?: boolean; failedStep?: string; trigger?: string; at?: number; intervalS?: number; graceS?: number } = {}) => {
      const at = o.at ?? Date.now();
      return {
        testId: o.testId ?? `${kioskId}-t-${at.toString(36)}-${(++seq % 65536).toString(16).padStart(4, '0')}`,
        trigger: o.trigger ?? 'schedule',
        startedAt: new Date(at - 4000).toISOString(),
        at: new Date(at).toISOString(),
        passed: o.passed ?? true,
        ...(o.failedStep ? { failedStep: o.failedStep } : {}),
        steps: steps(o.failedStep),
        intervalS: o.intervalS ?? 259200,
        ...(o.graceS !== undefined ? { graceS: o.graceS } : {}),
      };
    };
    const until = async <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<{ value: T; ms: number }> => {
      const t0 = Date.now();
      for (;;) {
        const v = await fn();
        if (v) return { value: v, ms: Date.now() - t0 };
        if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    before(async () => {
      t = await startHub({
        databaseUrl: await engine.fresh(),
        patch: (c) => {
          c.offlineAfterS = 3;
          c.supervision = { answerer: { localHost: '127.0.0.1' }, graceS: 1, defaultIntervalS: 86400, overdueCheckS: 3600, metricsTokenSha256: sha(METRICS_TOKEN) } as never;
        },
      });
      admin = await consoleLogin(t.base, 'admin', 'admin-demo');
      dispatcher = await consoleLogin(t.base, 'dispatcher', 'dispatcher-demo');
      facilities = await consoleLogin(t.base, 'facilities', 'facilities-demo');
    });
    after(async () => {
      for (const k of kiosks) k.ws.terminate();
      await t?.stop();
    });

    it('joins a kiosk\'s verdict with the answerer\'s record; history, one test, and the fleet list\'s "Last test call"', async () => {
      const k = await kiosk('plat-1');
      const caller = new ContractCaller();
      await caller.start();
      const call = await caller.test(t.hub.ctx!.supervision!.answerer!.directUri, 'plat-1').finally(() => caller.stop());
      assert.equal(call.passed, true, JSON.stringify(call.steps));
      await sendEvents(k, [{ type: 'supervision.test', data: { ...verdict('plat-1', { testId: call.testId }), steps: call.steps } }]);
      const { value: hist } = await until('history', async () => {
        const h = await dispatcher.json<{ testId: string; passed: boolean; steps: { step: string; ok: boolean }[]; answerer: { toneHeard: boolean; dtmfReceived: boolean; infoSent: string } | null }[]>(
          '/api/supervision/kiosks/plat-1/tests',
        );
        return h.length && h[0]!.answerer ? h : undefined;
      });
      assert.equal(hist[0]!.testId, call.testId);
      assert.equal(hist[0]!.passed, true);
      assert.deepEqual(hist[0]!.steps.map((s) => s.step), ['registered', 'invite', 'audio-out', 'audio-in', 'dtmf', 'cleared']);
      assert.deepEqual([hist[0]!.answerer!.toneHeard, hist[0]!.answerer!.dtmfReceived, hist[0]!.answerer!.infoSent], [true, true, 'audio-out=ok']);
      const one = await facilities.json<{ kiosk: { passed: boolean }; answerer: { toneHeard: boolean } }>(`/api/supervision/tests/${call.testId}`);
      assert.equal(one.kiosk.passed, true);
      assert.equal(one.answerer.toneHeard, true);
      const list = await dispatcher.json<{ kiosk: string; lastTest: { testId: string } | null }[]>('/api/supervision/kiosks');
      assert.equal(list.find((x) => x.kiosk === 'plat-1')!.lastTest!.testId, call.testId);
      const fleet = await facilities.json<{ kiosks: { id: string; lastTestCall: { testId: string; passed: boolean } | null }[] }>('/api/facilities/fleet');
      const e = fleet.kiosks.find((x) => x.id === 'plat-1')!;
      assert.deepEqual([e.lastTestCall!.testId, e.lastTestCall!.passed], [call.testId, true]);
      // A verdict for another kiosk's testId is not taken (a kiosk speaks only for itself).
      await sendEvents(k, [{ type: 'supervision.test', data: verdict('plat-2') }]);
      assert.equal((await t.hub.storage.supervision.lastTests(['plat-2'])).size, 0);
    });

    it('runs a test on demand: command supervision.test, result = verdict (dispatcher; CSRF needed)', async () => {
      const k = await kiosk('plat-2');
      k.autoAnswer = false;
      const pending = dispatcher.post('/api/supervision/kiosks/plat-2/test', {});
      const cmd = await k.next('command');
      assert.equal(cmd.command, 'supervision.test');
      await sendEvents(k, [{ type: 'supervision.test', data: verdict('plat-2', { trigger: 'hub', passed: false, failedStep: 'audio-in' }) }]);
      k.send({ type: 'command-result', id: cmd.id, ok: false, error: 'test failed at audio-in: no 2000 Hz tone' });
      const r = await pending;
      assert.equal(r.status, 409);
      const body = (await r.json()) as { ok: boolean; test: { failedStep: string; trigger: string } };
      assert.equal(body.ok, false);
      assert.deepEqual([body.test.failedStep, body.test.trigger], ['audio-in', 'hub']);
      const noCsrf = await fetch(`${t.base}/api/supervision/kiosks/plat-2/test`, { method: 'POST', headers: { cookie: dispatcher.cookie } });
      assert.equal(noCsrf.status, 403);
    });

    it('every kiosk fault and "hub link lost" is visible through the hub API within 10 s', async () => {
      const k = await kiosk('conc-north');
      type F = { kiosk: string; code: string; source: string }[];
      const codes = ['sip-registration', 'audio', 'gpio', 'store', 'screen', 'test-failed', 'clock'];
      // Like a kiosk: every heartbeat carries its current faults, and a change sends one at once.
      k.silent = true;
      let current: { code: string; detail: string }[] = [];
      const beat = () => k.send({ type: 'heartbeat', at: new Date().toISOString(), faults: current, outbox: 0 });
      const timer = setInterval(beat, 1000);
      try {
        for (const code of codes) {
          current = [{ code, detail: `${code} broken` }];
          beat();
          await sendEvents(k, [{ type: 'fault.raised', data: { code, detail: `${code} broken` } }]);
          const { ms } = await until(`fault ${code} at the hub`, async () => (await dispatcher.json<F>('/api/supervision/faults?kiosk=conc-north')).some((f) => f.code === code), 10_000);
          assert.ok(ms < 10_000, `${ms} ms`);
        }
      } finally {
        clearInterval(timer);
      }
      k.ws.terminate();
      await until('hub-link at the hub', async () => (await dispatcher.json<F>('/api/supervision/faults?kiosk=conc-north')).some((f) => f.code === 'hub-link' && f.source === 'hub'), 10_000);
      // Silence without a close: noticed after offlineAfterS (3 s here).
      const quiet = await kiosk('conc-south');
      quiet.silent = true;
      await until('silent kiosk at the hub', async () => (await dispatcher.json<F>('/api/supervision/faults?kiosk=conc-south')).some((f) => f.code === 'hub-link'), 10_000);
    });

    it('an overdue test raises a hub alarm on the desk board until a dispatcher resets it or a test passes', async () => {
      const sv = t.hub.ctx!.supervision!;
      const k = await kiosk('conc-tickets');
      // Interval 10 s (reported by the kiosk), grace 1 s: its last pass 12 s ago is overdue.
      await sendEvents(k, [{ type: 'supervision.test', data: verdict('conc-tickets', { at: Date.now() - 12_000, intervalS: 10 }) }]);
      await until('verdict stored', async () => (await t.hub.storage.supervision.lastTests(['conc-tickets'])).size > 0);
      const raised = await sv.checkOverdue();
      const alarmId = raised.find((a) => a.startsWith('conc-tickets-'));
      assert.ok(alarmId, `raised: ${raised.join(', ')}`);
      type Board = { rows: { ref: string; kiosk: string; category: string | null; state: string }[] };
      const board = await dispatcher.json<Board>('/api/desk/board');
      const row = board.rows.find((r) => r.ref === alarmId)!;
      assert.deepEqual([row.kiosk, row.category, row.state], ['conc-tickets', 'supervision', 'raised']);
      assert.deepEqual(await sv.checkOverdue(), [], 'raised once');
      // A dispatcher resets it: gone from the board, and not raised again for the same silence.
      const reset = await dispatcher.post(`/api/desk/alarms/${alarmId}/reset`, {});
      assert.equal(reset.status, 200, await reset.text());
      assert.ok(!(await dispatcher.json<Board>('/api/desk/board')).rows.some((r) => r.ref === alarmId), 'gone from the board');
      assert.ok(!(await sv.checkOverdue()).some((a) => a.startsWith('conc-tickets-')), 'not raised again for the same silence');
      // Still no pass 12 s later: raised again at the next deadline; a passing test ends it.
      const second = verdict('conc-tickets', { at: Date.now() - 11_500, intervalS: 10 });
      await sendEvents(k, [{ type: 'supervision.test', data: second }]);
      // Verdicts are stored after the events' ack (KioskLink.watch): wait for it before checking.
      await until('second verdict stored', async () => (await t.hub.storage.supervision.lastTests(['conc-tickets'])).get('conc-tickets')?.testId === second.testId);
      const again = (await sv.checkOverdue()).find((a) => a.startsWith('conc-tickets-'));
      assert.ok(again && again !== alarmId, `raised again at the next deadline: ${again}`);
      await sendEvents(k, [{ type: 'supervision.test', data: verdict('conc-tickets', { intervalS: 10 }) }]);
      await until('overdue alarm ended by a pass', async () => !(await dispatcher.json<Board>('/api/desk/board')).rows.some((r) => r.ref === again));
    });

    it('availability per kiosk and zone per day from a constructed history; CSV export', async () => {
      const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 3 * 86_400_000; // three days ago, UTC
      const dayIso = new Date(day).toISOString().slice(0, 10);
      const db = t.hub.storage.db;
      // plat-3 (zone of plat-3): enrolled long before; online all day except 02:00-04:00; a blocking fault 10:00-11:00;
      // a failed test at 20:00 (until the day ends). Expected available: 24 - 2 - 1 - 4 = 17 h.
      const h = (x: number) => new Date(day + x * 3600_000).toISOString();
      await db.query(`update kiosks set enrolled_at = $1 where id = 'plat-3'`, [new Date(day - 86_400_000).toISOString()]);
      await t.hub.storage.supervision.insertLinks([
        { kiosk: 'plat-3', at: day - 3600_000, online: true },
        { kiosk: 'plat-3', at: day + 2 * 3600_000, online: false },
        { kiosk: 'plat-3', at: day + 4 * 3600_000, online: true },
      ]);
      await t.hub.storage.supervision.insertTests([
        { testId: 'plat-3-t-a-0001', kiosk: 'plat-3', trigger: 'schedule', startedAt: h(-1), at: h(-1), passed: true, failedStep: null, steps: [], intervalS: 259200, graceS: null, next: null },
        { testId: 'plat-3-t-b-0002', kiosk: 'plat-3', trigger: 'schedule', startedAt: h(20), at: h(20), passed: false, failedStep: 'audio-in', steps: [], intervalS: 259200, graceS: null, next: null },
      ]);
      await db.query(
        `insert into events (id, kiosk_id, seq, at, at_ts, type, data) values ('plat-3:9:1', 'plat-3', 1, $1, $4, 'fault.raised', '{"code":"audio","detail":"x"}'),
          ('plat-3:9:2', 'plat-3', 2, $2, $5, 'fault.cleared', '{"code":"audio"}'),
          ('plat-3:9:3', 'plat-3', 3, $3, $6, 'fault.raised', '{"code":"screen","detail":"not blocking"}')`,
        [h(10), h(11), h(12), h(10), h(11), h(12)],
      );
      type R = { kiosks: { day: string; kiosk: string; zone: string; availableS: number; measuredS: number; share: number }[]; zones: { day: string; zone: string; share: number; measuredS: number }[] };
      const r = await facilities.json<R>(`/api/supervision/availability?from=${dayIso}&to=${dayIso}`);
      const k = r.kiosks.find((x) => x.kiosk === 'plat-3' && x.day === dayIso)!;
      assert.equal(k.measuredS, 86400);
      assert.equal(k.availableS, 17 * 3600);
      const zone = r.zones.find((z) => z.day === dayIso && z.zone === k.zone)!;
      const mine = r.kiosks.filter((x) => x.day === dayIso && x.zone === k.zone);
      assert.equal(zone.measuredS, mine.reduce((s, x) => s + x.measuredS, 0));
      const csv = await facilities.get(`/api/supervision/availability?from=${dayIso}&to=${dayIso}&format=csv`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      const text = await csv.text();
      assert.match(text, /^day,scope,kiosk,zone,available_s,measured_s,share\r\n/);
      assert.ok(text.includes(`${dayIso},kiosk,plat-3,${k.zone},61200,86400,0.708333`), text);
    });

    it('/metrics: Prometheus text format with the metrics, for the metrics token or an admin/facilities session only', async () => {
      // An alarm answered 7 s after it was raised: the time-to-answer histogram.
      const k = await kiosk('plat-3');
      const raisedAt = new Date(Date.now() - 7000).toISOString();
      const alarmId = `plat-3-${Date.now().toString(36)}-abcd`;
      await sendEvents(k, [
        { type: 'alarm.state', data: { alarmId, state: 'raised', kind: 'emergency', source: 'button', raisedAt, at: raisedAt } },
        { type: 'alarm.state', data: { alarmId, state: 'talking', kind: 'emergency', source: 'button', raisedAt, at: new Date().toISOString() } },
      ]);
      const anon = await fetch(`${t.base}/metrics`);
      assert.equal(anon.status, 401);
      assert.equal((await fetch(`${t.base}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 403);
      assert.equal((await dispatcher.get('/metrics')).status, 403);
      assert.equal((await facilities.get('/metrics')).status, 200);
      assert.equal((await admin.get('/metrics')).status, 200);
      const r = await fetch(`${t.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      assert.equal(r.status, 200);
      const families = parsePrometheusTextFormat(await r.text());
      const fam = (name: string) => {
        const f = families.find((x) => x.name === name);
        assert.ok(f, `${name} in /metrics`);
        return f;
      };
      const online = fam('helppoint_fleet_kiosks').metrics.find((m) => m.labels?.state === 'online')!;
      assert.ok(Number(online.value) >= 1, 'kiosks online');
      assert.equal(fam('helppoint_fleet_alarms_open').type, 'GAUGE');
      const answer = fam('helppoint_hub_alarm_answer_seconds');
      assert.equal(answer.type, 'HISTOGRAM');
      assert.equal(Number(answer.metrics[0]!.buckets!['+Inf']), 1, 'one alarm answered');
      assert.equal(Number(answer.metrics[0]!.buckets!['5']), 0);
      assert.equal(Number(answer.metrics[0]!.buckets!['10']), 1);
      assert.ok(Number(fam('helppoint_fleet_test_pass_ratio').metrics[0]!.value) > 0, 'pass ratio');
      assert.ok(fam('helppoint_fleet_tests_24h').metrics.some((m) => m.labels?.result === 'failed' && Number(m.value) >= 1), 'failed tests counted');
      assert.ok(fam('helppoint_fleet_faults_open').metrics.some((m) => m.labels?.code === 'hub-link'), 'hub-link counted');
      fam('helppoint_fleet_pa_receipts');
      fam('helppoint_hub_test_answerer_calls_total');
      fam('helppoint_hub_process_resident_memory_bytes');
    });

    it('roles: every supervision route declares them; a dispatcher reads, only the test roles run a test', async () => {
      const routes = t.hub.app!.routeTable.filter((r) => r.url.startsWith('/api/supervision') || r.url === '/supervision' || r.url === '/metrics');
      assert.ok(routes.length >= 8, `${routes.length} routes`);
      for (const r of routes) assert.ok(r.config.roles?.length || r.config.public, `${r.method} ${r.url}`);
      for (const r of routes.filter((x) => x.method === 'GET' && x.url.startsWith('/api/') && !x.url.includes(':')))
        assert.equal((await fetch(t.base + r.url)).status, 401, `${r.url} without a session`);
      assert.equal((await dispatcher.get('/supervision')).status, 200);
      assert.equal(routes.find((r) => r.method === 'POST')!.config.roles!.sort().join(','), 'admin,dispatcher,facilities');
    });

    it("the overdue rule uses the grace the kiosk reports, the hub's only for a kiosk that reported none", async () => {
      const sv = t.hub.ctx!.supervision!;
      const k = kiosks.find((x) => x.id === 'plat-2') ?? (await kiosk('plat-2')); // still connected from an earlier test
      // Only the verdicts of this test count (earlier tests stored later ones for this kiosk; this test comes last).
      await t.hub.storage.db.query(`delete from supervision_tests where kiosk_id = 'plat-2'`);
      // Interval 10 s, the kiosk's grace 60 s: a pass 12 s ago is not overdue (the hub's grace, 1 s, would say it is).
      const first = verdict('plat-2', { at: Date.now() - 12_000, intervalS: 10, graceS: 60 });
      await sendEvents(k, [{ type: 'supervision.test', data: first }]);
      await until('verdict stored', async () => (await t.hub.storage.supervision.lastTests(['plat-2'])).get('plat-2')?.testId === first.testId);
      assert.equal((await t.hub.storage.supervision.lastTests(['plat-2'])).get('plat-2')!.graceS, 60);
      assert.ok(!(await sv.checkOverdue()).some((a) => a.startsWith('plat-2-')), 'not overdue within the kiosk\'s grace');
      // A pass 75 s ago with the same grace: overdue, and the reason names the kiosk's grace.
      const old = verdict('plat-2', { at: Date.now() - 75_000, intervalS: 10, graceS: 60 });
      await t.hub.storage.db.query(`delete from supervision_tests where kiosk_id = 'plat-2'`);
      await sendEvents(k, [{ type: 'supervision.test', data: old }]);
      await until('old verdict stored', async () => (await t.hub.storage.supervision.lastTests(['plat-2'])).get('plat-2')?.testId === old.testId);
      const alarmId = (await sv.checkOverdue()).find((a) => a.startsWith('plat-2-'));
      assert.ok(alarmId, 'overdue after interval + the kiosk\'s grace');
      const rows = await t.hub.storage.db.query<{ data: { reason?: string } }>(`select data from alarms where alarm_id = $1`, [alarmId]);
      assert.match(rows[0]!.data.reason ?? '', /interval 10 s \+ grace 60 s/);
      await dispatcher.post(`/api/desk/alarms/${alarmId}/reset`, {});
    });
  });
}
