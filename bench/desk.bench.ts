// desk: the dispatcher's browser phone talking to a kiosk through Kamailio
// and rtpengine, all on loopback (headless Chromium with a fake microphone,
// a real kiosk process with the sim driver and a file sink).
//   answer_to_audio_ms      Answer called in the page -> first sample of the kiosk's audio in the
//                           page (AudioWorklet on the received stream); includes opening the
//                           microphone, the SDP answer with ICE gathering, the 200 OK through
//                           Kamailio and rtpengine, ICE + DTLS with rtpengine, Chromium's jitter buffer
//   desk_mouth_to_ear_ms    a click in the browser's fake microphone (its onset in the page's
//                           microphone track) -> its onset in the kiosk's audio output (the
//                           mixer's file sink, polled every 2 ms); excludes a sound card's buffer
//   rtpengine_cpu_pct       rtpengine's CPU for one bridged call (WebRTC <-> RTP), % of one core,
//                           idle subtracted
//   alarm_to_board_ms       a press on a sim kiosk (the POST to its sim page, 60 ms press) -> the alarm's row
//                           in an open board page (a MutationObserver in the page); includes the
//                           button's debounce, the alarm controller, the kiosk's event outbox to the
//                           hub, storing the event, the push to the page's server-sent event stream and
//                           the page's render. A hub process and a kiosk process (no desk answers).
import path from 'node:path';
import { openSync, readSync, closeSync, writeFileSync, existsSync } from 'node:fs';
import { encodeWav } from '../src/audio/wav.js';
import { tmpDir, until, sleep } from '../test/helpers/tmp.js';
import { callRig } from '../test/intercom/helpers.js';
import { makeTone } from '../test/intercom/sox.js';
import { launchDeskBrowser, openDesk, serveDeskPage, startMediaBed } from '../test/desk/helpers.js';
import { cpuMs, median, percentile } from './stats.js';
import type { Report } from './run.js';
import type { Browser } from 'playwright-core';
import { alarmRig } from '../test/alarm/helpers.js';
import { consoleLogin } from '../test/helpers/console.js';
import { DEMO_TOKEN } from '../test/hub/harness.js';
import { DESK_SECTION, openBoard, startHubProcess } from '../test/desk/hub-bed.js';
import type { MediaBed } from '../test/desk/helpers.js';

const USERS = { 'conc-north': 'kiosk-secret', desk: 'desk-secret' };
const ANSWERS = 12; // the first is a warm-up, not counted
const CLICK_PERIOD_MS = 700;
const CLICK_CALLS = 4;
const BOARD_ALARMS = 21; // the first is a warm-up, not counted

/** alarm_to_board_ms: presses on a kiosk linked to a hub process, each timed to its row on an open board page. */
async function alarmToBoard(report: Report, bed: MediaBed, browser: Browser): Promise<void> {
  const { hub, base } = await startHubProcess(DESK_SECTION(bed.wsUrl));
  const nowhere = { uri: 'sip:nobody@127.0.0.1:9', ringTimeoutS: 60 };
  const rig = await alarmRig({
    hub: { url: `ws://127.0.0.1:${new URL(base).port}/kiosk`, token: DEMO_TOKEN('conc-north'), heartbeatS: 1 },
    sip: { targets: { emergency: [nowhere], information: [nowhere] } },
  });
  await hub.waitFor(/kiosk online/, 10_000);
  const page = await openBoard(browser, base);
  const api = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
  await page.evaluate(() => {
    const w = window as any;
    w.rowSeen = {};
    new MutationObserver(() => {
      document.querySelectorAll<HTMLElement>('#board tr[data-ref]').forEach((tr) => (w.rowSeen[tr.dataset.ref!] ??= performance.timeOrigin + performance.now()));
    }).observe(document.getElementById('board')!, { childList: true, subtree: true });
  });
  const delays: number[] = [];
  for (let i = 0; i < BOARD_ALARMS; i++) {
    const t0 = performance.timeOrigin + performance.now();
    await rig.press('emergency');
    const raised = await until(() => rig.alarm().filter((a) => a.state === 'raised')[i], 15_000, `alarm #${i + 1} raised`);
    const seen = (await (await page.waitForFunction((ref) => (window as any).rowSeen[ref], raised.alarmId, { timeout: 15_000, polling: 50 })).jsonValue()) as number;
    if (i > 0) delays.push(seen - t0);
    const r = await api.post(`/api/desk/alarms/${raised.alarmId}/reset`, {});
    if (r.status !== 200) throw new Error(`reset ${raised.alarmId}: ${r.status} ${await r.text()}`);
    await page.waitForFunction((ref) => !document.querySelector(`#board tr[data-ref="${ref}"]`), raised.alarmId, { timeout: 15_000 });
    await sleep(300);
  }
  report('alarm_to_board_ms', percentile(delays, 95), 'ms', `p95 of ${delays.length} alarms (after a warm-up; median ${Math.round(median(delays))} ms): press on the sim kiosk -> the row on an open board page (kiosk outbox, hub store, server-sent event, render); goal <= 300`);
  report('alarm_to_board_median_ms', median(delays), 'ms', `${delays.length} alarms`);
  await page.context().close();
  await rig.kiosk.stop();
  await hub.stop();
}

