// The alarm never stops on a failure: an exception inside the policy (the
// test seam HELPPOINT_ALARM_THROW_ONCE) is an event, a log line and a fault,
// and the alarm goes on; a journal that cannot be written raises the store
// fault and the alarm runs in memory.
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { stopAll } from '../../src/testbed/proc.js';
import { desk } from '../intercom/helpers.js';
import { until } from '../helpers/tmp.js';
import { kioskConfigFile, startKioskProcess, postJson } from '../helpers/processes.js';
import { alarmRig } from './helpers.js';

describe('alarm under failure', function () {
  this.timeout(60_000);
  afterEach(() => stopAll());

  it('an exception injected into the policy (placing the call, handling its end) leaves the alarm going and raises a fault', async () => {
    const d1 = await desk('desk-answer-bye.xml');
    const d2 = await desk('desk-ack-dtmf-bye.xml');
    const rig = await alarmRig({ sip: { targets: { emergency: [{ uri: d1.uri }, { uri: d2.uri }], information: [{ uri: d1.uri }] } } }, { HELPPOINT_ALARM_THROW_ONCE: 'place,call ended' });
    await rig.press('emergency');
    const ack = await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged despite two exceptions');
    const errors = rig.events().filter((e) => e.type === 'alarm.error').map((e) => e.data);
    assert.deepEqual(errors.map((e) => e.where), ['raise', 'call ended']);
    assert.ok(errors.every((e) => /injected failure/.test(e.error) && e.alarmId === ack.alarmId));
    const faults = (await rig.health()).faults as { code: string; detail: string }[];
    assert.ok(faults.some((f) => f.code === 'alarm'), JSON.stringify(faults));
    assert.ok(rig.events().some((e) => e.type === 'fault.raised' && e.data.code === 'alarm'));
    // The throw while placing: the same desk again; the throw while handling the end: the next desk.
    assert.deepEqual(rig.alarm().filter((a) => a.state === 'calling').map((a) => [a.attempt, a.target, a.reason ?? '']), [
      [1, d1.uri, ''],
      [2, d1.uri, 'retry after an error in raise'],
      [3, d2.uri, 'retry after an error in call ended'],
    ]);
    assert.equal(await d1.proc.exited, 0);
    assert.equal(await d2.proc.exited, 0);
    assert.equal(rig.kiosk.proc.child.exitCode, null, 'the kiosk runs on');
    // The reset clears the alarm fault.
    await rig.press('reset');
    await rig.waitAlarm((a) => a.state === 'reset', 'reset');
    await until(async () => !((await rig.health()).faults as { code: string }[]).some((f) => f.code === 'alarm'), 3000, 'alarm fault cleared');
  });

  it('with a journal that cannot be written the store fault is raised and the alarm runs in memory', async () => {
    const d = await desk('desk-ack-dtmf-bye.xml');
    const { file, dir } = kioskConfigFile({ sip: { targets: { emergency: [{ uri: d.uri }], information: [{ uri: d.uri }] } } });
    // A directory where the journal file should be: every open and write fails.
    mkdirSync(path.join(dir, 'data/alarm-journal.jsonl'), { recursive: true });
    const kiosk = await startKioskProcess(file);
    const health = async () => (await (await fetch(kiosk.url + 'health')).json()) as { faults: { code: string; detail: string }[]; alarm: { state: string } | null };
    assert.ok((await health()).faults.some((f) => f.code === 'store' && /alarm journal/.test(f.detail)), JSON.stringify((await health()).faults));
    await postJson(kiosk.url + 'sim/press', { input: 'emergency', ms: 60 });
    await until(async () => (await health()).alarm?.state === 'acknowledged', 15_000, 'acknowledged');
    assert.equal(await d.proc.exited, 0);
  });
});
