// Other ways a person acknowledges, resets or reaches an alarm: RFC 4733 DTMF
// from a baresip desk, a dispatcher's commands through a real hub, the
// per-site "talk counts as acknowledged" option, and a desk calling back
// during the open alarm (trusted by how the call arrives, never by From).
import { strict as assert } from 'node:assert';
import { stopAll } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { startSipp } from '../../src/testbed/sipp.js';
import { startBaresip } from '../../src/testbed/baresip.js';
import { exampleHub } from '../helpers/processes.js';
import { desk, scenario } from '../intercom/helpers.js';
import { until, sleep } from '../helpers/tmp.js';
import { alarmRig } from './helpers.js';
import { consoleLogin } from '../helpers/console.js';


describe('alarm: acknowledgement, reset and call-back', function () {
  this.timeout(60_000);
  afterEach(() => stopAll());

  it('is acknowledged by RFC 4733 DTMF from a baresip desk and stays open after the desk hangs up', async () => {
    const bs = await startBaresip({ user: 'desk' });
    const rig = await alarmRig({ sip: { targets: { emergency: [{ uri: bs.uri }], information: [{ uri: bs.uri }] } } });
    await rig.press('emergency');
    await rig.waitAlarm((a) => a.state === 'talking', 'talking');
    const sent = await bs.command('sndcode', '*5');
    assert.ok(sent.ok, `baresip sndcode: ${sent.data}`);
    const ack = await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    assert.equal(ack.by, 'dtmf');
    await bs.command('hangup');
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.callId === ack.callId && e.data.state === 'ended'), 5000, 'call ended');
    await sleep(1000);
    assert.equal(rig.alarm().at(-1)!.state, 'acknowledged', rig.trail().join(', '));
    assert.equal((await rig.lamps()).yellow, true);
  });

  it('a dispatcher acknowledges and resets through the hub (who: from the session); a command for another alarm is refused with its reason; the hub keeps one row', async () => {
    const { port, base, start: startHub } = await exampleHub();
    const hub = await startHub();
    // No desk answers: the alarm keeps calling until the dispatcher acts.
    const nowhere = { uri: 'sip:desk@127.0.0.1:9', ringTimeoutS: 30 };
    const rig = await alarmRig({
      hub: { url: `ws://127.0.0.1:${port}/kiosk`, token: 'demo-token-conc-north-change-me', heartbeatS: 1 },
      sip: { targets: { emergency: [nowhere], information: [nowhere] } },
    });
    await hub.waitFor(/kiosk online/, 10_000);
    const dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const command = async (name: string, args: unknown) => {
      const r = await dispatcher.post('/api/commands', { kiosks: ['conc-north'], command: name, args });
      assert.equal(r.status, 202, await r.clone().text());
      const { id } = (await r.json()) as { id: string };
      return until(async () => (await dispatcher.json<{ results: Record<string, { ok: boolean; error?: string } | null> }>(`/api/commands/${id}`)).results['conc-north'], 10_000, `result of ${name}`);
    };
    const row = async (alarmId: string) => (await dispatcher.json<{ alarmId: string; state: string }[]>('/api/alarms?kiosk=conc-north')).find((a) => a.alarmId === alarmId);
    await rig.press('emergency');
    const raised = await rig.waitAlarm((a) => a.state === 'calling', 'calling');
    // The hub hears of the alarm like of every recorded event.
    await until(async () => (await row(raised.alarmId))?.state === 'calling', 10_000, 'alarm row at the hub');

    const wrong = await command('alarm.ack', { alarmId: 'conc-north-nope-0000', by: 'hub:someone-else' });
    assert.equal(wrong.ok, false);
    assert.match(wrong.error ?? '', /not the open alarm/);
    await until(() => rig.events().find((e) => e.type === 'alarm.refused'), 5000, 'alarm.refused recorded');

    // `by` in the body is ignored: the hub names the dispatcher from the session.
    assert.deepEqual(await command('alarm.ack', { alarmId: raised.alarmId, by: 'hub:someone-else' }), { ok: true });
    const ack = await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    assert.equal(ack.by, 'hub:dispatcher');
    assert.deepEqual(await command('alarm.reset', { alarmId: raised.alarmId }), { ok: true });
    const reset = await rig.waitAlarm((a) => a.state === 'reset', 'reset');
    assert.equal(reset.by, 'hub:dispatcher');
    await until(async () => !(await rig.lamps()).yellow, 3000, 'yellow off');
    await until(async () => (await row(raised.alarmId))?.state === 'reset', 10_000, 'the row at the hub closed');
    const again = await command('alarm.reset', { alarmId: raised.alarmId });
    assert.equal(again.ok, false, 'a closed alarm cannot be reset again');
  });

  it('where the site allows it, talking for talkAcknowledgesAfterS counts as acknowledged (off by default)', async () => {
    const d = await desk('desk-answer-wait-bye.xml');
    const rig = await alarmRig({ sip: { targets: { emergency: [{ uri: d.uri }], information: [{ uri: d.uri }] }, alarm: { talkAcknowledgesAfterS: 1 } } });
    await rig.press('emergency');
    const ack = await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    assert.equal(ack.by, 'talk-timeout');
    const talking = rig.alarm().find((a) => a.state === 'talking')!;
    assert.ok(Date.parse(ack.at) - Date.parse(talking.at) >= 1000);
  });

  it('a desk calling back during the open alarm is answered at once when it comes from a desk address; a stranger with the desk\'s From is not', async () => {
    // The alarm's desk: rings and never answers, on a port the call-back will come from later.
    const deskPort = await freePort();
    const ringing = await startSipp({ scenario: scenario('desk-no-answer.xml'), port: deskPort, args: ['-m', '1'] });
    const rig = await alarmRig({ sip: { targets: { emergency: [{ uri: ringing.uri, ringTimeoutS: 60 }], information: [{ uri: ringing.uri }] } } });
    await rig.press('emergency');
    await rig.waitAlarm((a) => a.state === 'calling', 'calling');
    const sipPort = (await rig.health()).sipPort;
    // A stranger with the desk's name in From, from another address: not answered (busy with the alarm's call).
    const stranger = await startSipp({ scenario: scenario('caller-gets-busy.xml'), args: [`127.0.0.1:${sipPort}`, '-s', 'desk', '-set', 'kiosk', 'conc-north', '-m', '1'] });
    assert.equal(await stranger.proc.exited, 0, 'the stranger was not answered');
    assert.equal(rig.alarm().some((a) => a.state === 'talking'), false);
    // The desk's PC is replaced on the same address and calls back while the kiosk still rings it.
    process.kill(-ringing.proc.pid, 'SIGKILL');
    await ringing.proc.exited;
    const back = await startSipp({ scenario: scenario('caller-autoanswer.xml'), port: deskPort, args: [`127.0.0.1:${sipPort}`, '-s', 'desk', '-set', 'kiosk', 'conc-north', '-m', '1', '-rtp_echo'] });
    const talking = await rig.waitAlarm((a) => a.state === 'talking', 'talking with the desk that called back');
    assert.match(talking.reason ?? '', /called back/);
    assert.equal(await back.proc.exited, 0);
    // It hung up without acknowledging: the alarm is re-sent.
    await rig.waitAlarm((a) => a.state === 'calling' && Date.parse(a.at) > Date.parse(talking.at), 're-send after the call-back');
  });
});