/** 48 kHz mono: a 10 ms 1 kHz burst at half scale every CLICK_PERIOD_MS, silence between. */
function clickTrack(file: string): string {
  const rate = 48000;
  const period = (rate * CLICK_PERIOD_MS) / 1000;
  const samples = new Int16Array(period * 10);
  for (let k = 0; k < 10; k++) for (let i = 0; i < rate / 100; i++) samples[k * period + i] = Math.round(16384 * Math.sin((2 * Math.PI * 1000 * i) / rate));
  writeFileSync(file, encodeWav({ rate, samples }));
  return file;
}

/** Watches a growing raw s16le file; records the wall-clock time (epoch ms) of each sound onset as it appears. */
function watchOutput(file: string, rate: number, threshold = 0.05, gapMs = 200) {
  const onsets: number[] = [];
  let fd = -1;
  let offset = 0;
  let armed = true;
  let quiet = 0;
  const gap = (rate * gapMs) / 1000;
  const level = threshold * 32768;
  const buf = Buffer.alloc(64 * 1024);
  const timer = setInterval(() => {
    if (fd < 0) {
      if (!existsSync(file)) return;
      fd = openSync(file, 'r');
    }
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n < 2) break;
      const at = performance.timeOrigin + performance.now();
      const whole = n - (n % 2);
      for (let i = 0; i < whole; i += 2) {
        const a = Math.abs(buf.readInt16LE(i));
        if (armed && a >= level) {
          onsets.push(at);
          armed = false;
          quiet = 0;
        } else if (!armed) {
          quiet = a < level / 2 ? quiet + 1 : 0;
          if (quiet >= gap) armed = true;
        }
      }
      offset += whole;
      if (n < buf.length) break;
    }
  }, 2);
  return {
    onsets,
    stop: () => {
      clearInterval(timer);
      if (fd >= 0) closeSync(fd);
    },
  };
}

