// The supervision test call against a contract answerer, with a real kiosk
// process: scheduled and on-demand tests, their verdict per step, the faults
// a failed test raises, and a press during a test call.
import { strict as assert } from 'node:assert';
import { stopAll } from '../../src/testbed/proc.js';
import { sleep, until } from '../helpers/tmp.js';
import { startAnswerer, type Answerer } from './answerer.js';
import { rig, STEP_ORDER } from './helpers.js';

describe('supervision test call', function () {
  this.timeout(60_000);
  let answerer: Answerer | undefined;
  afterEach(async () => {
    await stopAll();
    await answerer?.stop();
    answerer = undefined;
  });

  it('a scheduled test (interval 10 s) passes against a contract answerer, with every step in order and the test headers', async () => {
    answerer = await startAnswerer();
    const r = await rig({ supervision: { intervalS: 10, jitterS: 0, target: answerer.uri } });
    const t = await r.waitTest(() => true, 'scheduled', 30_000);
    assert.equal(t.trigger, 'schedule');
    assert.deepEqual(t.steps.map((s) => s.step), STEP_ORDER);
    assert.equal(t.passed, true, JSON.stringify(t.steps, null, 1));
    assert.equal(t.failedStep, undefined);
    assert.match(t.testId, /^conc-north-t-[0-9a-z]+-[0-9a-f]{4}$/);
    assert.equal(t.intervalS, 10);
    assert.ok(t.next && Date.parse(t.next) > Date.parse(t.at), 'the next test is scheduled');
    // The acoustic loop really ran through the simulated room (not "not tested").
    const loop = t.steps.find((s) => s.step === 'acoustic-loop')!;
    assert.match(loop.detail, /1000 Hz heard/);
    assert.match(t.steps.find((s) => s.step === 'audio-in')!.detail, /2000 Hz heard/);
    assert.match(t.steps.find((s) => s.step === 'lamps')!.detail, /read back: lampYellow/);
    // The answerer saw a marked test call, heard our tone and our DTMF 1.
    const call = answerer.calls[0]!;
    assert.equal(call.headers['x-helppoint-test'], t.testId);
    assert.equal(call.headers['x-helppoint-kiosk'], 'conc-north');
    assert.equal(call.heardKioskTone, true);
    assert.equal(call.gotDigit1, true);
    assert.equal(call.endReason, 'remote hung up');
    assert.ok(!(await r.faults()).some((f) => f.code === 'test-failed'));
  });
});
