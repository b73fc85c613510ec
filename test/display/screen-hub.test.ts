/// <reference lib="dom" />
// The screen with a real hub: the desk's ETA and chat arrive through the hub
// and show on the screen, the caller's typed reply reaches the hub, and an
// evacuation declared through the hub shows the route to the nearest
// unblocked exit within 1 s (then the next one when that exit is blocked).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, stopAll } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { readMerged } from '../../src/config/load.js';
import { CLI, EXAMPLE, REPO, startKioskProcess } from '../helpers/processes.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { launchChromium, openScreen, screenConfig } from './helpers.js';
import { consoleLogin } from '../helpers/console.js';

describe('touch screen through the hub (hub and kiosk processes, headless Chromium)', function () {
  this.timeout(60_000);
  after(() => stopAll());

  it('shows ETA and chat from the hub, sends the reply to the hub, and follows an evacuation declared at the hub', async () => {
    const m = readMerged(path.join(EXAMPLE, 'hub.json'));
    assert.ok(m.ok);
    const port = await freePort();
    const dir = tmpDir('hp-hub-');
    const hubFile = path.join(dir, 'hub.json');
    writeFileSync(hubFile, JSON.stringify({ ...(m.value as object), $schema: 'hub.schema.json', listen: { host: '127.0.0.1', port }, dataDir: path.join(dir, 'data') }));
    const hub = start('hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', hubFile], { cwd: REPO });
    await hub.waitFor(/"msg":"ready"/, 60_000);
    const base = `http://127.0.0.1:${port}`;
    const kiosk = await startKioskProcess(screenConfig({ log: { level: 'info' }, hub: { url: `ws://127.0.0.1:${port}/kiosk`, token: 'demo-token-conc-north-change-me', heartbeatS: 1 } }).file);
    await hub.waitFor(/kiosk online/, 10_000);
    const dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const command = async (command: string, args: unknown) => {
      const r = await dispatcher.post('/api/commands', { kiosks: ['conc-north'], command, args });
      assert.equal(r.status, 202);
    };

    const browser = await launchChromium();
    try {
      const page = await openScreen(browser, kiosk.url);
      // A call in progress (to no desk: it keeps "calling"), then the desk's messages through the hub.
      await page.click('#btn-emergency');
      await page.waitForFunction(() => !!document.getElementById('call-state')?.dataset.state);
      await command('desk.info', { etaMin: 4, responder: 'Li Wei' });
      await command('chat', { text: 'Stay where you are, help is coming' });
      await page.getByText('Stay where you are, help is coming').waitFor({ timeout: 5000 });
      await page.waitForFunction(() => /Li Wei/.test(document.getElementById('desk-responder')?.textContent ?? ''), undefined, { timeout: 5000 });
      await page.fill('#chat-input', 'I cannot speak');
      await page.click('#chat-send');
      const reply = await until(
        async () => (await dispatcher.json<{ type: string; data: { text: string } }[]>('/api/events?kiosk=conc-north')).find((e) => e.type === 'chat.toDesk'),
        10_000,
        'the reply at the hub',
      );
      assert.equal(reply.data.text, 'I cannot speak');

      // Evacuation declared through the hub.
      const t0 = Date.now();
      await command('incident.mode', { active: true, kind: 'evacuation', text: { en: 'Please leave by the nearest exit.' }, blockedExits: [] });
      await page.waitForFunction(() => document.getElementById('incident-follow')?.dataset.exit === 'exit-north', undefined, { timeout: 1000 });
      assert.ok(Date.now() - t0 < 1000, `evacuation route after ${Date.now() - t0} ms`);
      await command('incident.mode', { active: true, kind: 'evacuation', text: { en: 'Please leave by the nearest exit.' }, blockedExits: ['exit-north'] });
      await page.waitForFunction(() => document.getElementById('incident-follow')?.dataset.exit === 'exit-west', undefined, { timeout: 1000 });
    } finally {
      await browser.close();
    }
  });
});
