// The rollout's test-call canary check, switched on by supervision where the
// hub has a test answerer: the canary runs a test on demand after its health
// window; a passed test lets the rollout go on, a failed one stops it.
import { strict as assert } from 'node:assert';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { DEMO_TOKEN, startHub, type TestHub } from '../hub/harness.js';
import { healthKiosk, until, type HealthKiosk } from '../facilities/helpers.js';

const PLAT = ['plat-1', 'plat-2', 'plat-3'];
const emergency = (ringTimeoutS: number) => ({ sip: { targets: { emergency: [{ uri: 'sip:desk@127.0.0.1:5070', ringTimeoutS, name: 'Station desk' }] } } });

describe('supervision at the hub: the rollout test-call check', function () {
  this.timeout(120_000);
  let t: TestHub;
  let fac: ConsoleSession;
  const k: Record<string, HealthKiosk> = {};
  /** what the canary's next test call ends with */
  let nextTest: 'pass' | 'fail' = 'pass';
  const tests: string[] = [];

  before(async () => {
    t = await startHub({ patch: (c) => (c.supervision = { answerer: { localHost: '127.0.0.1' } } as never) });
    fac = await consoleLogin(t.base, 'facilities', 'facilities-demo');
    let seq = 1000;
    for (const id of PLAT) {
      const kiosk = (k[id] = healthKiosk(t.wsUrl, id, DEMO_TOKEN(id)));
      // A kiosk's answer to supervision.test: its verdict event, then the command result.
      kiosk.ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { type: string; id: string; command?: string };
        if (m.type !== 'command' || m.command !== 'supervision.test') return;
        tests.push(id);
        const passed = nextTest === 'pass';
        const at = Date.now();
        const steps = ['registered', 'invite', 'audio-out', 'audio-in', 'dtmf', 'cleared'].map((step) => ({ step, ok: passed || step !== 'audio-in', ms: 5, detail: '' }));
        seq++;
        const data = { testId: `${id}-t-${at.toString(36)}-${(seq % 65536).toString(16).padStart(4, '0')}`, trigger: 'hub', startedAt: new Date(at - 3000).toISOString(), at: new Date(at).toISOString(), passed, ...(passed ? {} : { failedStep: 'audio-in' }), steps, intervalS: 259200 };
        kiosk.send({ type: 'events', batch: [{ id: `${id}:sv:${seq}`, seq, at: data.at, type: 'supervision.test', data }] });
      });
    }
    await Promise.all(PLAT.map((id) => k[id]!.welcomed));
    await until(async () => (await fac.json<{ kiosks: { id: string; online: boolean }[] }>('/api/facilities/fleet')).kiosks.filter((x) => PLAT.includes(x.id) && x.online).length === PLAT.length, 10_000, 'kiosks online');
  });
  after(async () => {
    for (const x of Object.values(k)) x.ws.terminate();
    await t?.stop();
  });

  const finished = (id: string) =>
    until(async () => {
      const r = await fac.json<{ state: string; reason: string; checks: { name: string; enabled: boolean }[]; kiosks: { kiosk: string; state: string; detail: string }[] }>(`/api/facilities/rollouts/${id}`);
      return ['done', 'failed'].includes(r.state) && r;
    }, 60_000, `rollout ${id}`, 100);

  it('is on, and a canary whose test passes lets the rollout finish', async () => {
    const r = await fac.post('/api/facilities/rollouts', { scope: 'zone', target: 'platforms', document: emergency(9), canary: { kiosks: ['plat-1'] } });
    assert.equal(r.status, 202, await r.clone().text());
    const { id } = (await r.json()) as { id: string };
    const done = await finished(id);
    assert.equal(done.state, 'done', done.reason);
    assert.deepEqual(done.checks.find((c) => c.name === 'test-call'), { name: 'test-call', enabled: true });
    assert.deepEqual(tests, ['plat-1'], 'the canary (only) ran a test');
  });

  it('a canary whose test fails stops the rollout with the failed step', async () => {
    nextTest = 'fail';
    const r = await fac.post('/api/facilities/rollouts', { scope: 'zone', target: 'platforms', document: emergency(8), canary: { kiosks: ['plat-2'] } });
    const { id } = (await r.json()) as { id: string };
    const done = await finished(id);
    assert.equal(done.state, 'failed');
    assert.match(done.reason, /plat-2: test call: .*audio-in/);
  });
});
