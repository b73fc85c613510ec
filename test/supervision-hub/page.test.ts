// The supervision report page in headless Chromium: faults as the hub sees
// them (a never-connected kiosk shows hub-link), each kiosk's last test with
// its steps, and the availability table for the chosen days.
import { strict as assert } from 'node:assert';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHub, type TestHub } from '../hub/harness.js';

describe('supervision at the hub: the report page', function () {
  this.timeout(60_000);
  let t: TestHub;
  let browser: Browser;
  let page: Page;

  before(async () => {
    t = await startHub();
    const at = new Date().toISOString();
    await t.hub.storage.supervision.insertTests([
      { testId: 'plat-1-t-zz-0001', kiosk: 'plat-1', trigger: 'schedule', startedAt: at, at, passed: false, failedStep: 'audio-in', steps: [{ step: 'registered', ok: true, ms: 1, detail: '' }, { step: 'audio-in', ok: false, ms: 4000, detail: 'no tone' }], intervalS: 259200, graceS: 3600, next: null },
    ]);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    page = await browser.newPage();
    await page.goto(t.base + '/');
    await page.fill('input[name="user"]', 'facilities');
    await page.fill('input[name="password"]', 'facilities-demo');
    await Promise.all([page.waitForURL(t.base + '/'), page.click('button[type="submit"]')]);
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows faults, last tests and availability', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(t.base + '/supervision');
    await page.waitForSelector('#faults tr[data-code="hub-link"][data-kiosk="plat-1"]');
    const row = page.locator('#tests tr[data-kiosk="plat-1"]');
    await row.waitFor();
    assert.match(await row.innerText(), /failed: audio-in/);
    assert.match(await row.innerText(), /✗ audio-in/);
    await page.waitForSelector('#availability tr');
    assert.match(await page.locator('#availability').innerText(), /all kiosks/);
    assert.match((await page.locator('#csv').getAttribute('href')) ?? '', /format=csv/);
    assert.deepEqual(errors, []);
  });
});
