// pa-console: the PA console end to end, on loopback.
//   live_page_mouth_to_speaker_ms  a click in the browser's fake microphone (its onset in the page's
//                                  microphone track, AudioWorklet) -> its onset in a kiosk's audio output
//                                  (a real kiosk process, its mixer's file sink polled every 2 ms), p95.
//                                  Path: Chromium WebRTC (G.722, the gateway offers no Opus) -> rtpengine -> the
//                                  hub's page gateway (each packet decoded and sent on at once, G.722) ->
//                                  multicast on loopback -> the kiosk's pager (no jitter buffer beyond its
//                                  120 ms lag cap) and mixer. Excludes a sound card's buffer and the
//                                  browser's capture buffer before the track. Measured like
//                                  desk_mouth_to_ear_ms (bench desk).
//   receipts_1000_ms               a PA command (an approved message played to a zone) to 1,000 light
//                                  kiosks -> every receipt "finished" at the console (its live feed).
//                                  The light kiosks answer at once (result, pa.started and pa.ended in
//                                  one batch): the hub's fan-out and receipt pipeline, not playback time.
//   incident_screen_ms             an orange incident declared with an exit blocked (POST) -> the zone's
//                                  kiosk screen (a kiosk process, headless Chromium) shows orange and the
//                                  route to the next exit.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { encodeWav } from '../src/audio/wav.js';
import { freePort } from '../src/testbed/ports.js';
import { stopAll } from '../src/testbed/proc.js';
import { buildWebBundles } from '../src/hub/web-bundle.js';
import { kioskConfigFile } from '../test/helpers/processes.js';
import { consoleLogin } from '../test/helpers/console.js';
import { sleep, tmpDir, until } from '../test/helpers/tmp.js';
import { launchDeskBrowser, startMediaBed } from '../test/desk/helpers.js';
import { launchChromium } from '../test/display/helpers.js';
import { feed, startHubProcess, startKiosk, token } from '../test/pa/helpers.js';
import { median, percentile } from './stats.js';
import type { Report } from './run.js';

const RATE = 16000;
const CLICK_PERIOD_MS = 700;
const PAGES = 4;
const PAGE_S = 9;

/** 48 kHz mono: a 10 ms 1 kHz burst at half scale every CLICK_PERIOD_MS, silence between (as bench desk). */
function clickTrack(file: string): string {
  const rate = 48000;
  const period = (rate * CLICK_PERIOD_MS) / 1000;
  const samples = new Int16Array(period * 10);
  for (let k = 0; k < 10; k++) for (let i = 0; i < rate / 100; i++) samples[k * period + i] = Math.round(16384 * Math.sin((2 * Math.PI * 1000 * i) / rate));
  writeFileSync(file, encodeWav({ rate, samples }));
  return file;
}

