// A reboot of a kiosk's board from the facilities console: POST
// /api/kiosks/:id/reboot sends kiosk.reboot to a real kiosk process. Its
// system.rebootCommand is a small script that records each call and writes
// the boot id the board will have next (the kiosk reads its boot id from the
// file HELPPOINT_BOOT_ID_FILE names, for tests only); "the board comes back"
// is the kiosk process started again. Refused while an alarm is open (the
// script not run); a failing command is an error result and the kiosk runs
// on; an accepted reboot is ok only once the kiosk is back with another boot
// id; one that does not come back is "not back" after the hub's
// rebootTimeoutS; a kiosk whose file has no system section refuses.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stopAll } from '../../src/testbed/proc.js';
import { exampleHub, kioskConfigFile, postJson, startKioskProcess, type KioskProc } from '../helpers/processes.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { DEMO_TOKEN } from '../hub/harness.js';

interface Reboot {
  commandId: string;
  state: string;
  by: string;
  askedAt: string;
  endedAt: string | null;
  bootBefore: string;
  bootAfter: string | null;
  error: string | null;
}
interface Asked {
  id?: string;
  state?: string;
  error?: string;
  reboot?: Reboot;
}

const SCRIPT = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
const [calls, bootFile, modeFile] = process.argv.slice(2);
const mode = existsSync(modeFile) ? readFileSync(modeFile, 'utf8').trim() : 'ok';
appendFileSync(calls, mode + '\\n');
if (mode === 'fail') {
  console.error('Failed to reboot system via logind: Access denied');
  process.exit(1);
}
// the id the board will have after this reboot
writeFileSync(bootFile, 'boot-' + Date.now() + '\\n');
`;

const TIMEOUT_S = 6;

describe('remote reboot of a kiosk board (kiosk.reboot)', function () {
  this.timeout(180_000);
  after(() => stopAll());

  let base: string;
  let facilities: ConsoleSession;
  let dispatcher: ConsoleSession;
  let kiosk: KioskProc;
  let file: string;
  let env: NodeJS.ProcessEnv;
  let calls: string;
  let bootFile: string;
  let modeFile: string;
  const health = async () => (await (await fetch(kiosk.url + 'health')).json()) as { alarm?: { alarmId?: string } | null; bootId?: string };
  const reboots = async (id = 'conc-north') => facilities.json<{ bootId: string | null; reboots: Reboot[] }>(`/api/kiosks/${id}/reboots`);
  const online = async (id = 'conc-north') => (await facilities.json<{ id: string; online: boolean }[]>('/api/fleet')).find((k) => k.id === id)?.online;
  const events = async (type: string) => (await facilities.json<{ type: string; data: Record<string, unknown> }[]>('/api/events?kiosk=conc-north&limit=1000')).filter((e) => e.type === type);
  const result = async (id: string) => (await facilities.json<{ results: Record<string, { ok: boolean; error?: string } | null> }>(`/api/commands/${id}`)).results['conc-north'];
  const callsMade = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);
  const ask = async (id = 'conc-north') => {
    const r = await facilities.post(`/api/kiosks/${id}/reboot`, {});
    return { status: r.status, body: (await r.json()) as Asked };
  };

  before(async () => {
    const hub = await exampleHub({ rebootTimeoutS: TIMEOUT_S });
    await hub.start();
    base = hub.base;
    const dir = tmpDir('hp-reboot-');
    const script = path.join(dir, 'reboot.mjs');
    writeFileSync(script, SCRIPT);
    calls = path.join(dir, 'calls');
    bootFile = path.join(dir, 'boot_id');
    modeFile = path.join(dir, 'mode');
    writeFileSync(bootFile, 'boot-first\n');
    env = { HELPPOINT_BOOT_ID_FILE: bootFile };
    ({ file } = kioskConfigFile({
      hub: { url: `ws://127.0.0.1:${hub.port}/kiosk`, token: DEMO_TOKEN('conc-north'), heartbeatS: 1 },
      system: { rebootCommand: [process.execPath, script, calls, bootFile, modeFile] },
    }));
    kiosk = await startKioskProcess(file, env);
    facilities = await consoleLogin(base, 'facilities', 'facilities-demo');
    dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    await until(online, 20_000, 'kiosk online');
    assert.equal((await health()).bootId, 'boot-first');
    await until(async () => (await reboots()).bootId === 'boot-first', 10_000, 'the hub knows the boot id');
  });

  it('facilities and admin only, through its own route', async () => {
    assert.equal((await dispatcher.post('/api/kiosks/conc-north/reboot', {})).status, 403);
    const viaCommands = await dispatcher.post('/api/commands', { kiosks: ['conc-north'], command: 'kiosk.reboot', args: { by: 'hub:someone' } });
    assert.equal(viaCommands.status, 400, await viaCommands.text());
    assert.equal((await facilities.post('/api/kiosks/nobody/reboot', {})).status, 404);
    // a kiosk that is not connected: refused by the hub, nothing sent
    const offline = await ask('plat-3');
    assert.equal(offline.status, 409);
    assert.match(offline.body.error ?? '', /^kiosk plat-3 is offline$/);
    assert.deepEqual(callsMade(), []);
  });

  it('refused while an alarm is open: the command is not run, the refusal is the result and an event', async () => {
    await postJson(kiosk.url + 'sim/press', { input: 'emergency', ms: 60 });
    const alarmId = await until(async () => (await health()).alarm?.alarmId, 10_000, 'alarm open');
    const refused = await ask();
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.state, 'refused');
    assert.match(refused.body.error ?? '', /^reboot refused: (an alarm is open|call .* in progress)$/);
    assert.deepEqual(callsMade(), []);
    assert.equal(kiosk.proc.child.exitCode, null);
    assert.equal((await result(refused.body.id!))?.ok, false);
    assert.equal((await reboots()).reboots[0]!.state, 'refused');
    await until(async () => (await events('kiosk.reboot.refused')).some((e) => e.data.by === 'hub:facilities'), 10_000, 'kiosk.reboot.refused at the hub');

    // reset; the alarm's call to the silent desk ends at its ring timeout (refused until then, for the call)
    assert.equal((await dispatcher.post('/api/commands', { kiosks: ['conc-north'], command: 'alarm.reset', args: { alarmId } })).status, 202);
    await until(async () => !(await health()).alarm?.alarmId, 15_000, 'alarm reset');
  });

  it('a failing reboot command is an error result and an event; the kiosk runs on', async () => {
    writeFileSync(modeFile, 'fail');
    let failed: Awaited<ReturnType<typeof ask>> | undefined;
    await until(async () => {
      const r = await ask();
      if (r.body.state === 'failed') return (failed = r);
      assert.match(r.body.error ?? '', /^reboot refused: call .* in progress$/);
      await sleep(500);
      return undefined;
    }, 40_000, 'the command run once the call ended');
    assert.equal(failed!.status, 409);
    assert.match(failed!.body.error!, /^reboot command failed: .* exited 1: Failed to reboot system via logind: Access denied$/);
    assert.deepEqual(callsMade(), ['fail']);
    assert.deepEqual(await result(failed!.body.id!), { ok: false, error: failed!.body.error });
    await until(async () => (await events('kiosk.reboot.failed')).some((e) => /Access denied/.test(String(e.data.error))), 10_000, 'kiosk.reboot.failed at the hub');
    await sleep(500);
    assert.equal(kiosk.proc.child.exitCode, null);
    assert.equal(await online(), true);
    assert.equal((await health()).bootId, 'boot-first');
  });

  it('accepted: the script runs, the event is recorded, the result waits until the kiosk is back with another boot id', async () => {
    writeFileSync(modeFile, 'ok');
    const accepted = await ask();
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.body.state, 'rebooting');
    const id = accepted.body.id!;
    assert.deepEqual(callsMade(), ['fail', 'ok']);
    await until(async () => (await events('kiosk.reboot')).some((e) => e.data.by === 'hub:facilities'), 10_000, 'kiosk.reboot at the hub');
    // handed to the system is not done: no result yet, and a second ask meanwhile is refused by the hub
    assert.equal(await result(id), null);
    const again = await ask();
    assert.equal(again.status, 409);
    assert.match(again.body.error ?? '', /^a reboot of conc-north is under way \(asked by hub:facilities at /);
    const next = readFileSync(bootFile, 'utf8').trim();
    assert.notEqual(next, 'boot-first');

    // the board comes back: the kiosk starts again, on the new boot id
    await kiosk.stop();
    kiosk = await startKioskProcess(file, env);
    assert.equal((await health()).bootId, next);
    const back = await until(async () => (await reboots()).reboots.find((r) => r.commandId === id && r.state === 'back'), 20_000, 'reboot back');
    assert.equal(back.bootBefore, 'boot-first');
    assert.equal(back.bootAfter, next);
    assert.ok(back.endedAt && Date.parse(back.endedAt) >= Date.parse(back.askedAt));
    assert.deepEqual(await result(id), { ok: true });
    const fleet = await facilities.json<{ kiosks: { id: string; lastReboot?: { state: string; endedAt: string | null } }[] }>('/api/facilities/fleet');
    assert.equal(fleet.kiosks.find((k) => k.id === 'conc-north')?.lastReboot?.state, 'back');
    const history = (await facilities.json<{ entries: { type: string; source: string; summary: string }[] }>('/api/desk/kiosks/conc-north/history')).entries;
    assert.ok(history.some((h) => h.type === 'kiosk.reboot.back' && h.source === 'hub' && h.summary.startsWith(`board rebooted: back at ${back.endedAt}`)), JSON.stringify(history.slice(0, 5)));
    assert.ok(history.some((h) => h.type === 'kiosk.reboot' && h.summary === 'board reboot asked by hub:facilities: handing it to the system'));
  });

  it('a kiosk that does not come back with another boot id is "not back" after the timeout', async () => {
    const boot = (await health()).bootId;
    const accepted = await ask();
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.body.state, 'rebooting');
    // the board never reboots: the kiosk stays connected on the same boot id
    const notBack = await until(async () => (await reboots()).reboots.find((r) => r.commandId === accepted.body.id && r.state === 'not-back'), (TIMEOUT_S + 10) * 1000, 'not back');
    assert.equal(notBack.error, `not back within ${TIMEOUT_S} s`);
    assert.ok(Date.parse(notBack.endedAt!) - Date.parse(notBack.askedAt) >= TIMEOUT_S * 1000);
    assert.deepEqual(await result(accepted.body.id!), { ok: false, error: `not back within ${TIMEOUT_S} s` });
    assert.equal((await health()).bootId, boot);
    // the script ran once more (it wrote the id of a boot that never came)
    assert.deepEqual(callsMade(), ['fail', 'ok', 'ok']);
  });

  it('a kiosk whose own file has no system section refuses: reboot not allowed there', async () => {
    const { file: south } = kioskConfigFile({ hub: { url: `ws://127.0.0.1:${new URL(base).port}/kiosk`, token: DEMO_TOKEN('conc-south'), heartbeatS: 1 } }, 'conc-south');
    await startKioskProcess(south, env);
    await until(() => online('conc-south'), 20_000, 'conc-south online');
    await until(async () => (await reboots('conc-south')).bootId, 10_000, 'the hub knows its boot id');
    const refused = await ask('conc-south');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'reboot refused: this kiosk may not be rebooted from the hub (no system.rebootCommand in its file)');
    assert.deepEqual(callsMade(), ['fail', 'ok', 'ok']);
  });

  it('every ask is audited, with the hub\'s refusals', async () => {
    const admin = await consoleLogin(base, 'admin', 'admin-demo');
    const audit = await admin.json<{ user: string; action: string; target: string; result: string; detail: { id?: string } | null }[]>('/api/audit?action=command.kiosk.reboot');
    const results = audit.map((a) => `${a.user} ${a.target} ${a.result}`);
    assert.ok(results.includes('facilities plat-3 refused: kiosk plat-3 is offline'), JSON.stringify(results));
    assert.ok(results.some((r) => /^facilities conc-north refused: a reboot of conc-north is under way/.test(r)), JSON.stringify(results));
    assert.ok(audit.filter((a) => a.target === 'conc-north' && a.result === 'sent' && a.detail?.id).length >= 4, JSON.stringify(results));
  });
});
