// Acceptance of the facilities console: headless Chromium drives the console
// of a real hub; three real kiosk processes (zone platforms: plat-1, plat-2;
// zone concourse: conc-north) registered with a real Kamailio; sipp desks that
// never answer. Screenshots of the map, editor, diff and rollout views go to
// test/artifacts/.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadHubConfig } from '../../src/config/load.js';
import { Hub } from '../../src/hub/app.js';
import { startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { freePort } from '../../src/testbed/ports.js';
import { stopAll } from '../../src/testbed/proc.js';
import { startSipp } from '../../src/testbed/sipp.js';
import { readJournal } from '../../src/store/event-journal.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { EXAMPLE, REPO, kioskConfigFile, postJson, startKioskProcess, type KioskProc } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';
import { DEMO_TOKEN } from '../hub/harness.js';
import { scenario } from '../intercom/helpers.js';
import { sleep, until } from './helpers.js';

const ARTIFACTS = path.join(REPO, 'test/artifacts');
const ZONE_KIOSKS = ['plat-1', 'plat-2'];
const ALL = [...ZONE_KIOSKS, 'conc-north'];
const users = Object.fromEntries(ALL.map((k) => [k, `sip-secret-${k}`]));

interface Running {
  proc: KioskProc;
  dir: string;
  file: string;
}
type Health = { configVersion: number; capabilities: Record<string, { state: string; detail?: string }> };

describe('facilities console in the browser: editor, diff, staged rollout, rollback, map, enrolment (real hub, real kiosks)', function () {
  this.timeout(600_000);
  let hub: Hub;
  let base: string;
  let a: Kamailio;
  let b: Kamailio;
  let browser: Browser;
  let page: Page;
  let api: ConsoleSession;
  let deskPort: number;
  const kiosks: Record<string, Running> = {};

  const health = async (id: string) => (await (await fetch(kiosks[id]!.proc.url + 'health')).json()) as Health;
  const registered = async (id: string) => (await health(id)).capabilities.intercom?.state === 'running';
  const registers = (k: Kamailio, user: string) => k.proc.output().split('\n').filter((l) => new RegExp(`REQ REGISTER .*fU=${user}`).test(l)).length;
  const events = (id: string) => {
    try {
      return readJournal(path.join(kiosks[id]!.dir, 'data')).events as { type: string; at: string; data: any }[];
    } catch {
      return [];
    }
  };
  const shot = async (name: string) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `facilities-${name}.png`), fullPage: true });
  };
  const login = async (p: Page, user: string) => {
    await p.goto(base + '/');
    await p.fill('input[name="user"]', user);
    await p.fill('input[name="password"]', `${user}-demo`);
    await Promise.all([p.waitForURL(base + '/'), p.click('button[type="submit"]')]);
  };
  const zoneLayer = () => api.json<{ version: number; state: string; current: boolean }[]>('/api/facilities/layers?scope=zone&target=platforms');
  const emergency = (ringTimeoutS: number) => ({ sip: { targets: { emergency: [{ uri: `sip:desk@127.0.0.1:${deskPort}`, ringTimeoutS, name: 'Platform desk' }] } } });
  const openEditor = async () => {
    await page.goto(base + '/facilities/editor');
    await page.waitForSelector('body[data-ready="1"]');
    await page.selectOption('#scope', 'zone');
    await page.selectOption('#target', 'platforms');
    await page.waitForSelector('[name="root[sip][targets][emergency][0][ringTimeoutS]"]');
  };
  /** How long the kiosk's next alarm rings the desk before it moves on (s). */
  const ringTime = async (id: string) => {
    // The desk keeps ringing for every attempt of the hunt (it starts again from the first desk), so the cancel below finds a ringing call to end.
    const desk = await startSipp({ scenario: scenario('desk-no-answer.xml'), port: deskPort, args: ['-m', '20'] });
    const from = events(id).length;
    await postJson(kiosks[id]!.proc.url + 'sim/press', { input: 'emergency', ms: 60 });
    const calls = () => events(id).slice(from).filter((e) => e.type === 'call.state');
    const first = await until(() => calls().find((e) => e.data.attempt === 1), 15_000, `${id} calls the desk`);
    // The alarm's first attempt ends with "no answer in N s" once the ring timeout is over.
    const gaveUp = await until(() => calls().find((e) => e.data.attempt === 1 && /^no answer/.test(e.data.reason ?? '')), 40_000, `${id} gives up on the desk`);
    // The alarm is re-sent to the desks until someone acknowledges it: end it with the cancel button (emergencyCancellable).
    await postJson(kiosks[id]!.proc.url + 'sim/press', { input: 'cancel', ms: 60 });
    await until(() => events(id).slice(from).some((e) => e.type === 'alarm.state' && e.data.state === 'reset'), 40_000, `${id}'s alarm reset`);
    await desk.stop();
    return (Date.parse(gaveUp.at) - Date.parse(first.at)) / 1000;
  };

  before(async () => {
    a = await startKamailio({ users });
    b = await startKamailio({ users });
    deskPort = await freePort();
    const port = await freePort();
    // Each kiosk process runs on its own file; the hub composes its layers over the same file.
    for (const id of ALL) {
      const c = kioskConfigFile(
        {
          hub: { url: `ws://127.0.0.1:${port}/kiosk`, token: DEMO_TOKEN(id), heartbeatS: 1, configHealthWindowS: 4 },
          // emergencyCancellable: the test ends each measured call with the cancel button
          sip: { emergencyCancellable: true, account: { user: id, password: users[id], domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${a.port}`, transport: 'udp' }] } },
        },
        id,
      );
      kiosks[id] = { proc: undefined as unknown as KioskProc, dir: c.dir, file: c.file };
    }
    const { config, dir } = loadHubConfig(path.join(EXAMPLE, 'hub.json'));
    config.dataDir = tmpDir('hp-fac-hub-');
    config.kiosks = config.kiosks
      .filter((k) => ALL.includes(k.id))
      .map((k) => ({ ...k, config: kiosks[k.id]!.file, tokenSha256: createHash('sha256').update(DEMO_TOKEN(k.id)).digest('hex') }));
    config.site.map = { ...config.site.map!, floorplan: path.join(EXAMPLE, 'floorplan.svg') };
    hub = new Hub({ config, configDir: dir, port, logDestination: pino.destination('/dev/null') });
    await hub.start();
    base = `http://127.0.0.1:${port}`;
    api = await consoleLogin(base, 'facilities', 'facilities-demo');
    // Kiosk processes one after the other (a loaded machine starts them slowly).
    for (const id of ALL) kiosks[id]!.proc = await startKioskProcess(kiosks[id]!.file);
    await until(async () => (await hub.fleet()).filter((k) => ALL.includes(k.id) && k.online).length === ALL.length, 30_000, 'kiosks online at the hub');
    for (const id of ALL) await until(() => registered(id), 20_000, `${id} registered`);
    // The zone's desks, as a layer the editor will change (version 1, pushed to both kiosks at once).
    const r = await api.post('/api/facilities/rollouts', { scope: 'zone', target: 'platforms', document: emergency(15), comment: 'platform desk', canary: null });
    assert.equal(r.status, 202, await r.text());
    await until(async () => (await Promise.all(ZONE_KIOSKS.map(health))).every((h) => h.configVersion > 0), 20_000, 'zone layer 1 on both kiosks');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (d) => void d.accept());
    await login(page, 'facilities');
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    await stopAll();
  });

  it('a dispatcher cannot open the editor (403); a facilities user can', async () => {
    const p = await browser.newPage();
    await login(p, 'dispatcher');
    const r = await p.goto(base + '/facilities/editor');
    assert.equal(r!.status(), 403);
    assert.equal((await p.goto(base + '/facilities'))!.status(), 200, 'the map is for everyone');
    await p.close();
    const ok = await page.goto(base + '/facilities/editor');
    assert.equal(ok!.status(), 200);
  });

  it('an invalid value is refused in the editor with its path; nothing is saved or pushed', async () => {
    const versions = (await zoneLayer()).length;
    const before = await Promise.all(ZONE_KIOSKS.map(health));
    await openEditor();
    await page.fill('[name="root[sip][targets][emergency][0][ringTimeoutS]"]', '400'); // the schema's maximum is 300
    await page.press('[name="root[sip][targets][emergency][0][ringTimeoutS]"]', 'Tab');
    await page.click('#check');
    await page.waitForSelector('#errors:not([hidden])');
    const text = await page.textContent('#errors');
    assert.match(text!, /\/sip\/targets\/emergency\/0\/ringTimeoutS: must be <= 300/);
    assert.match(text!, /nothing was saved or pushed/);
    assert.equal(await page.isVisible('#diff-view'), false, 'no diff, no push button');
    await shot('editor-invalid');
    // Even a request that skips the check is refused by the hub.
    const direct = await api.post('/api/facilities/rollouts', { scope: 'zone', target: 'platforms', document: emergency(400), canary: null });
    assert.equal(direct.status, 400);
    await sleep(1000);
    assert.equal((await zoneLayer()).length, versions, 'no version saved');
    assert.deepEqual((await Promise.all(ZONE_KIOSKS.map(health))).map((h) => h.configVersion), before.map((h) => h.configVersion), 'nothing pushed');
  });

  it('a facilities user changes the ring timeout of a zone, sees the diff, pushes; every kiosk of the zone acks and its next alarm uses it; the other zone is untouched', async () => {
    const other = (await health('conc-north')).configVersion;
    const before15 = await ringTime('plat-1');
    assert.ok(before15 > 12, `before the change the desk rings ${before15} s (15 s configured)`);
    await openEditor();
    await shot('editor');
    await page.fill('[name="root[sip][targets][emergency][0][ringTimeoutS]"]', '3');
    await page.press('[name="root[sip][targets][emergency][0][ringTimeoutS]"]', 'Tab');
    await page.fill('#comment', 'platform desk: give up after 3 s');
    await page.click('#check');
    await page.waitForSelector('#diff-view:not([hidden])');
    const row = page.locator('#diff-table tr[data-path="/sip/targets/emergency/0/ringTimeoutS"]');
    assert.equal(await row.locator('td.before').textContent(), '15');
    assert.equal(await row.locator('td.after').textContent(), '3');
    assert.match((await row.locator('td').nth(3).textContent())!, /^2: plat-1, plat-2/);
    await shot('diff');
    await page.check('input[name="stage"][value="percent"]');
    await page.fill('#percent', '50');
    await page.click('#push');
    await page.waitForSelector('#rollout .rollout[data-state="canary"], #rollout .rollout[data-state="rest"], #rollout .rollout[data-state="done"]');
    await shot('rollout-canary');
    await page.waitForSelector('#rollout .rollout[data-state="done"]', { timeout: 90_000 });
    await shot('rollout-done');
    const versions = await zoneLayer();
    const current = versions.find((v) => v.current)!;
    for (const id of ZONE_KIOSKS) {
      const applied = events(id).filter((e) => e.type === 'config.applied' && e.data.source === 'hub').at(-1)!;
      assert.deepEqual(applied.data.live, ['sip'], `${id} applied the change live`);
      assert.equal(kiosks[id]!.proc.proc.restarts, 0);
    }
    // The next alarm of each kiosk of the zone gives up on the desk after 3 s, not 15.
    for (const id of ZONE_KIOSKS) {
      const s = await ringTime(id);
      assert.ok(s >= 2.5 && s < 8, `${id}: the desk rang ${s} s (3 s configured)`);
    }
    assert.equal((await health('conc-north')).configVersion, other, 'the other zone did not receive anything');
    assert.ok(current.version >= 2);
  });

  it('a wrong registrar on the canary: the rollout stops, the canary rolls back by itself within its health window, the other kiosk never receives it, the console shows why', async () => {
    const plat2 = (await health('plat-2')).configVersion;
    const canaryBefore = (await health('plat-1')).configVersion;
    await openEditor();
    // The registrar is not in the zone layer yet: add it through the form's JSON view of the layer.
    await page.getByRole('button', { name: 'JSON' }).first().click();
    const ta = page.locator('#root-edit-json-textarea');
    const doc = JSON.parse(await ta.inputValue()) as { sip: Record<string, unknown> };
    const nowhere = await freePort();
    doc.sip.account = { registrars: [{ uri: `sip:127.0.0.1:${nowhere}`, transport: 'udp' }] };
    await ta.fill(JSON.stringify(doc));
    await page.getByRole('button', { name: 'Save' }).first().click();
    await page.fill('#comment', 'new registrar (wrong)');
    await page.click('#check');
    await page.waitForSelector('#diff-view:not([hidden])');
    await page.check('input[name="stage"][value="chosen"]');
    await page.fill('#chosen', 'plat-1');
    const t0 = Date.now();
    await page.click('#push');
    await page.waitForSelector('#rollout .rollout[data-state="failed"]', { timeout: 60_000 });
    const elapsed = (Date.now() - t0) / 1000;
    const reason = await page.textContent('#rollout .rollout .reason');
    assert.match(reason!, /plat-1 rolled back by itself/);
    assert.match(reason!, /sip-registration|SIP not registered/);
    await shot('rollout-failed');
    const rb = events('plat-1').find((e) => e.type === 'config.rollback' && e.data.version > canaryBefore);
    assert.ok(rb, 'the canary recorded its rollback');
    assert.ok(elapsed < 4 + 30, `stopped after ${elapsed} s (health window 4 s)`);
    await until(() => registered('plat-1'), 20_000, 'plat-1 registered again with the old registrar');
    await sleep(1500);
    assert.equal((await health('plat-2')).configVersion, plat2, 'plat-2 never received the change');
    assert.equal(events('plat-2').filter((e) => e.type === 'config.applied' && e.data.version > plat2).length, 0);
  });

  it('audio volume, the screen language default and the SIP registrar take effect without a restart, pushed from the console', async () => {
    const atB = registers(b, 'conc-north');
    const r = await api.post('/api/facilities/rollouts', {
      scope: 'kiosk',
      target: 'conc-north',
      document: { audio: { volume: 0.35 }, display: { defaultLanguage: 'en' }, sip: { account: { registrars: [{ uri: `sip:127.0.0.1:${b.port}`, transport: 'udp' }] } } },
      comment: 'volume, language, registrar',
    });
    assert.equal(r.status, 202, await r.clone().text());
    const ro = (await r.json()) as { id: string };
    const done = await until(async () => { const x = await api.json<{ state: string; reason: string }>(`/api/facilities/rollouts/${ro.id}`); return ['done', 'failed'].includes(x.state) && x; }, 60_000, 'rollout of conc-north');
    assert.equal(done.state, 'done', done.reason);
    const applied = events('conc-north').filter((e) => e.type === 'config.applied' && e.data.source === 'hub').at(-1)!;
    assert.deepEqual([...applied.data.live].sort(), ['audio', 'display', 'sip']);
    assert.deepEqual(applied.data.restart ?? [], []);
    assert.equal(kiosks['conc-north']!.proc.proc.restarts, 0, 'no restart');
    await until(() => registers(b, 'conc-north') > atB, 15_000, 'REGISTER at the new registrar');
    const eff = await api.json<{ document: { audio: { volume: number }; display: { defaultLanguage: string } }; sources: Record<string, string> }>('/api/facilities/kiosks/conc-north/effective');
    assert.equal(eff.document.audio.volume, 0.35);
    assert.equal(eff.sources['/display/defaultLanguage'], eff.sources['/audio/volume']);
    assert.match(eff.sources['/audio/volume']!, /^kiosk:conc-north@/);
  });

  it('rollback of the zone layer to version 1 from the editor gives exactly the effective config it had then', async () => {
    // Version 1 was the layer when the suite started; its effective config is recomputed the same way.
    const v1 = await api.json<{ document: unknown }>('/api/facilities/layers/zone/platforms?version=1');
    await openEditor();
    await page.locator('#history summary').click();
    await page.locator('#history button[data-rollback="1"]').click();
    await page.waitForSelector('#rollout .rollout[data-state="done"]', { timeout: 60_000 });
    const now = await api.json<{ version: number; document: unknown }>('/api/facilities/layers/zone/platforms');
    assert.deepEqual(now.document, v1.document);
    assert.ok(now.version > 1);
    for (const id of ZONE_KIOSKS) {
      const s = (await api.json<{ document: { sip: { targets: { emergency: { ringTimeoutS: number }[] } } } }>(`/api/facilities/kiosks/${id}/effective`)).document.sip.targets.emergency[0]!.ringTimeoutS;
      assert.equal(s, 15);
    }
  });

  it('the map shows every kiosk coloured by state, live: a fault turns it, revoke takes it out of the online fleet', async () => {
    await page.goto(base + '/facilities');
    await page.waitForSelector('body[data-ready="1"]');
    await page.waitForSelector('#live.on');
    for (const id of ALL) await page.waitForSelector(`#map g[data-kiosk="${id}"][data-state="online"]`);
    // The list's kiosk id links to the kiosk's history (alarms, calls, chat, who acted).
    assert.equal(await page.locator('#fleet tr[data-kiosk="conc-north"] td:first-child a').getAttribute('href'), '/desk/kiosks/conc-north/history');
    await shot('map');
    // filter by zone
    await page.selectOption('#zone', 'platforms');
    assert.equal(await page.isVisible('#map g[data-kiosk="conc-north"]'), false);
    assert.equal(await page.locator('#fleet tbody tr').count(), 2);
    await page.selectOption('#zone', '');
    // A fault: the registrars go away; each kiosk's OPTIONS probe notices, and the sip-registration fault turns its marker.
    const t0 = Date.now();
    await a.proc.stop();
    await b.proc.stop();
    await page.waitForSelector('#map g[data-kiosk="conc-north"][data-state="fault"]', { timeout: 30_000 });
    console.log(`      registrar stopped -> fault on the map: ${Date.now() - t0} ms (includes the kiosk noticing: OPTIONS probe + 2 s grace)`);
    await shot('map-fault');
    // revoke conc-north from the list
    const r0 = Date.now();
    await page.locator('#fleet tr[data-kiosk="conc-north"] button[data-act="revoke"]').click();
    await page.waitForSelector('#map g[data-kiosk="conc-north"][data-state="revoked"]', { timeout: 5000 });
    console.log(`      revoke -> map: ${Date.now() - r0} ms`);
    const fleet = await hub.fleet();
    assert.equal(fleet.find((k) => k.id === 'conc-north')!.online, false);
  });

  it('restart from the list: the page says the kiosk is restarting; it exits, is started again and comes back online', async () => {
    await page.goto(base + '/facilities');
    await page.waitForSelector('body[data-ready="1"]');
    await page.waitForSelector('#map g[data-kiosk="plat-2"]');
    const said: string[] = [];
    const onDialog = (d: { type(): string; message(): string }) => void (d.type() === 'alert' && said.push(d.message()));
    page.on('dialog', onDialog);
    const proc = kiosks['plat-2']!.proc.proc;
    const readies = () => (proc.output().match(/"msg":"ready"/g) ?? []).length;
    const before = readies();
    await page.locator('#fleet tr[data-kiosk="plat-2"] button[data-act="restart"]').click();
    await until(() => said.length > 0, 10_000, 'the page answers');
    page.off('dialog', onDialog);
    assert.deepEqual(said, ['plat-2 is restarting.']);
    await until(() => readies() > before, 30_000, 'plat-2 started again');
    await until(async () => (await hub.fleet()).find((k) => k.id === 'plat-2')!.online, 30_000, 'plat-2 online again');
    assert.ok(events('plat-2').some((e) => e.type === 'kiosk.restart' && e.data.by === 'hub:facilities'));
  });
});
