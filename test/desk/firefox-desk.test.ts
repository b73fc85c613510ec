// The desk page in Firefox (Debian's firefox-esr, headless, over WebDriver BiDi)
// against a real hub process, a real kiosk process (sim driver, registered with
// Kamailio, linked to the hub) and rtpengine bridging the browser's WebRTC to the
// kiosk's RTP: a dispatcher logs in, the browser phone registers, a press rings
// the page, Answer, each side hears the other, hang up. Chromium does the same
// and more in board-page.test.ts and browser-kiosk.test.ts.
import { strict as assert } from 'node:assert';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { stopAll } from '../../src/testbed/proc.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { makeTone, soxStat } from '../intercom/sox.js';
import type { AlarmRig } from '../alarm/helpers.js';
import { rtpengineLegs, startMediaBed, type MediaBed } from './helpers.js';
import { DESK_SECTION, deskKiosk, startHubProcess } from './hub-bed.js';
import { launchFirefox, openBoardFirefox, startPulse, type Pulse } from './firefox.js';

/** Clicks the element `sel` matches now, inside the page (one step: no handle that a re-render can detach). */
async function clickIn(page: Page, sel: string): Promise<void> {
  const found = await page.$eval(sel, (e) => {
    (e as HTMLButtonElement).click();
    return true;
  });
  assert.ok(found);
}

const USERS = { 'conc-north': 'kiosk-secret', desk: 'desk-secret', desk2: 'desk2-secret' };
/** Firefox's fake microphone: a 1 kHz sine */
const FIREFOX_TONE_HZ = 1000;
const KIOSK_TONE_HZ = 600;
const KIOSK_RATE = 16000;
/** the kiosk's microphone WAV: a sine at 0.3 of full scale */
const KIOSK_RMS = 0.3 / Math.SQRT2;

