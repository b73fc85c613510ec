// The desk page in headless Chromium against a real hub process, a real kiosk
// process (sim driver, registered with Kamailio, linked to the hub) and
// rtpengine bridging the browser's WebRTC to the kiosk's RTP. A dispatcher
// logs in, opens /desk, sees the press as a row, answers with the browser
// phone, acknowledges on the call (SIP INFO), hangs up, opens the door,
// chats with the caller's screen and resets the alarm through the hub.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { stopAll, type Managed } from '../../src/testbed/proc.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { makeTone } from '../intercom/sox.js';
import { alarmRig, type AlarmRig } from '../alarm/helpers.js';
import { DEMO_TOKEN } from '../hub/harness.js';
import { launchDeskBrowser, startMediaBed, type MediaBed } from './helpers.js';
import { DESK_SECTION, openBoard, startHubProcess } from './hub-bed.js';

const USERS = { 'conc-north': 'kiosk-secret', desk: 'desk-secret', desk2: 'desk2-secret' };

describe('desk page: board, answer, acknowledge, door, chat (Chromium, hub, kiosk, Kamailio, rtpengine)', function () {
  this.timeout(120_000);
  let bed: MediaBed;
  let hub: Managed;
  let base: string;
  let browser: Browser;
  let rig: AlarmRig;
  let dir: string;

  before(async () => {
    dir = tmpDir('hp-board-');
    const browserWav = makeTone(path.join(dir, 'desk-1k.wav'), 1000, 10, 48000, 0.3);
    const kioskWav = makeTone(path.join(dir, 'kiosk-600.wav'), 600, 60, 8000, 0.3);
    bed = await startMediaBed(USERS);
    ({ hub, base } = await startHubProcess(DESK_SECTION(bed.wsUrl)));
    const desk = [{ uri: 'sip:desk@127.0.0.1', ringTimeoutS: 30 }];
    rig = await alarmRig({
      hub: { url: `ws://127.0.0.1:${new URL(base).port}/kiosk`, token: DEMO_TOKEN('conc-north'), heartbeatS: 1 },
      sip: {
        account: { user: 'conc-north', password: USERS['conc-north'], domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${bed.kamailio.port}`, transport: 'udp' }] },
        targets: { emergency: desk, information: desk },
      },
      // Hands-free processing off, as in test/desk/browser-kiosk.test.ts (steady tones and double talk).
      audio: { input: { source: 'file', file: kioskWav }, output: { sink: 'file', file: path.join(dir, 'kiosk-out.raw'), rate: 16000 }, volume: 1, handsFree: { mode: 'off' } },
    });
    await hub.waitFor(/kiosk online/, 10_000);
    await until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 15_000, 'kiosk registered');
    browser = await launchDeskBrowser(browserWav);
  });
  after(async () => {
    await browser?.close();
    await stopAll();
    await bed?.stop();
  });

  it('a press appears on the board; the dispatcher answers, hears the kiosk, acknowledges in the call, hangs up, opens the door, chats, and resets', async () => {
    const page = await openBoard(browser, base);
    await rig.press('emergency');
    const raised = await rig.waitAlarm((a) => a.state === 'calling', 'calling');
    const row = page.locator(`#board tr[data-ref="${raised.alarmId}"]`);
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.locator('td.kiosk').textContent(), 'conc-north');
    assert.equal(await row.locator('td.location').textContent(), 'Concourse, north entrance');
    assert.equal(await row.locator('td.zone').textContent(), 'concourse');

    // The kiosk rings this desk: Answer becomes possible, then the call is up.
    const answer = row.locator('button[data-act=answer]');
    await page.waitForFunction((ref) => !(document.querySelector(`#board tr[data-ref="${ref}"] button[data-act=answer]`) as HTMLButtonElement | null)?.disabled, raised.alarmId, { timeout: 15_000 });
    await answer.click();
    await rig.waitAlarm((a) => a.state === 'talking', 'talking');
    await page.waitForFunction(() => (window as any).board.S.phone.list().some((c: any) => c.state === 'established'), undefined, { timeout: 10_000 });
    // The dispatcher hears the kiosk's microphone (600 Hz) in the page.
    const levels = await page.evaluate(async () => {
      const phone = (window as any).board.S.phone;
      const call = phone.list().find((c: any) => c.state === 'established');
      const meter = await phone.meter(call.id, 'remote');
      const out = [];
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 600));
        out.push(meter.level());
      }
      meter.close();
      return out as { rms: number; frequencyHz: number }[];
    });
    // Above silence (about -90 dBFS here) by a wide margin, at the right frequency. Not the level: the
    // page hears the kiosk's tone 10 to 25 dB below what the kiosk sends, varying from one 0.6 s window
    // to the next, while a baresip desk hears it at full level (test/intercom/g722-baresip.test.ts with
    // hands-free off): a known defect of the browser path (rtpengine or the browser's receive side), not
    // yet found.
    const loud = levels.filter((l) => l.rms > 0.005);
    assert.ok(loud.length >= 3, `the page hears nothing: ${JSON.stringify(levels)}`);
    for (const l of loud) assert.ok(Math.abs(l.frequencyHz - 600) / 600 <= 0.05, `heard ${l.frequencyHz} Hz`);
    // Another dispatcher's view: the row says who has it.
    await until(async () => /dispatcher \(desk\)/.test((await row.locator('td.claim').textContent()) ?? ''), 5000, 'the claim on the row');

    // Acknowledge while talking: in-band, on the alarm's own call.
    await row.locator('button[data-act=ack]').click();
    const ack = await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    assert.equal(ack.by, 'info');
    await page.waitForFunction((ref) => document.querySelector(`#board tr[data-ref="${ref}"]`)?.getAttribute('data-state') === 'acknowledged', raised.alarmId, { timeout: 10_000 });

    // Hang up: the kiosk does not call again; its lamps say the alarm is registered.
    await row.locator('button[data-act=hangup]').click();
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.callId === ack.callId && e.data.state === 'ended'), 10_000, 'call ended');
    await sleep(1500);
    assert.equal(rig.alarm().at(-1)!.state, 'acknowledged', rig.trail().join(', '));
    assert.equal((await rig.lamps()).yellow, true);

    // Open door from the board: the kiosk's door relay pulses.
    await row.locator('button[data-act=door]').click();
    await until(() => rig.events().find((e) => e.type === 'relay.pulse' && e.data.source === 'hub'), 10_000, 'door relay pulse');

    // Chat: the caller types on the screen (in Chinese); the board shows it; a quick reply goes back in Chinese.
    const ws = new WebSocket(rig.kiosk.url.replace('http', 'ws') + 'screen/ws');
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    ws.send(JSON.stringify({ type: 'language', lang: 'zh-CN' }));
    ws.send(JSON.stringify({ type: 'chat', text: '有人受伤了', lang: 'zh-CN' }));
    await page.locator('#chat-log li.caller', { hasText: '有人受伤了' }).waitFor({ timeout: 10_000 });
    await page.locator('#quick button[data-reply=coming]').click();
    const shown = await until(() => rig.events().find((e) => e.type === 'chat.fromDesk'), 10_000, 'the reply at the kiosk');
    assert.equal(shown.data.text, '救援人员正在赶来，请留在原地。');
    await page.locator('#chat-log li.desk', { hasText: '救援人员正在赶来' }).waitFor({ timeout: 10_000 });
    ws.close();

    // Reset (no call now): through the hub, by the logged-in dispatcher; the row leaves the board.
    await row.locator('button[data-act=reset]').click();
    assert.equal((await rig.waitAlarm((a) => a.state === 'reset', 'reset')).by, 'hub:dispatcher');
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    // Logging out lets go of the desk: the next dispatcher's page takes it.
    await Promise.all([page.waitForURL(base + '/'), page.click('header form button[type=submit]')]);
    await page.context().close();
  });

  it('hung up without acknowledging: the alarm comes back to the board and rings this desk again; Reset ends it', async () => {
    const page = await openBoard(browser, base);
    const calls = () => rig.alarm().filter((a) => a.state === 'calling').length;
    const before = calls();
    await rig.press('emergency');
    const raised = await until(() => rig.alarm().filter((a) => a.state === 'calling')[before], 10_000, 'the new alarm calling');
    const row = page.locator(`#board tr[data-ref="${raised.alarmId}"]`);
    const answerable = () =>
      page.waitForFunction((ref) => !(document.querySelector(`#board tr[data-ref="${ref}"] button[data-act=answer]`) as HTMLButtonElement | null)?.disabled, raised.alarmId, { timeout: 20_000 });
    await answerable();
    await row.locator('button[data-act=answer]').click();
    await rig.waitAlarm((a) => a.alarmId === raised.alarmId && a.state === 'talking', 'talking');
    await row.locator('button[data-act=hangup]').click();
    // The kiosk calls again (the alarm is not acknowledged); the row is free and rings here again.
    await until(() => rig.alarm().filter((a) => a.alarmId === raised.alarmId && a.state === 'calling').length >= 2, 15_000, 'the alarm calling again');
    await page.waitForFunction((ref) => document.querySelector(`#board tr[data-ref="${ref}"] td.claim`)?.textContent === '', raised.alarmId, { timeout: 10_000 });
    await answerable();
    assert.notEqual(await row.getAttribute('data-state'), 'acknowledged');
    // Reset from the board while it rings (no call up: through the hub).
    await row.locator('button[data-act=reset]').click();
    assert.equal((await rig.waitAlarm((a) => a.alarmId === raised.alarmId && a.state === 'reset', 'reset')).by, 'hub:dispatcher');
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    await page.context().close();
  });
});