/** Onsets (epoch ms) in a growing raw s16le file, seen by polling every 2 ms. */
function watchOutput(file: string, threshold = 0.05, gapMs = 200) {
  const onsets: number[] = [];
  let fd = -1;
  // From what is there now: the file sink writes the mixer's (silent) frames from start-up on.
  let offset = existsSync(file) ? statSync(file).size & ~1 : 0;
  let armed = true;
  let quiet = 0;
  const gap = (RATE * gapMs) / 1000;
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

async function livePage(report: Report): Promise<void> {
  const dir = tmpDir('hp-bench-pa-');
  const capture = path.join(dir, 'kiosk-out.raw');
  const users = { page: 'gateway-secret', 'pa-console': 'console-secret' };
  const [bed] = await Promise.all([startMediaBed(users), buildWebBundles()]);
  const port = await freePort();
  const g = `239.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;
  const hub = await startHubProcess({
    kiosks: [{ id: 'conc-north', zone: 'concourse', location: { text: { en: 'north' }, x: 40, y: 15 }, tokenSha256: createHash('sha256').update(token('conc-north')).digest('hex') }],
    log: { level: 'info' }, // "ready" is an info line
    pa: {
      gateway: { account: { user: 'page', password: users.page, domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${bed.kamailio.port}`, transport: 'udp' }] }, localHost: '127.0.0.1', localPort: 0 },
      browser: { wsUrl: bed.wsUrl, domain: '127.0.0.1', user: 'pa-console' },
      zones: { concourse: { group: `${g}.1`, port, emergencyGroup: `${g}.11`, emergencyPort: port }, platforms: { group: `${g}.2`, port, emergencyGroup: `${g}.12`, emergencyPort: port } },
      multicastInterface: '127.0.0.1',
    },
  });
  const { file } = kioskConfigFile(
    {
      log: { level: 'info' }, // "ready" is an info line
      audio: { output: { sink: 'file', file: capture, rate: RATE }, input: { source: 'silence' }, volume: 1 },
      hub: { url: `${hub.base.replace('http', 'ws')}/kiosk`, token: token('conc-north'), heartbeatS: 2 },
      pa: { hubPages: { interface: '127.0.0.1' } },
    },
    'conc-north',
  );
  await startKiosk(file);
  const dispatcher = await consoleLogin(hub.base, 'dispatcher', 'dispatcher-demo');
  await until(async () => (await dispatcher.json<{ online: boolean }[]>('/api/fleet')).some((k) => k.online), 30_000, 'the kiosk online');
  await until(async () => (await dispatcher.json<{ gateway: { ready: boolean } }>('/api/pa/config')).gateway.ready, 20_000, 'the gateway registered');
  const browser = await launchDeskBrowser(clickTrack(path.join(dir, 'clicks.wav')));
  try {
    const context = await browser.newContext({ permissions: ['microphone'] });
    await context.addCookies([{ name: 'hp_session', value: dispatcher.cookie.split('=')[1]!, url: hub.base }]);
    const page = await context.newPage();
    await page.goto(hub.base + '/pa');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await page.fill('#sip-password', users['pa-console']);
    await page.click('#sip-login button[type=submit]');
    await page.uncheck('#processing');
    await page.waitForFunction(() => document.body.dataset.talk === 'idle', undefined, { timeout: 20_000 });
    await page.check('#zones input[value="concourse"]');
    const delays: number[] = [];
    const perPage: number[] = [];
    let clicksSent = 0;
    for (let n = 0; n < PAGES; n++) {
      await page.locator('#talk').hover();
      await page.mouse.down();
      await page.waitForFunction(() => document.body.dataset.talk === 'live', undefined, { timeout: 20_000 });
      await sleep(400); // the tail of the chime is still playing at the kiosk
      await page.evaluate(async () => {
        const w = window as any;
        w.clicks = [];
        const mic = await w.helppointPa.talk.meter('local');
        w.stopClicks = await mic.watchOnsets(0.1, (at: number) => w.clicks.push(performance.timeOrigin + at));
      });
      const out = watchOutput(capture);
      await sleep(PAGE_S * 1000);
      const clicks = (await page.evaluate(() => {
        const w = window as any;
        w.stopClicks();
        return w.clicks as number[];
      })) as number[];
      out.stop();
      await page.mouse.up();
      await page.waitForFunction(() => document.body.dataset.talk === 'idle', undefined, { timeout: 20_000 });
      // Each click in the page, paired with the first onset at the kiosk after it (clicks are 700 ms apart).
      const these = clicks
        .map((c) => out.onsets.find((o) => o > c && o - c < CLICK_PERIOD_MS - 100))
        .map((o, k) => (o === undefined ? undefined : o - clicks[k]!))
        .filter((d): d is number => d !== undefined);
      clicksSent += clicks.length;
      if (these.length < clicks.length / 2) throw new Error(`page ${n + 1}: only ${these.length} of ${clicks.length} clicks reached the kiosk (onsets there: ${out.onsets.length})`);
      delays.push(...these);
      perPage.push(median(these));
      await sleep(500);
    }
    report(
      'live_page_mouth_to_speaker_ms',
      percentile(delays, 95),
      'ms',
      `p95 of ${delays.length} clicks (of ${clicksSent}) over ${PAGES} pages; median ${median(delays).toFixed(1)} ms, per-page medians ${perPage.map((x) => x.toFixed(0)).join('/')}; page mic track -> kiosk file sink (mixer frame written), G.722, multicast on loopback; goal <= 150`,
    );
  } finally {
    await browser.close();
    await stopAll();
  }
}

async function receipts1000(report: Report): Promise<void> {
  const n = 1000;
  const kiosks = Array.from({ length: n }, (_, i) => ({
    id: `k${i}`,
    zone: 'concourse',
    location: { text: { en: `bench ${i}` }, x: 0, y: 0 },
    tokenSha256: createHash('sha256').update(`bench-token-${i}-0123456789`).digest('hex'),
  }));
  const hub = await startHubProcess({ kiosks, log: { level: 'info' } });
  try {
    const url = `${hub.base.replace('http', 'ws')}/kiosk`;
    const sockets = await Promise.all(kiosks.map((k, i) => lightKiosk(url, k.id, `bench-token-${i}-0123456789`)));
    const dispatcher = await consoleLogin(hub.base, 'dispatcher', 'dispatcher-demo');
    const supervisor = await consoleLogin(hub.base, 'supervisor', 'supervisor-demo');
    const m = (await (await dispatcher.post('/api/pa/messages', { name: 'Bench', text: { en: 'Bench message.', 'zh-CN': '测试广播。' } })).json()) as { id: string };
    const wav = encodeWav({ rate: RATE, samples: new Int16Array(RATE / 2) });
    for (const lang of ['en', 'zh-CN']) await dispatcher.post(`/api/pa/messages/${m.id}/audio/${lang}`, wav, { 'content-type': 'audio/wav' });
    if ((await supervisor.post(`/api/pa/messages/${m.id}/approve`, { version: 1 })).status !== 200) throw new Error('approval failed');
    await sleep(1500);
    const live = await feed(hub.base, dispatcher.cookie);
    const times: number[] = [];
    const seen = new Set<string>();
    for (let round = 0; round < 6; round++) {
      const t0 = performance.now();
      const r = await dispatcher.post('/api/pa/plays', { message: m.id, zones: ['concourse'] });
      if (r.status !== 201) throw new Error(`play: ${r.status} ${await r.text()}`);
      const ev = await live.wait((e) => e.event === 'receipts' && !seen.has(e.data.action) && e.data.counts.finished === n, 60_000, `${n} finished receipts`);
      times.push(performance.now() - t0);
      seen.add(ev.data.action);
      await sleep(1000);
    }
    live.close();
    if (process.env.HP_DEBUG) writeFileSync(process.env.HP_DEBUG, hub.proc.output());
    for (const s of sockets) s.terminate();
    const counted = times.slice(1); // the first warms the hub up
    report('receipts_1000_ms', median(counted), 'ms', `median of ${counted.length} plays (after a warm-up; all: ${times.map((t) => t.toFixed(0)).join('/')}); POST play -> the console's live feed shows ${n} finished; goal <= 2000`);
  } finally {
    await stopAll();
  }
}

