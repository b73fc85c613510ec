// The alarm survives the kiosk process: SIGKILL (a crash, a power cut) at any
// moment of an alarm, and after the restart it is in the same state or later,
// an unacknowledged one is called again within 1 s of "ready", and no alarm is
// lost or duplicated.
import { strict as assert } from 'node:assert';
import WebSocket from 'ws';
import { stopAll } from '../../src/testbed/proc.js';
import { startSipp } from '../../src/testbed/sipp.js';
import { scenario } from '../intercom/helpers.js';
import { until, sleep } from '../helpers/tmp.js';
import { alarmRig, header, inviteTap, type AlarmRig } from './helpers.js';
import type { KioskProc } from '../helpers/processes.js';
import type { AlarmState } from '../../src/alarm/events.js';

/** The kiosk's own time of its "ready" log line. */
function readyAt(k: KioskProc): number {
  const line = k.proc.output().split('\n').find((l) => l.includes('"msg":"ready"'))!;
  return Date.parse(JSON.parse(line).time);
}

const ORDER = ['raised', 'calling', 'queued', 'talking', 'acknowledged', 'reset'];

describe('alarm across a SIGKILL of the kiosk', function () {
  this.timeout(120_000);
  afterEach(() => stopAll());

  it('an alarm nobody answered is called again within 1 s of ready, as the same alarm', async () => {
    const d = await startSipp({ scenario: scenario('desk-no-answer.xml'), args: ['-m', '10'] });
    const tap = await inviteTap(d.port);
    const rig = await alarmRig({ sip: { targets: { emergency: [{ uri: tap.uri, ringTimeoutS: 60 }], information: [{ uri: tap.uri }] } } });
    await rig.press('emergency');
    await until(() => tap.invites.length === 1, 5000, 'first INVITE');
    const first = await rig.waitAlarm((a) => a.state === 'calling', 'calling');
    await rig.kill();
    const kiosk = await rig.restart();
    const invite = await until(() => tap.invites[1], 5000, 'INVITE after the restart');
    const ms = invite.at - readyAt(kiosk);
    assert.ok(ms <= 1000, `called again ${ms} ms after ready`);
    assert.equal(header(invite.text, 'X-Helppoint-Call-Ref'), first.alarmId, 'the same alarm');
    assert.equal(header(invite.text, 'X-Helppoint-Attempt'), '2');
    const resumed = await rig.waitAlarm((a) => a.state === 'calling' && a.attempt === 2, 'resumed');
    assert.match(resumed.reason ?? '', /resumed after a restart \(was calling\)/);
    assert.equal(resumed.seq, first.seq + 1);
    assert.deepEqual(await rig.lamps(), { yellow: true, green: false, beacon: true });
    assert.deepEqual([...new Set(rig.journal().map((a) => a.alarmId))], [first.alarmId]);
    tap.close();
  });

  it('an acknowledged alarm comes back acknowledged: yellow lamp, "help is coming" on the screen, nothing re-sent', async () => {
    const d = await startSipp({ scenario: scenario('desk-ack-dtmf-bye.xml'), args: ['-m', '1', '-rtp_echo'] });
    const tap = await inviteTap(d.port);
    const rig = await alarmRig({ sip: { targets: { emergency: [{ uri: tap.uri }], information: [{ uri: tap.uri }] } } });
    await rig.press('emergency');
    const ack = await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    assert.equal(await d.proc.exited, 0);
    await rig.kill();
    await rig.restart();
    const resumed = await rig.waitAlarm((a) => a.state === 'acknowledged' && a.seq > ack.seq, 'acknowledged again after the restart');
    assert.match(resumed.reason ?? '', /resumed after a restart/);
    assert.deepEqual(await rig.lamps(), { yellow: true, green: false, beacon: true });
    const ws = new WebSocket(rig.kiosk.url.replace('http', 'ws') + 'screen/ws');
    const snap = await new Promise<{ alarm: { state: string; alarmId: string } | null }>((resolve, reject) => {
      ws.once('message', (m) => resolve(JSON.parse(String(m)).state));
      ws.once('error', reject);
    });
    ws.close();
    assert.deepEqual([snap.alarm?.state, snap.alarm?.alarmId], ['acknowledged', ack.alarmId]);
    await sleep(1500);
    assert.equal(tap.invites.length, 1, 'nothing re-sent after the restart');
    await rig.input('reset', true);
    await rig.waitAlarm((a) => a.state === 'reset', 'reset on site');
    tap.close();
  });

  it('SIGKILL at 20 random moments (calling, queued, talking, acknowledged): same state or later after each restart, unacknowledged ones called again within 1 s of ready, 0 lost, 0 duplicated', async function () {
    this.timeout(900_000);
    const d = await startSipp({ scenario: scenario('desk-cycle.xml'), args: ['-m', '200', '-rtp_echo'] });
    const tap = await inviteTap(d.port);
    const rig = await alarmRig({ sip: { targets: { emergency: [{ uri: tap.uri, ringTimeoutS: 30 }], information: [{ uri: tap.uri }] } } }, {}, { compiled: true });
    const raisedIds: string[] = [];
    const killedIn: string[] = [];
    const resumeMs: number[] = [];
    const latest = (r: AlarmRig, id: string): AlarmState | undefined => r.journal().filter((a) => a.alarmId === id).at(-1);
    for (let i = 0; i < 20; i++) {
      const want = ['calling', 'queued', 'talking', 'acknowledged'][i % 4]!;
      // An alarm is open (resumed) or a new one is raised by a press.
      let open = (await rig.health()).alarm as AlarmState | null;
      if (!open) {
        const before = new Set(rig.alarm().map((a) => a.alarmId));
        await rig.press('emergency');
        const raised = await rig.waitAlarm((a) => a.state === 'raised' && !before.has(a.alarmId), `raised (round ${i})`);
        raisedIds.push(raised.alarmId);
        open = raised;
      }
      const id = open.alarmId;
      // Wait for the wanted state of this alarm (or later), then a random moment inside it.
      const seqNow = (latest(rig, id)?.seq ?? 0);
      await until(() => {
        const l = latest(rig, id);
        return l && l.seq >= seqNow && ORDER.indexOf(l.state) >= ORDER.indexOf(want) ? l : undefined;
      }, 20_000, `state ${want} in round ${i}`);
      await sleep(Math.floor(Math.random() * 500));
      await rig.kill();
      const before = latest(rig, id)!;
      killedIn.push(before.state);
      const invitesBefore = tap.invites.length;
      const kiosk = await rig.restart();
      const ready = readyAt(kiosk);
      if (before.state === 'reset') {
        assert.equal((await rig.health()).alarm, null, `round ${i}: a reset alarm stays closed`);
        continue;
      }
      const after = await until(() => {
        const l = latest(rig, id);
        return l && l.seq > before.seq ? l : undefined;
      }, 5000, `round ${i}: the alarm resumed`);
      if (before.state === 'acknowledged') {
        assert.equal(after.state, 'acknowledged', `round ${i}: acknowledged stays acknowledged`);
        await sleep(300);
        assert.equal(tap.invites.length, invitesBefore, `round ${i}: an acknowledged alarm is not re-sent`);
        // Staff reset it on site, so the next round starts a new alarm.
        await rig.press('reset');
        await until(() => latest(rig, id)?.state === 'reset', 5000, `round ${i}: reset`);
      } else {
        assert.equal(after.state, 'calling', `round ${i}: an unacknowledged alarm is called again (was ${before.state})`);
        const invite = await until(() => tap.invites[invitesBefore], 5000, `round ${i}: INVITE after the restart`);
        assert.equal(header(invite.text, 'X-Helppoint-Call-Ref'), id);
        resumeMs.push(invite.at - ready);
        assert.ok(invite.at - ready <= 1000, `round ${i}: called again ${invite.at - ready} ms after ready (killed in ${before.state})`);
      }
    }
    // Every state was hit, every alarm is in the record once, none was raised twice.
    for (const s of ['calling', 'queued', 'talking', 'acknowledged']) assert.ok(killedIn.includes(s), `never killed in ${s}: ${killedIn.join(', ')}`);
    const journalIds = new Set(rig.journal().map((a) => a.alarmId));
    for (const id of raisedIds) assert.ok(journalIds.has(id), `alarm ${id} lost from the journal`);
    const raisedEvents = rig.alarm().filter((a) => a.state === 'raised').map((a) => a.alarmId);
    assert.equal(new Set(raisedEvents).size, raisedEvents.length, `an alarm raised twice: ${raisedEvents.join(', ')}`);
    assert.deepEqual(raisedEvents.filter((x) => raisedIds.includes(x)), raisedIds, 'every raised alarm is in the event log once');
    console.log(`      killed in: ${killedIn.join(', ')}; alarms: ${raisedIds.length}; resume after ready: ${resumeMs.map((m) => m.toFixed(0)).join(', ')} ms`);
    tap.close();
  });
});
