// The test call over the alarm's own path through a real registrar: the kiosk
// and the answerer register with Kamailio (digest auth), supervision.target is
// empty so the test calls the first desk of the emergency hunt list, and the
// INVITE goes through the registrar like an alarm's.
import { strict as assert } from 'node:assert';
import { startKamailio } from '../../src/testbed/kamailio.js';
import { stopAll } from '../../src/testbed/proc.js';
import { until } from '../helpers/tmp.js';
import { startAnswerer, type Answerer } from './answerer.js';
import { rig, STEP_ORDER } from './helpers.js';

describe('supervision test call through Kamailio', function () {
  this.timeout(60_000);
  let answerer: Answerer | undefined;
  afterEach(async () => {
    await answerer?.stop();
    answerer = undefined;
    await stopAll();
  });

  it('registered, then the first emergency desk (the registered answerer) is called through the registrar: every step passes', async () => {
    const kam = await startKamailio({ users: { 'conc-north': 'kiosk-secret', 'test-answerer': 'answerer-secret' } });
    const registrar = `sip:127.0.0.1:${kam.port}`;
    answerer = await startAnswerer({ registrar: { uri: registrar, password: 'answerer-secret' } });
    const r = await rig({
      supervision: { enabled: false },
      sip: {
        account: { user: 'conc-north', password: 'kiosk-secret', domain: '127.0.0.1', registrars: [{ uri: registrar, transport: 'udp' }] },
        targets: { emergency: [{ uri: 'sip:test-answerer@127.0.0.1', ringTimeoutS: 10 }], information: [{ uri: 'sip:test-answerer@127.0.0.1' }] },
      },
    });
    await until(() => r.events().some((e) => e.type === 'sip.registration' && e.data.registered), 10_000, 'kiosk registered');
    const t = (await r.runTest()).body;
    assert.deepEqual(t.steps.map((s: any) => s.step), STEP_ORDER);
    assert.equal(t.passed, true, JSON.stringify(t.steps, null, 1));
    assert.equal(t.steps[0].detail, `registered with ${registrar}`);
    assert.equal(t.steps[1].detail, 'answered by sip:test-answerer@127.0.0.1');
    assert.equal(answerer.calls.length, 1);
    assert.equal(answerer.calls[0]!.headers['x-helppoint-test'], t.testId);
    assert.ok(answerer.calls[0]!.heardKioskTone && answerer.calls[0]!.gotDigit1);
  });

  it('not registered (the registrar is gone): fails at registered, the call steps skipped', async () => {
    const r = await rig({
      supervision: { enabled: false },
      sip: { account: { user: 'conc-north', password: 'x', domain: '127.0.0.1', registrars: [{ uri: 'sip:127.0.0.1:9', transport: 'udp' }] } },
    });
    const t = (await r.runTest()).body;
    assert.equal(t.failedStep, 'registered');
    assert.match(t.steps[0].detail, /not registered with any of sip:127\.0\.0\.1:9/);
    for (const s of t.steps.slice(1, 6)) assert.equal(s.detail, 'skipped: registered failed');
  });
});
