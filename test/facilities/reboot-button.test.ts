// The reboot button of the facilities console's kiosk list, in headless
// Chromium against a real hub and a real kiosk process whose
// system.rebootCommand is a script that records its call and writes the boot
// id the board will have next (HELPPOINT_BOOT_ID_FILE, for tests only). The
// page asks for confirmation (declined: nothing is sent), says the kiosk is
// rebooting, and its list follows live: rebooting, then "rebooted at ..."
// once the kiosk is back on another boot id, or "not back" after the hub's
// rebootTimeoutS.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { stopAll } from '../../src/testbed/proc.js';
import { exampleHub, kioskConfigFile, startKioskProcess, type KioskProc } from '../helpers/processes.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { DEMO_TOKEN } from '../hub/harness.js';

const SCRIPT = `
import { appendFileSync, writeFileSync } from 'node:fs';
const [calls, bootFile] = process.argv.slice(2);
appendFileSync(calls, 'reboot\\n');
writeFileSync(bootFile, 'boot-' + Date.now() + '\\n');
`;
const TIMEOUT_S = 5;

describe('facilities console: reboot a kiosk board from the list (browser, real hub and kiosk)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let page: Page;
  let base: string;
  let kiosk: KioskProc;
  let file: string;
  let env: NodeJS.ProcessEnv;
  let calls: string;
  const said: string[] = [];
  let confirmAnswer = true;
  const row = () => page.locator('#fleet tr[data-kiosk="conc-north"]');
  const callsMade = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);

  before(async () => {
    const hub = await exampleHub({ rebootTimeoutS: TIMEOUT_S });
    await hub.start();
    base = hub.base;
    const dir = tmpDir('hp-reboot-ui-');
    const script = path.join(dir, 'reboot.mjs');
    writeFileSync(script, SCRIPT);
    calls = path.join(dir, 'calls');
    const bootFile = path.join(dir, 'boot_id');
    writeFileSync(bootFile, 'boot-first\n');
    env = { HELPPOINT_BOOT_ID_FILE: bootFile };
    ({ file } = kioskConfigFile({
      hub: { url: `ws://127.0.0.1:${hub.port}/kiosk`, token: DEMO_TOKEN('conc-north'), heartbeatS: 1 },
      system: { rebootCommand: [process.execPath, script, calls, bootFile] },
    }));
    kiosk = await startKioskProcess(file, env);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (d) => {
      if (d.type() === 'alert') said.push(d.message());
      void (d.type() === 'confirm' && !confirmAnswer ? d.dismiss() : d.accept());
    });
    await page.goto(base + '/');
    await page.fill('input[name="user"]', 'facilities');
    await page.fill('input[name="password"]', 'facilities-demo');
    await Promise.all([page.waitForURL(base + '/'), page.click('button[type="submit"]')]);
    await page.goto(base + '/facilities');
    await page.waitForSelector('body[data-ready="1"]');
    await page.waitForSelector('#live.on');
    await page.waitForSelector('#fleet tr[data-kiosk="conc-north"][data-state="online"] button[data-act="reboot"]', { timeout: 20_000 });
  });

  after(async () => {
    await browser?.close();
    await stopAll();
  });

  it('declined at the confirmation: nothing is sent', async () => {
    confirmAnswer = false;
    await row().locator('button[data-act="reboot"]').click();
    await sleep(1000);
    confirmAnswer = true;
    assert.deepEqual(said, []);
    assert.deepEqual(callsMade(), []);
    assert.equal(await row().locator('small.reboot').count(), 0);
  });

  it('confirmed: the page says the kiosk is rebooting, then "rebooted at" once it is back on another boot id', async () => {
    // the hub knows the kiosk's boot id after its first heartbeat
    await sleep(1500);
    await row().locator('button[data-act="reboot"]').click();
    await until(() => said.length > 0, 10_000, 'the page answers');
    assert.deepEqual(said, ['conc-north is rebooting.']);
    assert.deepEqual(callsMade(), ['reboot']);
    await page.waitForSelector('#fleet tr[data-kiosk="conc-north"] small.reboot[data-reboot="rebooting"]', { timeout: 10_000 });
    assert.match((await row().locator('small.reboot').textContent())!, /^rebooting since /);
    // the board comes back: the kiosk process starts again on the new boot id
    await kiosk.stop();
    kiosk = await startKioskProcess(file, env);
    await page.waitForSelector('#fleet tr[data-kiosk="conc-north"] small.reboot[data-reboot="back"]', { timeout: 20_000 });
    assert.match((await row().locator('small.reboot').textContent())!, /^rebooted at /);
  });

  it('a board that does not come back shows "not back" after the timeout', async () => {
    said.length = 0;
    await row().locator('button[data-act="reboot"]').click();
    await until(() => said.length > 0, 10_000, 'the page answers');
    assert.deepEqual(said, ['conc-north is rebooting.']);
    await page.waitForSelector('#fleet tr[data-kiosk="conc-north"] small.reboot[data-reboot="not-back"]', { timeout: (TIMEOUT_S + 10) * 1000 });
    assert.match((await row().locator('small.reboot').textContent())!, new RegExp(`^not back within ${TIMEOUT_S} s \\(asked at `));
  });
});
