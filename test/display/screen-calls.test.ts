/// <reference lib="dom" />
// The screen with the real SIP engine: a call chosen on the screen reaches a
// sipp desk with its category, and a browser that dies mid-call changes
// nothing for the call.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { launchChromium, openScreen } from './helpers.js';
import { callRig, desk, targets } from '../intercom/helpers.js';
import { stopAll } from '../../src/testbed/proc.js';

function sippMessages(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('_messages.log'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
}

describe('touch screen with the SIP engine (kiosk process, sipp desk, headless Chromium)', function () {
  this.timeout(60_000);
  afterEach(() => stopAll());

  it('Information -> medical on the screen: the desk receives an INVITE with category medical, and the screen follows the call', async () => {
    const d = await desk('desk-answer-bye.xml');
    const rig = await callRig(targets([{ uri: d.uri }]));
    const browser = await launchChromium();
    try {
      const page = await openScreen(browser, rig.kiosk.url);
      await page.click('#btn-information');
      await page.click('#cat-medical');
      await page.waitForFunction(() => document.getElementById('call-state')?.dataset.state === 'connected', undefined, { timeout: 10_000 });
      await rig.waitState('ended', 10_000);
      assert.equal(await d.proc.exited, 0);
      assert.match(sippMessages(d.dir), /INVITE sip:desk[\s\S]*X-Helppoint-Category: medical/);
      assert.deepEqual(rig.states(), ['calling', 'ringing', 'connected', 'ended(hung up)']);
    } finally {
      await browser.close();
    }
  });

  it('killing the browser during a call changes nothing for the call', async () => {
    const d = await desk('desk-answer-bye.xml');
    const rig = await callRig(targets([{ uri: d.uri }]));
    const browser = await launchChromium();
    const page = await openScreen(browser, rig.kiosk.url);
    await page.click('#btn-emergency');
    await rig.waitState('connected', 10_000);
    // The browser is a child of this test process: kill it the hard way, as a crash would.
    const pids = execFileSync('pgrep', ['-P', String(process.pid), 'chrom'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    assert.ok(pids.length > 0, 'browser process found');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await rig.waitState('ended', 10_000);
    assert.equal(await d.proc.exited, 0, 'the desk saw a complete call');
    // The desk hung up without acknowledging: the alarm goes on (re-sent); the first call was complete.
    const calls = rig.events().filter((e) => e.type === 'call.state');
    const first = calls.filter((e) => e.data.callId === calls[0]!.data.callId).map((e) => e.data.state + (e.data.reason ? `(${e.data.reason})` : ''));
    assert.deepEqual(first, ['calling', 'ringing', 'connected', 'ended(hung up)']);
    assert.equal(rig.kiosk.proc.child.exitCode, null);
    await browser.close().catch(() => {});
  });
});
