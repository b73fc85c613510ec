// Each attempt of the hunt owns its timers: a late final answer to an attempt
// the kiosk has already abandoned (here a 408 that comes 3 s after the CANCEL)
// must not clear the ring timer of the attempt now ringing.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { stopAll } from '../../src/testbed/proc.js';
import { callRig, desk, targets } from './helpers.js';
import { until } from '../helpers/tmp.js';

describe('intercom: attempts own their timers', function () {
  this.timeout(40_000);
  afterEach(() => stopAll());

  it('a late 408 of an abandoned attempt leaves the ring timeout of the current one running (information call policy)', async () => {
    const late = await desk('desk-cancel-late-408.xml');
    const second = await desk('desk-no-answer.xml');
    const rig = await callRig(targets([{ uri: late.uri, ringTimeoutS: 1 }, { uri: second.uri, ringTimeoutS: 4 }]));
    await rig.press('information');
    // Attempt 1: ring timeout after 1 s, CANCEL, given up 2 s later; attempt 2 rings the second desk.
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.attempt === 2), 10_000, 'attempt 2');
    // The first desk's 408 arrives about 1 s into attempt 2 ...
    assert.equal(await late.proc.exited, 0, `first desk:\n${late.proc.output().slice(-1500)}`);
    const late408 = rig.events().find((e) => e.type === 'call.state' && /^408/.test(e.data.reason ?? ''));
    assert.equal(late408?.data.attempt, 1, `the 408 belongs to attempt 1: ${rig.states().join(', ')}`);
    assert.equal(late408?.data.target, late.uri);
    // ... and attempt 2 still times out after its own 4 s: the second desk sees the CANCEL.
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.attempt === 2 && e.data.reason === 'no answer'), 10_000, 'ring timeout of attempt 2');
    assert.equal(await second.proc.exited, 0, `second desk:\n${second.proc.output().slice(-1500)}`);
  });

  it('the same for an alarm: attempt 2 still times out after its own ring timeout, whatever attempt 1 answers late', async () => {
    const late = await desk('desk-cancel-late-408.xml');
    const second = await desk('desk-no-answer.xml');
    const rig = await callRig(targets([{ uri: late.uri, ringTimeoutS: 1 }, { uri: second.uri, ringTimeoutS: 4 }]));
    await rig.press('emergency');
    const attempt2 = () => rig.events().filter((e) => e.type === 'call.state' && e.data.attempt === 2);
    await until(() => attempt2().length, 10_000, 'attempt 2');
    assert.equal(await late.proc.exited, 0, `first desk (its late 408 was acknowledged):\n${late.proc.output().slice(-1500)}`);
    const ended = await until(() => attempt2().find((e) => e.data.state === 'failed'), 10_000, 'end of attempt 2');
    assert.equal(ended.data.reason, 'no answer in 4 s');
    const started = rig.events().find((e) => e.type === 'alarm.state' && e.data.state === 'calling' && e.data.attempt === 2)!;
    const rang = Date.parse((ended as unknown as { at: string }).at) - Date.parse(started.data.at);
    assert.ok(rang >= 4000, `attempt 2 rang ${rang} ms, not its own 4 s`);
    assert.equal(await second.proc.exited, 0, `second desk:\n${second.proc.output().slice(-1500)}`);
  });

  it('an information call gives up a desk that answers nothing after unreachableAfterS, then rings the next one', async () => {
    const sink = dgram.createSocket('udp4'); // takes every INVITE, answers nothing
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    try {
      const second = await desk('desk-no-answer.xml');
      const dead = `sip:dead@127.0.0.1:${sink.address().port}`;
      const rig = await callRig(targets([{ uri: dead, ringTimeoutS: 30, unreachableAfterS: 1 }, { uri: second.uri, ringTimeoutS: 2 }]));
      const t0 = Date.now();
      await rig.press('information');
      await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.attempt === 1 && e.data.reason === 'unreachable: no response within 1 s'), 10_000, 'attempt 1 given up as unreachable');
      await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.attempt === 2), 10_000, 'attempt 2');
      assert.ok(Date.now() - t0 < 15_000, 'well before the 30 s ring timeout');
      assert.equal(await second.proc.exited, 0, `second desk:\n${second.proc.output().slice(-1500)}`);
    } finally {
      sink.close();
    }
  });
});