describe('desk page in Firefox: log in, ring, answer, two-way audio, hang up (firefox-esr, hub, kiosk, Kamailio, rtpengine)', function () {
  this.timeout(120_000);
  let bed: MediaBed;
  let base: string;
  let pulse: Pulse;
  let browser: Browser | undefined;
  let rig: AlarmRig;
  let dir: string;
  let capture: string;

  before(async () => {
    dir = tmpDir('hp-firefox-');
    capture = path.join(dir, 'kiosk-out.raw');
    const kioskWav = makeTone(path.join(dir, 'kiosk-600.wav'), KIOSK_TONE_HZ, 60, 8000, 0.3);
    pulse = await startPulse();
    const browserUp = launchFirefox(pulse);
    bed = await startMediaBed(USERS);
    ({ base } = await startHubProcess(DESK_SECTION(bed.wsUrl)));
    const desk = [{ uri: 'sip:desk@127.0.0.1', ringTimeoutS: 30 }];
    rig = await deskKiosk({ base, kamailioPort: bed.kamailio.port, password: USERS['conc-north'], hunt: desk, micWav: kioskWav, capture, rate: KIOSK_RATE });
    await until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 15_000, 'kiosk registered');
    browser = await browserUp;
  });
  after(async () => {
    await browser?.close();
    await stopAll();
    await bed?.stop();
    await pulse?.stop();
  });

  it('a dispatcher logs in on /desk, a press rings the page, Answer: the kiosk hears the fake microphone and the page hears the kiosk; hang up', async () => {
    const page = await openBoardFirefox(browser!, base);
    await rig.press('emergency');
    const raised = await rig.waitAlarm((a) => a.state === 'calling', 'calling');
    const rowSel = `#board tr[data-ref="${raised.alarmId}"]`;
    await page.waitForSelector(rowSel, { timeout: 10_000 });
    assert.equal(await page.$eval(`${rowSel} td.kiosk`, (e) => e.textContent), 'conc-north');

    // The kiosk rings this desk: Answer becomes possible, then the call is up.
    await page.waitForFunction((sel) => (document.querySelector(`${sel} button[data-act=answer]`) as HTMLButtonElement | null)?.disabled === false, { timeout: 15_000, polling: 50 }, rowSel);
    // Clicked inside the page in one step: the board re-renders its rows on every update, and puppeteer's click
    // (find, scroll into view, click) once met a row replaced between its steps ("Node is detached from document").
    await clickIn(page, `${rowSel} button[data-act=answer]`);
    const talking = await rig.waitAlarm((a) => a.state === 'talking', 'talking');
    await page.waitForFunction(() => (window as any).board.S.phone.list().some((c: any) => c.state === 'established'), { timeout: 10_000, polling: 50 });
    const from = statSync(capture).size;

    const callInfo = () =>
      page.evaluate(async () => {
        const phone = (window as any).board.S.phone;
        const call = phone.list().find((c: any) => c.state === 'established');
        return { id: call.id as string, sipCallId: call.sipCallId as string, stats: await phone.stats(call.id), at: performance.now() };
      });
    // Device choice mid-call, as a dispatcher would: Firefox's fake microphone again, the default
    // speaker by the name Chromium uses for it, then the one output Firefox lists (the null sink).
    const devices = await page.evaluate(async () => {
      const phone = (window as any).board.S.phone;
      const d = await phone.devices();
      await phone.setMicrophone(d.microphones[0].deviceId);
      await phone.setSpeaker('default');
      await phone.setSpeaker(d.speakers[0].deviceId);
      return { microphones: d.microphones.length, speakers: d.speakers.length };
    });
    assert.ok(devices.microphones >= 1 && devices.speakers >= 1, JSON.stringify(devices));

    // The dispatcher hears the kiosk's microphone (600 Hz), measured in the page on the received stream.
    const first = await until(
      async () => {
        const c = await callInfo();
        return c.stats && c.stats.packetsReceived > 0 ? c : undefined;
      },
      5000,
      'the page receiving audio',
    );
    const { levels, state } = await page.evaluate(async (id) => {
      const meter = await (window as any).board.S.phone.meter(id, 'remote');
      // The meter's AudioContext resumes asynchronously (slowly on a loaded machine): the windows start once it runs.
      for (let i = 0; i < 100 && meter.ctx.state !== 'running'; i++) await new Promise((r) => setTimeout(r, 50));
      const out = [];
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 700));
        out.push(meter.level());
      }
      meter.close();
      return { levels: out as { rms: number; dbfs: number; frequencyHz: number }[], state: meter.ctx.state as string };
    }, first.id);
    // Without an audio output (no sound server) Firefox's AudioContext stays suspended and hears nothing.
    assert.equal(state, 'running', 'the page has no running audio output');
    // The first window may reach back before the audio started; every later one is above silence
    // (about -90 dBFS here) at the kiosk's frequency.
    for (const l of levels.slice(1)) assert.ok(l.rms > 0.005, `the page hears nothing: ${JSON.stringify(levels)}`);
    for (const l of levels.filter((l) => l.rms > 0.005)) assert.ok(Math.abs(l.frequencyHz - KIOSK_TONE_HZ) / KIOSK_TONE_HZ <= 0.05, `heard ${l.frequencyHz} Hz: ${JSON.stringify(levels)}`);
    // and at the level the kiosk sends (hands-free off, volume 1: the WAV's own level), as in Chromium.
    const loudest = Math.max(...levels.map((l) => l.rms));
    assert.ok(Math.abs(20 * Math.log10(loudest / KIOSK_RMS)) <= 3, `the page hears the kiosk at ${(20 * Math.log10(loudest)).toFixed(1)} dBFS: ${JSON.stringify(levels)}`);
    // Firefox plays what it receives in real time (the null sink is clocked like a sound card).
    const later = await callInfo();
    assert.ok(later.stats.packetsReceived > 50, JSON.stringify(later.stats));
    const rate = (later.stats.totalSamplesDuration - first.stats.totalSamplesDuration) / ((later.at - first.at) / 1000);
    assert.ok(rate > 0.5 && rate < 2, `the page played ${rate.toFixed(2)} s of received audio per second`);
    // rtpengine bridged Firefox's DTLS-SRTP with ICE to the kiosk's plain RTP.
    const legs = await rtpengineLegs(bed, first.sipCallId);
    const browserLeg = legs.find((l) => l.protocol === 'RTP/SAVPF');
    const kioskLeg = legs.find((l) => l.protocol === 'RTP/AVP');
    assert.ok(browserLeg && kioskLeg, JSON.stringify(legs));
    assert.ok(browserLeg.flags.includes('ICE') && browserLeg.flags.includes('DTLS fingerprint verified') && browserLeg.crypto, JSON.stringify(browserLeg));
    assert.ok(browserLeg.packets > 50 && kioskLeg.packets > 50, JSON.stringify(legs));

    // Hang up from the row: the kiosk's call ends (without an acknowledgement the alarm goes on).
    await clickIn(page, `${rowSel} button[data-act=hangup]`);
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.callId === talking.callId && e.data.state === 'ended'), 10_000, 'call ended');
    const to = statSync(capture).size;
    // The page's call is over too (the unacknowledged alarm may already ring the desk again: a new call).
    await page.waitForFunction((id) => !(window as any).board.S.phone.list().some((c: any) => c.id === id), { timeout: 10_000, polling: 50 }, first.id);

    // The kiosk played the browser's tone during the call: sox's rough frequency of what it played
    // between the answer and the hang-up (before: the kiosk's own ringing tones).
    const pcm = readFileSync(capture).subarray(from & ~1, to & ~1);
    const call = path.join(dir, 'kiosk-in-call.raw');
    writeFileSync(call, pcm);
    const got = soxStat(call, { rate: KIOSK_RATE });
    assert.ok(got.seconds > 1.5, `only ${got.seconds} s of call audio at the kiosk`);
    assert.ok(Math.abs(got.freq - FIREFOX_TONE_HZ) / FIREFOX_TONE_HZ <= 0.05, `the kiosk played ${got.freq} Hz, Firefox's microphone sends ${FIREFOX_TONE_HZ} Hz`);
    await page.browserContext().close();
  });
});
