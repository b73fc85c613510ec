// The alarm against real desks (sipp scenarios) and a real kiosk process:
// re-sent until a desk acknowledges, acknowledged and reset only by an
// explicit act, queue and media limits, and the paths that start an alarm
// while an information call is in progress.
import { strict as assert } from 'node:assert';
import dgram from 'node:dgram';
import WebSocket from 'ws';
import { stopAll } from '../../src/testbed/proc.js';
import { desk } from '../intercom/helpers.js';
import { until, sleep } from '../helpers/tmp.js';
import { alarmRig, header, inviteTap } from './helpers.js';

const targets = (emergency: { uri: string; ringTimeoutS?: number; unreachableAfterS?: number }[], information = emergency) => ({ sip: { targets: { emergency, information } } });

describe('alarm against sipp desks', function () {
  this.timeout(60_000);
  afterEach(() => stopAll());

  it('re-sends to the next desk when a desk answers and hangs up without acknowledging; an acknowledgement by DTMF stops the re-sends and keeps the yellow lamp until reset', async () => {
    const d1 = await desk('desk-answer-bye.xml');
    const d2 = await desk('desk-ack-dtmf-bye.xml');
    const rig = await alarmRig(targets([{ uri: d1.uri }, { uri: d2.uri }]));
    await rig.press('emergency');
    const ack = await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    assert.equal(await d1.proc.exited, 0, 'first desk: a complete call');
    assert.equal(await d2.proc.exited, 0, 'second desk: a complete call with the acknowledgement');
    const trail = rig.alarm();
    assert.deepEqual(
      trail.map((a) => [a.state, a.attempt, a.target]),
      [
        ['raised', undefined, undefined],
        ['calling', 1, d1.uri],
        ['talking', 1, d1.uri],
        ['calling', 2, d2.uri],
        ['talking', 2, d2.uri],
        ['acknowledged', 2, d2.uri],
      ],
      rig.trail().join(', '),
    );
    assert.equal(new Set(trail.map((a) => a.alarmId)).size, 1, 'one alarm throughout');
    assert.deepEqual(trail.map((a) => a.seq), [1, 2, 3, 4, 5, 6]);
    assert.equal(trail[0]!.source, 'button');
    assert.match(trail[3]!.reason ?? '', /hung up/);
    assert.equal(ack.by, 'dtmf');
    // The desk hung up after acknowledging: nothing is re-sent, the alarm stays open, yellow on.
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.callId === ack.callId && e.data.state === 'ended'), 5000, 'end of the acknowledged call');
    await sleep(1500);
    assert.equal(rig.alarm().length, 6, `nothing after the acknowledgement: ${rig.trail().join(', ')}`);
    assert.deepEqual(await rig.lamps(), { yellow: true, green: false, beacon: true });
    assert.equal((await rig.health()).alarm.state, 'acknowledged');
    // Staff on site reset it with the key switch: lamps off, the alarm closed in the record.
    await rig.press('reset');
    const reset = await rig.waitAlarm((a) => a.state === 'reset', 'reset');
    assert.equal(reset.by, 'local');
    await until(async () => !(await rig.lamps()).yellow, 2000, 'yellow off');
    assert.deepEqual(await rig.lamps(), { yellow: false, green: false, beacon: false });
    assert.equal(rig.journal().at(-1)!.state, 'reset');
    assert.equal((await rig.health()).alarm, null);
  });

  it('is acknowledged and reset by the desk with SIP INFO application/x-helppoint-alarm: lamps off, the alarm closed in the record', async () => {
    const d = await desk('desk-ack-reset-info.xml');
    const rig = await alarmRig(targets([{ uri: d.uri }]));
    await rig.press('emergency');
    await rig.waitAlarm((a) => a.state === 'reset', 'reset');
    assert.deepEqual(rig.trail(), ['raised', 'calling', 'talking', 'acknowledged(info|SIP INFO from the desk)', 'reset(info|SIP INFO from the desk)']);
    assert.equal(await d.proc.exited, 0);
    await until(async () => {
      const l = await rig.lamps();
      return !l.yellow && !l.green && !l.beacon;
    }, 5000, 'lamps off');
    const journal = rig.journal();
    assert.equal(journal.at(-1)!.state, 'reset');
    assert.equal(journal.at(-1)!.by, 'info');
    await sleep(1000);
    assert.equal(rig.alarm().length, 5, 'no call after the reset');
  });

  it('is reset by the desk with the DTMF reset code', async () => {
    const d = await desk('desk-reset-dtmf-bye.xml');
    const rig = await alarmRig(targets([{ uri: d.uri }]));
    await rig.press('emergency');
    const reset = await rig.waitAlarm((a) => a.state === 'reset', 'reset');
    assert.equal(reset.by, 'dtmf');
    assert.equal(await d.proc.exited, 0);
  });

  it('gives up a desk that answers nothing (its host gone without a word) after unreachableAfterS, not its ring timeout', async () => {
    // A socket that takes every INVITE and answers nothing: a desk PC whose network died, still in the hunt list.
    const sink = dgram.createSocket('udp4');
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    let invites = 0;
    sink.on('message', (m) => void (m.toString('latin1').startsWith('INVITE ') && invites++));
    try {
      const d2 = await desk('desk-ack-dtmf-bye.xml');
      const dead = `sip:dead@127.0.0.1:${sink.address().port}`;
      const rig = await alarmRig(targets([{ uri: dead, ringTimeoutS: 30, unreachableAfterS: 1 }, { uri: d2.uri }]));
      await rig.press('emergency');
      const first = await rig.waitAlarm((a) => a.state === 'calling' && a.attempt === 1, 'first attempt');
      const next = await rig.waitAlarm((a) => a.state === 'calling' && a.attempt === 2, 'second attempt');
      const waited = Date.parse(next.at) - Date.parse(first.at);
      assert.ok(waited >= 1000 && waited < 15_000, `moved on after ${waited} ms (unreachableAfterS 1 s, ring timeout 30 s)`);
      assert.ok(invites >= 1, 'the dead desk was sent the INVITE');
      assert.equal(next.target, d2.uri);
      assert.match(next.reason ?? '', /unreachable: no response within 1 s/);
      await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged by the next desk');
    } finally {
      sink.close();
    }
  });

  it('waits at most queueMaxWaitS after 182 Queued, then calls the next desk', async () => {
    const stalled = await desk('desk-queued-stall.xml');
    const d2 = await desk('desk-ack-dtmf-bye.xml');
    // A 1 s ring timeout does not apply while queued: the queue limit (2 s) does.
    const rig = await alarmRig({ ...targets([{ uri: stalled.uri, ringTimeoutS: 1 }, { uri: d2.uri }]), sip: { ...targets([{ uri: stalled.uri, ringTimeoutS: 1 }, { uri: d2.uri }]).sip, alarm: { queueMaxWaitS: 2 } } });
    await rig.press('emergency');
    const queued = await rig.waitAlarm((a) => a.state === 'queued', 'queued');
    const next = await rig.waitAlarm((a) => a.state === 'calling' && a.attempt === 2, 'second attempt');
    const waited = Date.parse(next.at) - Date.parse(queued.at);
    assert.ok(waited >= 2000, `moved on after ${waited} ms in the queue, before queueMaxWaitS`);
    assert.equal(next.target, d2.uri);
    assert.match(next.reason ?? '', /queue wait over \(2 s\)/);
    assert.equal(await stalled.proc.exited, 0, 'the queueing desk saw the CANCEL');
    await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
  });

  it('re-sends within mediaTimeoutS + 1 s when the desk dies in the middle of the talk (no BYE, no RTP)', async () => {
    const dying = await desk('desk-answer-now.xml');
    const d2 = await desk('desk-ack-dtmf-bye.xml');
    const mediaTimeoutS = 2;
    const rig = await alarmRig({ sip: { ...targets([{ uri: dying.uri }, { uri: d2.uri }]).sip, alarm: { mediaTimeoutS } } });
    await rig.press('emergency');
    await rig.waitAlarm((a) => a.state === 'talking', 'talking');
    await sleep(500); // RTP flows both ways (the desk echoes it)
    const killedAt = Date.now();
    process.kill(-dying.proc.pid, 'SIGKILL');
    const next = await rig.waitAlarm((a) => a.state === 'calling' && a.attempt === 2, 'the re-send');
    const after = Date.parse(next.at) - killedAt;
    assert.match(next.reason ?? '', /media timeout/);
    assert.ok(after <= (mediaTimeoutS + 1) * 1000, `re-sent ${after} ms after the desk died; mediaTimeoutS is ${mediaTimeoutS} s`);
    assert.ok(after >= mediaTimeoutS * 1000 - 300, `re-sent ${after} ms after the desk died: before the media timeout?`);
    await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged by the second desk');
  });

  it('hold-to-upgrade while the information desk rings: the emergency desk gets an INVITE with the upgrade category within 1 s', async () => {
    const info = await desk('desk-no-answer.xml');
    const em = await desk('desk-ack-dtmf-bye.xml');
    const tap = await inviteTap(em.port);
    const holdMs = 500;
    const rig = await alarmRig({ sip: { targets: { emergency: [{ uri: tap.uri }], information: [{ uri: info.uri, ringTimeoutS: 30 }] } }, io: { upgradeHoldMs: holdMs } });
    await rig.press('information');
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.kind === 'information' && e.data.state === 'ringing'), 10_000, 'information call ringing');
    const t0 = Date.now();
    await rig.press('emergency', holdMs + 400);
    const invite = await until(() => tap.invites[0], 5000, 'INVITE at the emergency desk');
    const ms = invite.at - (t0 + holdMs);
    assert.equal(header(invite.text, 'X-Helppoint-Category'), 'upgrade');
    assert.ok(ms <= 1000, `INVITE ${ms} ms after the hold completed`);
    assert.equal(await info.proc.exited, 0, 'the information desk saw the CANCEL');
    const raised = await rig.waitAlarm((a) => a.state === 'raised', 'raised');
    assert.equal(raised.source, 'upgrade');
    await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    tap.close();
  });

  it('an emergency chosen on the screen during an information call ends that call and reaches the emergency desk within 1 s', async () => {
    const info = await desk('desk-answer-now.xml');
    const em = await desk('desk-ack-dtmf-bye.xml');
    const tap = await inviteTap(em.port);
    const rig = await alarmRig({ sip: { targets: { emergency: [{ uri: tap.uri }], information: [{ uri: info.uri }] } } });
    const ws = new WebSocket(rig.kiosk.url.replace('http', 'ws') + 'screen/ws');
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    ws.send(JSON.stringify({ type: 'call', kind: 'information', category: 'enquiry' }));
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.kind === 'information' && e.data.state === 'connected'), 10_000, 'information call connected');
    const t0 = Date.now();
    ws.send(JSON.stringify({ type: 'call', kind: 'emergency' }));
    const invite = await until(() => tap.invites[0], 5000, 'INVITE at the emergency desk');
    const ms = invite.at - t0;
    assert.equal(header(invite.text, 'X-Helppoint-Category'), 'emergency');
    assert.ok(ms <= 1000, `INVITE ${ms} ms after the screen asked`);
    assert.equal(await info.proc.exited, 0, 'the information desk got a BYE');
    const infoEnd = rig.events().find((e) => e.type === 'call.state' && e.data.kind === 'information' && e.data.state === 'ended');
    assert.match(infoEnd?.data.reason ?? '', /alarm/);
    assert.equal((await rig.waitAlarm((a) => a.state === 'raised', 'raised')).source, 'screen');
    await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    ws.close();
    tap.close();
  });

  it('refuses a second emergency request while the alarm is open, with a reason, and information calls too', async () => {
    const d = await desk('desk-ack-dtmf-bye.xml');
    const rig = await alarmRig(targets([{ uri: d.uri }]));
    await rig.press('emergency');
    await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    await rig.press('emergency');
    await rig.press('information');
    const refused = await until(() => rig.events().find((e) => e.type === 'alarm.refused'), 5000, 'alarm.refused');
    assert.match(refused.data.reason, /already open/);
    await until(() => rig.events().some((e) => e.type === 'button.ignored' && e.data.button === 'information'), 5000, 'information press ignored');
    assert.equal(rig.alarm().filter((a) => a.state === 'raised').length, 1);
  });
});