export async function run(report: Report): Promise<void> {
  const dir = tmpDir('hp-bench-desk-');
  const kioskWav = makeTone(path.join(dir, 'kiosk-600.wav'), 600, 60, 8000, 0.3);
  const capture = path.join(dir, 'kiosk-out.raw');
  const bed = await startMediaBed(USERS);
  const site = await serveDeskPage();
  const browser = await launchDeskBrowser(clickTrack(path.join(dir, 'clicks.wav')));
  try {
    const desk = await openDesk(browser, site.url, { wsUrl: bed.wsUrl, user: 'desk', password: USERS.desk });
    const deskTarget = [{ uri: 'sip:desk@127.0.0.1', ringTimeoutS: 30 }];
    const rig = await callRig({
      sip: {
        account: { user: 'conc-north', password: USERS['conc-north'], domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${bed.kamailio.port}`, transport: 'udp' }] },
        targets: { emergency: deskTarget, information: deskTarget },
      },
      // Noise suppression off: it rightly treats the steady test tone as noise (as in the desk tests).
      audio: { input: { source: 'file', file: kioskWav }, output: { sink: 'file', file: capture, rate: 16000 }, volume: 1, handsFree: { noiseSuppression: false, agc: false } },
    });
    await until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 15_000, 'kiosk registered');

    // answer_to_audio_ms: information calls (not alarms: nothing re-sends them), answered in the page.
    const answer: number[] = [];
    for (let i = 0; i < ANSWERS; i++) {
      await rig.press('information');
      const { id } = await desk.waitEvent('incoming', 15_000, i + 1);
      const ms = await desk.page.evaluate(async (callId) => {
        const phone = (window as any).phone;
        const t0 = performance.now();
        // The meter waits for the received track (it appears while answering), then for the first sound.
        const first = phone.meter(callId, 'remote', 10_000).then(async (m: any) => {
          const at = await m.onset(0.02, 10_000);
          m.close();
          return at;
        });
        await phone.answer(callId);
        return (await first) - t0;
      }, id);
      if (i > 0) answer.push(ms);
      await desk.page.evaluate((callId) => (window as any).phone.hangup(callId), id);
      await desk.waitEvent('ended', 10_000, i + 1);
      await rig.waitState('ended', 10_000, i + 1);
      await sleep(300);
    }
    report('answer_to_audio_ms', median(answer), 'ms', `median of ${answer.length} answers (after a warm-up): Answer in the page -> first sample of the kiosk's audio in the received stream; goal <= 500`);
    report('answer_to_audio_p95_ms', percentile(answer, 95), 'ms', `${answer.length} answers`);

    // rtpengine idle, then calls with clicks from the browser to the kiosk; rtpengine's CPU during the first.
    // Several calls: the kiosk's jitter buffer keeps the depth its start-up gave it, so one call says little.
    const rtpPid = bed.rtpengine.proc.pid;
    const i0 = cpuMs(rtpPid);
    await sleep(10_000);
    const idlePerS = (cpuMs(rtpPid) - i0) / 10;
    let busyPerS = NaN;
    const delays: number[] = [];
    const perCall: number[] = [];
    for (let n = 0; n < CLICK_CALLS; n++) {
      const nth = ANSWERS + 1 + n;
      await rig.press('information');
      const { id } = await desk.waitEvent('incoming', 15_000, nth);
      await desk.page.evaluate(async (callId) => {
        const w = window as any;
        await w.phone.answer(callId);
        w.clicks = [];
        const mic = await w.phone.meter(callId, 'local');
        w.stopClicks = await mic.watchOnsets(0.1, (at: number) => w.clicks.push(performance.timeOrigin + at));
      }, id);
      await rig.waitState('connected', 10_000, nth);
      const out = watchOutput(capture, 16000);
      await sleep(1000);
      const c0 = cpuMs(rtpPid);
      const t0 = performance.now();
      await sleep(n === 0 ? 15_000 : 8000);
      if (n === 0) busyPerS = (cpuMs(rtpPid) - c0) / ((performance.now() - t0) / 1000);
      const clicks = (await desk.page.evaluate(() => {
        const w = window as any;
        w.stopClicks();
        return w.clicks as number[];
      })) as number[];
      out.stop();
      await desk.page.evaluate((callId) => (window as any).phone.hangup(callId), id);
      await rig.waitState('ended', 10_000, nth);
      // Each click in the page, paired with the first onset at the kiosk after it (clicks are 700 ms apart).
      const these = clicks
        .map((c) => out.onsets.find((o) => o > c && o - c < CLICK_PERIOD_MS - 100))
        .map((o, k) => (o === undefined ? undefined : o - clicks[k]!))
        .filter((d): d is number => d !== undefined);
      if (these.length < clicks.length / 2) throw new Error(`call ${n + 1}: only ${these.length} of ${clicks.length} clicks reached the kiosk (onsets there: ${out.onsets.length})`);
      delays.push(...these);
      perCall.push(median(these));
      await sleep(300);
    }
    const spread = perCall.map((m) => Math.round(m)).join(', ');
    report('desk_mouth_to_ear_ms', median(delays), 'ms', `median of ${delays.length} clicks in ${CLICK_CALLS} calls (per-call medians ${spread} ms): onset in the page's microphone track -> onset in the kiosk's output (mixer file sink); G.722, Chromium audio processing off; goal <= 150`);
    report('desk_mouth_to_ear_p95_ms', percentile(delays, 95), 'ms', `${delays.length} clicks`);
    report('rtpengine_cpu_pct', ((busyPerS - idlePerS) / 1000) * 100, '%', 'rtpengine (userspace, 2 threads) with one WebRTC<->RTP call for 15 s, idle subtracted, % of one core');
    await rig.kiosk.stop();
    await desk.close();
    // Last, so it cannot disturb the media figures: the board's own hub and kiosk.
    await alarmToBoard(report, bed, browser);
  } finally {
    await browser.close();
    await site.close();
  }
}
