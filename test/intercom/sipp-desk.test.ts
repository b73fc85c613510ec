// Calls from a real kiosk process to desks played by sipp scenarios. An
// emergency call is an alarm: a desk that hangs up without acknowledging gets
// it re-sent (test/alarm/ covers that); here each test looks at the SIP of the
// first call(s).
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stopAll } from '../../src/testbed/proc.js';
import { freePortRun } from '../../src/testbed/ports.js';
import { callRig, desk, firstCall, targets } from './helpers.js';
import { until } from '../helpers/tmp.js';

/** Whether something holds UDP `port` on 127.0.0.1 (a bind to it fails). */
async function bound(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  const free = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => resolve(true));
  });
  s.close();
  return !free;
}

/** Two even ports, P and P+2, nobody holds now and reserved in the test slot's range (a range min P, max P+2 picks one of them: both ends are in the range). */
function freePair(): Promise<number> {
  return freePortRun(5);
}

describe('intercom against sipp desks', function () {
  this.timeout(40_000);
  afterEach(() => stopAll());

  it('places an emergency call: INVITE with metadata, 180, 200, ACK, RTP both ways, BYE from the desk', async () => {
    const d = await desk('desk-answer-bye.xml');
    const rig = await callRig(targets([{ uri: d.uri, ringTimeoutS: 10 }]));
    await rig.press('emergency');
    await rig.waitState('connected');
    await rig.waitState('ended');
    assert.deepEqual(firstCall(rig), ['calling', 'ringing', 'connected', 'ended(hung up)']);
    assert.equal(await d.proc.exited, 0, `sipp scenario failed:\n${d.proc.output().slice(-2000)}`);
    // The kiosk's own RTP statistics: it received the desk's echo of its packets.
    const stats = await until(() => rig.kiosk.proc.output().split('\n').find((l) => l.includes('call media statistics')), 5000, 'media statistics');
    const rtp = JSON.parse(stats).rtp;
    assert.ok(rtp.packetsSent > 20, `sent ${rtp.packetsSent}`);
    assert.ok(rtp.packetsReceived > 20, `received ${rtp.packetsReceived}`);
    assert.equal(rtp.codec, 'PCMU');
    // ...and they are part of the call's event record.
    const media = await until(() => rig.events().find((e) => e.type === 'call.media'), 5000, 'call.media event');
    assert.equal(media.data.codec, 'PCMU');
    assert.ok(media.data.packetsReceived > 20);
    assert.equal(typeof media.data.jitterMs, 'number');
  });

  it('offers an RTP port bound before the press, and the next call one bound after that call began', async () => {
    const d = await desk('desk-answer-bye.xml', ['-m', '2']);
    const p = await freePair();
    const rig = await callRig({ ...targets([{ uri: d.uri, ringTimeoutS: 10 }]), sip: { ...targets([{ uri: d.uri, ringTimeoutS: 10 }]).sip, rtpPortRange: { min: p, max: p + 2 } } });
    const before = [await bound(p), await bound(p + 2)];
    assert.equal(before.filter(Boolean).length, 1, `one of the two RTP ports is bound before the press: ${before}`);
    const spare = before[0] ? p : p + 2;
    const other = spare === p ? p + 2 : p;
    await rig.press('emergency');
    await rig.waitState('connected');
    // the desk hangs up without acknowledging: the alarm calls again, on the spare bound during the first call
    await rig.waitState('connected', 10_000, 2);
    const log = await until(() => readdirSync(d.dir).find((f) => f.endsWith('_messages.log')), 5000, 'sipp message log');
    const offered = [...readFileSync(path.join(d.dir, log), 'utf8').matchAll(/^INVITE [\s\S]*?\r?\nm=audio (\d+) /gm)].map((m) => Number(m[1]));
    assert.deepEqual(offered.slice(0, 2), [spare, other], 'the first INVITE offers the port bound before the press, the re-sent one the port bound after the first call began');
  });

  it('moves on to the second desk when the first is busy (486)', async () => {
    const busy = await desk('desk-busy.xml');
    const second = await desk('desk-answer-bye.xml');
    const rig = await callRig(targets([{ uri: busy.uri }, { uri: second.uri }]));
    await rig.press('emergency');
    await rig.waitState('ended', 15_000);
    const log = rig.events().filter((e) => e.type === 'call.state');
    assert.ok(log.some((e) => e.data.reason === '486 Busy Here' && e.data.target === busy.uri), rig.states().join(', '));
    const connected = log.find((e) => e.data.state === 'connected');
    assert.equal(connected?.data.target, second.uri);
    assert.equal(connected?.data.attempt, 2);
    assert.equal(await busy.proc.exited, 0);
    assert.equal(await second.proc.exited, 0);
  });

  it('cancels after the ring timeout and calls the next desk', async () => {
    const silent = await desk('desk-no-answer.xml');
    const second = await desk('desk-answer-bye.xml');
    const rig = await callRig(targets([{ uri: silent.uri, ringTimeoutS: 2 }, { uri: second.uri, ringTimeoutS: 10 }]));
    const t0 = Date.now();
    await rig.press('emergency');
    await rig.waitState('connected', 15_000);
    const waited = Date.now() - t0;
    assert.ok(waited >= 2000, `moved on after ${waited} ms, before the 2 s ring timeout`);
    assert.ok(rig.states().includes('failed(no answer in 2 s)'), rig.states().join(', '));
    assert.equal(await silent.proc.exited, 0, `the silent desk did not see CANCEL:\n${silent.proc.output().slice(-1500)}`);
    await rig.waitState('ended');
  });

  it('shows "queued" on 182 and keeps waiting past the ring timeout until the desk answers', async () => {
    const d = await desk('desk-queued.xml');
    const rig = await callRig(targets([{ uri: d.uri, ringTimeoutS: 2 }]));
    await rig.press('emergency');
    await rig.waitState('queued');
    await rig.waitState('connected', 10_000);
    await rig.waitState('ended');
    assert.deepEqual(firstCall(rig), ['calling', 'queued', 'connected', 'ended(hung up)']);
    assert.equal(await d.proc.exited, 0);
  });

  it('keeps the call through hold and unhold by re-INVITE', async () => {
    const d = await desk('desk-hold.xml');
    const rig = await callRig(targets([{ uri: d.uri }]));
    await rig.press('emergency');
    await rig.waitState('ended', 15_000);
    assert.equal(await d.proc.exited, 0, `hold scenario failed:\n${d.proc.output().slice(-2000)}`);
    assert.deepEqual(firstCall(rig), ['calling', 'ringing', 'connected', 'ended(hung up)']);
  });

  it('pulses the door relay when the desk sends *1', async () => {
    const d = await desk('desk-dtmf-info.xml');
    const rig = await callRig({ ...targets([{ uri: d.uri }]), io: { doorPulseMs: 300 } });
    await rig.press('emergency');
    await rig.waitState('ended', 15_000);
    assert.equal(await d.proc.exited, 0);
    const dtmf = rig.events().filter((e) => e.type === 'call.dtmf').map((e) => e.data.digits);
    assert.deepEqual(dtmf, ['*', '*1']);
    const pulses = rig.events().filter((e) => e.type === 'relay.pulse');
    assert.deepEqual(pulses.map((e) => e.data), [{ output: 'doorRelay', source: 'dtmf' }]);
  });

  it('sends the category chosen for an information call', async () => {
    const d = await desk('desk-answer-bye.xml', ['-trace_msg']);
    const rig = await callRig(targets([{ uri: d.uri }]));
    await rig.press('information');
    await rig.waitState('ended', 15_000);
    assert.equal(await d.proc.exited, 0);
  });
});
