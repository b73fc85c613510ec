// The real kiosk (a kiosk process with the sim driver and the simulated room)
// testing against the hub's own test answerer, the hub in process on PGlite:
// a test on demand through the hub's API passes every step and is joined with
// the answerer's record; with the acoustic loop broken it fails and the
// test-failed fault is at the hub within 10 s; a passing test clears it.
import { strict as assert } from 'node:assert';
import { stopAll } from '../../src/testbed/proc.js';
import { consoleLogin } from '../helpers/console.js';
import { until } from '../helpers/tmp.js';
import { DEMO_TOKEN, startHub, type TestHub } from '../hub/harness.js';
import { rig } from '../supervision/helpers.js';

describe('supervision at the hub: a real kiosk against the hub\'s test answerer', function () {
  this.timeout(180_000);
  let t: TestHub;
  after(async () => {
    await stopAll();
    await t?.stop();
  });

  it('passes every step through the hub API, fails with a broken loop, the fault reaches the hub within 10 s', async () => {
    t = await startHub({ patch: (c) => (c.supervision = { answerer: { localHost: '127.0.0.1' } } as never) });
    const answerer = t.hub.ctx!.supervision!.answerer!;
    const r = await rig({ supervision: { enabled: false, target: answerer.directUri }, hub: { url: t.wsUrl, token: DEMO_TOKEN('conc-north'), heartbeatS: 5 } });
    const con = await consoleLogin(t.base, 'dispatcher', 'dispatcher-demo');
    await until(async () => !(await con.json<{ code: string }[]>('/api/supervision/faults?kiosk=conc-north')).some((f) => f.code === 'hub-link'), 30_000, 'kiosk online at the hub');
    type Outcome = { ok: boolean; error?: string; test?: { passed: boolean; failedStep: string | null; steps: { step: string; ok: boolean; detail: string }[]; answerer: { toneHeard: boolean; dtmfReceived: boolean; dtmfSent: boolean; infoSent: string } | null } };
    const testNow = async () => {
      const res = await con.post('/api/supervision/kiosks/conc-north/test', {});
      return { status: res.status, body: (await res.json()) as Outcome };
    };
    const ok = await testNow();
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const call = ok.body.test!.steps.filter((s) => ['registered', 'invite', 'audio-out', 'audio-in', 'dtmf', 'cleared'].includes(s.step));
    assert.deepEqual(call.map((s) => [s.step, s.ok]), ['registered', 'invite', 'audio-out', 'audio-in', 'dtmf', 'cleared'].map((s) => [s, true]), JSON.stringify(ok.body.test!.steps));
    // The answerer's record arrives with its own batch: joined by testId.
    const hist = await until(async () => {
      const h = await con.json<NonNullable<Outcome['test']>[]>('/api/supervision/kiosks/conc-north/tests');
      return h[0]?.answerer ? h : undefined;
    }, 10_000, 'the answerer\'s record joined');
    assert.deepEqual([hist[0]!.answerer!.toneHeard, hist[0]!.answerer!.infoSent, hist[0]!.answerer!.dtmfReceived, hist[0]!.answerer!.dtmfSent], [true, 'audio-out=ok', true, true]);

    await r.post('sim/acoustic', { broken: true });
    const failed = await testNow();
    const at = Date.now();
    assert.equal(failed.status, 409);
    assert.equal(failed.body.test!.failedStep, 'acoustic-loop');
    await until(async () => (await con.json<{ code: string }[]>('/api/supervision/faults?kiosk=conc-north')).some((f) => f.code === 'test-failed'), 10_000, 'test-failed at the hub');
    assert.ok(Date.now() - at < 10_000, 'within 10 s');
    await r.post('sim/acoustic', { broken: false });
    assert.equal((await testNow()).status, 200);
    await until(async () => !(await con.json<{ code: string }[]>('/api/supervision/faults?kiosk=conc-north')).some((f) => f.code === 'test-failed'), 10_000, 'test-failed cleared at the hub');
  });
});