/** A kiosk that answers at once: the command result, then pa.started and pa.ended in one events batch. */
function lightKiosk(url: string, id: string, tok: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${tok}` } });
  let seq = 0;
  return new Promise((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, kiosk: id, firmware: 'bench', configVersion: 0, capabilities: [] })));
    ws.on('error', reject);
    ws.on('message', (d) => {
      const msg = JSON.parse(d.toString()) as { type: string; id?: string; command?: string; args?: { channel?: string }; version?: number };
      if (msg.type === 'welcome') {
        const beat = setInterval(() => ws.readyState === 1 && ws.send(JSON.stringify({ type: 'heartbeat', at: new Date().toISOString(), faults: [], outbox: 0 })), 5000);
        ws.on('close', () => clearInterval(beat));
        resolve(ws);
      } else if (msg.type === 'config') ws.send(JSON.stringify({ type: 'config-ack', version: msg.version }));
      else if (msg.type === 'command') {
        ws.send(JSON.stringify({ type: 'command-result', id: msg.id, ok: true }));
        if (msg.command === 'pa.play') {
          const at = new Date().toISOString();
          const ev = (type: string, data: unknown) => ({ id: `${id}:1:${++seq}`, seq, at, type, data });
          ws.send(JSON.stringify({ type: 'events', batch: [ev('pa.started', { id: msg.id, channel: msg.args?.channel }), ev('pa.ended', { id: msg.id, channel: msg.args?.channel, reason: 'done' })] }));
        }
      }
    });
  });
}

async function incidentScreen(report: Report): Promise<void> {
  const hub = await startHubProcess({ log: { level: 'info' } });
  const { file } = kioskConfigFile({ log: { level: 'info' }, hub: { url: `${hub.base.replace('http', 'ws')}/kiosk`, token: token('conc-north'), heartbeatS: 2 } }, 'conc-north');
  const kiosk = await startKiosk(file);
  const browser = await launchChromium();
  try {
    const dispatcher = await consoleLogin(hub.base, 'dispatcher', 'dispatcher-demo');
    await until(async () => (await dispatcher.json<{ online: boolean }[]>('/api/fleet')).some((k) => k.online), 30_000, 'the kiosk online');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(kiosk.url);
    await page.waitForFunction("document.getElementById('site').textContent !== ''");
    const times: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t0 = performance.now();
      const shown = page.waitForFunction(() => document.getElementById('incident')?.dataset.colour === 'orange' && document.getElementById('incident-follow')?.dataset.exit === 'exit-west', undefined, { timeout: 20_000, polling: 'raf' });
      const r = await dispatcher.post('/api/incidents', { zones: ['concourse'], level: 'orange', title: `bench ${i}`, blockedExits: ['exit-north'] });
      if (r.status !== 201) throw new Error(`declare: ${r.status}`);
      await shown;
      times.push(performance.now() - t0);
      const { id } = (await r.json()) as { id: string };
      await dispatcher.post(`/api/incidents/${id}/close`, { summary: 'bench' });
      await page.locator('#home').waitFor({ timeout: 20_000 });
      await sleep(300);
    }
    const counted = times.slice(1);
    report('incident_screen_ms', median(counted), 'ms', `median of ${counted.length} (after a warm-up), p95 ${percentile(counted, 95).toFixed(0)} ms: POST an orange incident with exit-north blocked -> the kiosk screen shows orange and the route to exit-west (kiosk process, headless Chromium); goal <= 1000`);
  } finally {
    await browser.close();
    await stopAll();
  }
}

export async function run(report: Report): Promise<void> {
  // HP_BENCH_PARTS=live,receipts,incident runs some of them (while working on one)
  const parts = (process.env.HP_BENCH_PARTS ?? 'live,receipts,incident').split(',');
  if (parts.includes('live')) await livePage(report);
  if (parts.includes('receipts')) await receipts1000(report);
  if (parts.includes('incident')) await incidentScreen(report);
}
