// A remote restart from the facilities console: POST /api/kiosks/:id/restart
// sends kiosk.restart; the kiosk refuses while an alarm is open (the error
// says so and it keeps running), otherwise records who asked, answers, exits
// for its supervisor and comes back online. Only facilities and admin may ask;
// the command cannot be sent through /api/commands.
import { strict as assert } from 'node:assert';
import { stopAll } from '../../src/testbed/proc.js';
import { exampleHub, kioskConfigFile, postJson, startKioskProcess } from '../helpers/processes.js';
import { until } from '../helpers/tmp.js';
import { consoleLogin } from '../helpers/console.js';

describe('remote restart of a kiosk (kiosk.restart)', function () {
  this.timeout(90_000);
  after(() => stopAll());

  it('refused while an alarm is open, done once it is reset; facilities and admin only', async () => {
    const hub = await exampleHub();
    await hub.start();
    const { file } = kioskConfigFile({ hub: { url: `ws://127.0.0.1:${hub.port}/kiosk`, token: 'demo-token-conc-north-change-me', heartbeatS: 1 } });
    const kiosk = await startKioskProcess(file);
    const facilities = await consoleLogin(hub.base, 'facilities', 'facilities-demo');
    const dispatcher = await consoleLogin(hub.base, 'dispatcher', 'dispatcher-demo');
    const online = async () => (await facilities.json<{ id: string; online: boolean }[]>('/api/fleet')).find((k) => k.id === 'conc-north')?.online;
    await until(online, 20_000, 'kiosk online');

    // who may ask
    assert.equal((await dispatcher.post('/api/kiosks/conc-north/restart', {})).status, 403);
    const viaCommands = await dispatcher.post('/api/commands', { kiosks: ['conc-north'], command: 'kiosk.restart', args: { by: 'hub:someone' } });
    assert.equal(viaCommands.status, 400, await viaCommands.text());
    assert.equal((await facilities.post('/api/kiosks/nobody/restart', {})).status, 404);

    // an open alarm (the desk never answers): refused, and the kiosk runs on
    await postJson(kiosk.url + 'sim/press', { input: 'emergency', ms: 60 });
    const alarmId = await until(async () => ((await (await fetch(kiosk.url + 'health')).json()) as { alarm?: { alarmId?: string } | null }).alarm?.alarmId, 10_000, 'alarm open');
    const refused = await facilities.post('/api/kiosks/conc-north/restart', {});
    assert.equal(refused.status, 409);
    const why = (await refused.json()) as { ok: boolean; error: string };
    assert.equal(why.ok, false);
    assert.match(why.error, /^restart refused: (an alarm is open|call .* in progress)$/);
    assert.equal(kiosk.proc.child.exitCode, null);

    // reset by a dispatcher, then the restart is accepted
    const reset = await dispatcher.post('/api/commands', { kiosks: ['conc-north'], command: 'alarm.reset', args: { alarmId } });
    assert.equal(reset.status, 202);
    await until(async () => !((await (await fetch(kiosk.url + 'health')).json()) as { alarm?: { alarmId?: string } | null }).alarm?.alarmId, 15_000, 'alarm reset');
    // the alarm's call to the silent desk ends at its ring timeout: until then the restart is refused for the call
    let ok: Response | undefined;
    await until(async () => {
      const r = await facilities.post('/api/kiosks/conc-north/restart', {});
      if (r.status === 200) return (ok = r);
      assert.equal(r.status, 409);
      assert.match(((await r.json()) as { error: string }).error, /^restart refused: call .* in progress$/);
      await new Promise((res) => setTimeout(res, 500));
      return undefined;
    }, 40_000, 'restart accepted once the call ended');
    assert.equal(((await ok!.json()) as { ok: boolean }).ok, true);
    // its supervisor (here the test bed, as systemd on a kiosk) starts it again
    await until(() => (kiosk.proc.output().match(/"msg":"ready"/g) ?? []).length >= 2, 30_000, 'kiosk started again');
    assert.match(kiosk.proc.output(), /exited 75, starting again/);
    await until(online, 20_000, 'kiosk online again');
    // who asked is in the kiosk's record, at the hub
    await until(
      async () => (await facilities.json<{ type: string; data: { by?: string } }[]>('/api/events?kiosk=conc-north&limit=1000')).find((e) => e.type === 'kiosk.restart' && e.data.by === 'hub:facilities'),
      10_000,
      'kiosk.restart event at the hub',
    );
    // and in the kiosk's history on the desk
    const history = (await facilities.json<{ entries: { type: string; summary: string }[] }>('/api/desk/kiosks/conc-north/history')).entries;
    assert.ok(history.some((h) => h.type === 'kiosk.restart' && h.summary === 'kiosk restarted, asked by hub:facilities'), JSON.stringify(history.slice(-5)));
  });
});
