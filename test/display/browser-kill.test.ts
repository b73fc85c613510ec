// The browser is only a viewer: SIGKILL of Chromium (the real process tree)
// must leave the real kiosk process, its buttons and local server untouched,
// and a new browser must get the screen back at once.
// Call continuity across the kill (sipp desk, call ends normally) needs the SIP
// engine from its own branch; this test covers the kiosk side until then.
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { screenConfig } from './helpers.js';
import { startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { sleep } from '../helpers/tmp.js';
import { freePort } from '../../src/testbed/ports.js';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('touch screen: killing the browser (real kiosk process)', function () {
  this.timeout(60_000);
  let kiosk: KioskProc | undefined;
  after(async () => { await kiosk?.stop(); });

  it('SIGKILL of Chromium while the emergency button is held changes nothing for the kiosk', async () => {
    // The desk is a port nobody listens on: the emergency call started by the held button stays "calling".
    const nowhere = `sip:desk@127.0.0.1:${await freePort()}`;
    kiosk = await startKioskProcess(screenConfig({ log: { level: 'info' }, sip: { targets: { emergency: [{ uri: nowhere }], information: [{ uri: nowhere }] } } }).file);
    const server = await chromium.launchServer({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
    const browser = await chromium.connect(server.wsEndpoint());
    const page = await browser.newPage();
    await page.goto(kiosk.url);
    await page.waitForFunction("document.getElementById('site').textContent !== ''");

    const press = await postJson(`${kiosk.url}sim/press`, { input: 'emergency', ms: 1500 });
    assert.equal(press.status, 200);
    const pid = server.process().pid!;
    process.kill(pid, 'SIGKILL');
    await sleep(300);
    assert.throws(() => process.kill(pid, 0), 'browser is gone');

    // The kiosk keeps answering and its button path keeps working.
    assert.equal(kiosk.proc.child.exitCode, null, 'kiosk process still running');
    const health = await fetch(`${kiosk.url}health`);
    assert.equal(health.status, 200);
    assert.equal((await postJson(`${kiosk.url}sim/press`, { input: 'information', ms: 50 })).status, 200);
    await sleep(1600);
    const state = (await (await fetch(`${kiosk.url}sim/state`)).json()) as { inputs: Record<string, boolean> };
    assert.equal(state.inputs.emergency, false, 'held press released on time while no browser ran');

    // A restarted browser shows the screen again.
    const b2 = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
    const p2 = await b2.newPage();
    await p2.goto(kiosk.url);
    await p2.waitForFunction("document.getElementById('site').textContent !== ''");
    // ...including the emergency call the held button started while no browser ran.
    await p2.waitForFunction("['calling', 'ringing'].includes(document.getElementById('call-state')?.dataset.state ?? '')");
    await b2.close();
  });
});
