// Live PA from the browser, end to end: the PA console page in headless
// Chromium (its fake microphone plays a 1 kHz tone), logged in as a
// dispatcher, holds Talk for zone A; its SIP phone calls the hub's page
// gateway over WebSocket through Kamailio, rtpengine bridges WebRTC to plain
// RTP, the hub process sends the voice to zone A's multicast group; real
// kiosk processes play it into ALSA file captures. One kiosk of zone A takes
// no multicast: it reports the page missed and gets it by unicast. Zone B
// hears nothing. Then an emergency page to zone B pre-empts the music and
// the information message of a kiosk there, which carry on afterwards.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { stopAll } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { kioskConfigFile } from '../helpers/processes.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { makeTone, soxStat, soxStatFull } from '../intercom/sox.js';
import { alsaCapture, captureSamples, levels, loudWindows } from '../audio/helpers.js';
import { launchDeskBrowser, startMediaBed, type MediaBed } from '../desk/helpers.js';
import { buildWebBundles } from '../../src/hub/web-bundle.js';
import { encodeWav } from '../../src/audio/wav.js';
import { startHubProcess, startKiosk, token } from './helpers.js';

const USERS = { page: 'gateway-secret', 'pa-console': 'console-secret' };
const RATE = 16000;

interface Kiosk {
  id: string;
  proc: Awaited<ReturnType<typeof startKiosk>>;
  capture: string;
}



describe('live PA from the browser to zones (Chromium, Kamailio, rtpengine, hub and kiosk processes)', function () {
  this.timeout(180_000);
  let dir: string;
  let bed: MediaBed;
  let hub: { base: string; proc: import('../../src/testbed/proc.js').Managed };
  let browser: Browser;
  let page: Page;
  let dispatcher: ConsoleSession;
  let toneWav: string;
  const kiosks = new Map<string, Kiosk>();
  const base = `239.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;

  async function kiosk(id: string, zoneBase: string, extra: Record<string, unknown> = {}): Promise<Kiosk> {
    const alsa = alsaCapture();
    const { file } = kioskConfigFile(
      {
        log: { level: 'info' },
        audio: { output: { sink: 'alsa', device: 'default', rate: RATE }, input: { source: 'silence' }, volume: 1 },
        hub: { url: `${hub.base.replace('http', 'ws')}/kiosk`, token: token(id), heartbeatS: 2 },
        pa: { hubPages: { interface: '127.0.0.1', unicastPort: 0 }, ...extra },
      },
      zoneBase,
    );
    const proc = await startKiosk(file, { XDG_CONFIG_HOME: alsa.xdg });
    const k = { id, proc, capture: alsa.capture };
    kiosks.set(id, k);
    return k;
  }

  before(async () => {
    dir = tmpDir('hp-live-');
    toneWav = makeTone(path.join(dir, 'mic-1k.wav'), 1000, 20, 48000, 0.3);
    const [b] = await Promise.all([startMediaBed(USERS), buildWebBundles()]);
    bed = b;
    const port = await freePort();
    const kiosksOfTest = [
      { id: 'conc-north', zone: 'concourse', location: { text: { en: 'Concourse, north entrance' }, x: 40, y: 15 } },
      { id: 'conc-south', zone: 'concourse', location: { text: { en: 'Concourse, south entrance' }, x: 40, y: 105 } },
      { id: 'plat-1', zone: 'platforms', location: { text: { en: 'Platform 1' }, x: 150, y: 20 } },
      { id: 'plat-2', zone: 'platforms', location: { text: { en: 'Platform 2' }, x: 150, y: 60 } },
    ];
    const { createHash } = await import('node:crypto');
    hub = await startHubProcess({
      kiosks: kiosksOfTest.map((k) => ({ ...k, tokenSha256: createHash('sha256').update(token(k.id)).digest('hex') })),
      log: { level: 'info' },
      pa: {
        languages: ['zh-CN', 'en'],
        chime: true,
        gateway: { account: { user: 'page', password: USERS.page, domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${bed.kamailio.port}`, transport: 'udp' }] }, localHost: '127.0.0.1', localPort: 0 },
        browser: { wsUrl: bed.wsUrl, domain: '127.0.0.1', user: 'pa-console' },
        zones: {
          concourse: { group: `${base}.1`, port, emergencyGroup: `${base}.11`, emergencyPort: port },
          platforms: { group: `${base}.2`, port, emergencyGroup: `${base}.12`, emergencyPort: port },
        },
        multicastInterface: '127.0.0.1',
      },
    });
    void port;
    const music = makeTone(path.join(dir, 'music-300.wav'), 300, 30, 16000, 0.5);
    await Promise.all([
      kiosk('conc-north', 'conc-north'),
      // This kiosk takes no multicast (another VLAN): pages reach it by unicast.
      kiosk('conc-south', 'conc-south', { hubPages: { interface: '127.0.0.1', unicastPort: 0, multicast: false } }),
      kiosk('plat-1', 'plat-1'),
      kiosk('plat-2', 'plat-2', { music: { playlist: [music], volume: 0.6 } }),
    ]);
    dispatcher = await consoleLogin(hub.base, 'dispatcher', 'dispatcher-demo');
    await until(async () => (await dispatcher.json<{ online: boolean }[]>('/api/fleet')).filter((k) => k.online).length === 4, 30_000, 'four kiosks online');
    await until(async () => (await dispatcher.json<{ gateway: { ready: boolean } }>('/api/pa/config')).gateway.ready, 20_000, 'the page gateway registered');

    browser = await launchDeskBrowser(toneWav);
    const context = await browser.newContext({ permissions: ['microphone'] });
    await context.addCookies([{ name: 'hp_session', value: dispatcher.cookie.split('=')[1]!, url: hub.base }]);
    page = await context.newPage();
    page.on('pageerror', (e) => console.error('console page error:', e.message));
    await page.goto(hub.base + '/pa');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    // The dispatcher connects the microphone line with their desk's SIP account (the hub suggests the user).
    assert.equal(await page.inputValue('#sip-user'), 'pa-console');
    await page.fill('#sip-password', USERS['pa-console']);
    await page.click('#sip-login button[type=submit]');
    // A test tone stays a tone: no noise suppression or automatic gain on this microphone.
    await page.uncheck('#processing');
    await page.waitForFunction(() => document.body.dataset.talk === 'idle', undefined, { timeout: 20_000 });
  });

  after(async function () {
    if (process.env.HP_DEBUG) {
      writeFileSync(process.env.HP_DEBUG, hub?.proc.output() ?? '');
      for (const [id, k] of kiosks) writeFileSync(`${process.env.HP_DEBUG}.${id}`, k.proc.proc.output());
    }
    await browser?.close();
    await stopAll();
  });

  /** Holds Talk for `ms` once the page is live; returns the page's action id. */
  async function hold(zone: string, ms: number, emergency = false): Promise<string> {
    for (const box of await page.locator('#zones input').all()) await box.setChecked((await box.getAttribute('value')) === zone);
    await page.locator('#emergency').setChecked(emergency);
    const before = await page.locator('#action option').count();
    const talk = page.locator('#talk');
    await talk.hover();
    await page.mouse.down();
    await page.waitForFunction(() => document.body.dataset.talk === 'live', undefined, { timeout: 20_000 });
    await sleep(ms);
    await page.mouse.up();
    await page.waitForFunction(() => document.body.dataset.talk === 'idle', undefined, { timeout: 20_000 });
    await until(async () => (await page.locator('#action option').count()) > before, 5000, 'the page in the receipts list');
    return page.locator('#action').inputValue();
  }

  it('talk to zone A: its kiosks play the browser\'s 1 kHz tone, zone B plays nothing, every receipt of A finished', async () => {
    const fromB = captureSamples(kiosks.get('plat-1')!.capture).length;
    const id = await hold('concourse', 3000);
    assert.match(id, /^pa-l-/);
    // Receipts on the console page, live: both kiosks of zone A finished.
    await page.waitForFunction(() => document.getElementById('counts')?.dataset.finished === '2', undefined, { timeout: 15_000 });
    assert.equal(await page.locator('#counts').getAttribute('data-total'), '2');
    const rows = await page.locator('#receipts tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-kiosk'), tr.getAttribute('data-state'), tr.children[3]!.textContent]));
    assert.deepEqual(rows, [
      ['conc-north', 'finished', 'multicast'],
      ['conc-south', 'finished', 'unicast'],
    ]);
    const r = await dispatcher.json<{ receipts: { kiosk: string; reason: string }[] }>(`/api/pa/actions/${id}`);
    assert.match(r.receipts.find((x) => x.kiosk === 'conc-south')!.reason, /missed multicast \(this kiosk takes no multicast\); sent by unicast to 127\.0\.0\.1:\d+/);

    // What the kiosks played: the chime, then the browser's tone, measured like the source.
    const sent = soxStatFull(toneWav);
    for (const id of ['conc-north', 'conc-south']) {
      const x = captureSamples(kiosks.get(id)!.capture);
      const tone = loudWindows(x, 1000, RATE);
      const l1k = levels(x, 1000, RATE, 100);
      assert.ok(tone.length / RATE >= 1.5, `${id}: only ${tone.length / RATE} s of the tone (${x.length / RATE} s captured; 1 kHz levels ${l1k.filter((v) => v > 0.001).map((v) => v.toFixed(3)).join(' ')})`);
      const raw = path.join(dir, `${id}-tone.raw`);
      writeFileSync(raw, Buffer.from(tone.buffer, tone.byteOffset, tone.byteLength));
      const got = soxStat(raw, { rate: RATE });
      assert.ok(Math.abs(got.freq - sent.freq) / sent.freq <= 0.05, `${id} played ${got.freq} Hz, the browser sent ${sent.freq} Hz`);
      assert.ok(loudWindows(x, 784, RATE, 0.05).length > 0, `${id}: the chime before the voice`);
    }
    // Zone B: nothing of the page (no tone, no chime). An idle kiosk's mixer writes nothing (it is off the media
    // clock while nothing plays), so whatever was captured is checked, and the kiosk is asked whether it is up.
    const b = captureSamples(kiosks.get('plat-1')!.capture).subarray(fromB);
    const bStatus = (await (await fetch(kiosks.get('plat-1')!.proc.url + 'pa')).json()) as { sink: string; streams: unknown[] };
    assert.equal(bStatus.sink, 'alsa', 'zone B kiosk up on its ALSA device');
    assert.deepEqual(bStatus.streams, [], 'zone B plays nothing');
    assert.equal(loudWindows(b, 1000, RATE, 0.005).length + loudWindows(b, 784, RATE, 0.005).length, 0, 'zone B heard the page');
  });

  it('an emergency page pre-empts the music and an information message; they carry on afterwards', async () => {
    // An approved information message: 4 s of 500 Hz per language.
    const supervisor = await consoleLogin(hub.base, 'supervisor', 'supervisor-demo');
    const m = (await (await dispatcher.post('/api/pa/messages', { name: 'Timetable change', text: { en: 'The 18:05 leaves from platform 2.', 'zh-CN': '18:05的列车改在2号站台发车。' } })).json()) as { id: string };
    const wav = encodeWav({ rate: RATE, samples: Int16Array.from({ length: RATE * 4 }, (_, i) => Math.round(Math.sin((2 * Math.PI * 500 * i) / RATE) * 0.5 * 32767)) });
    for (const lang of ['en', 'zh-CN']) assert.equal((await dispatcher.post(`/api/pa/messages/${m.id}/audio/${lang}`, wav, { 'content-type': 'audio/wav' })).status, 200);
    assert.equal((await supervisor.post(`/api/pa/messages/${m.id}/approve`, { version: 1 })).status, 200);

    const k = kiosks.get('plat-2')!;
    const from = captureSamples(k.capture).length;
    assert.equal((await dispatcher.post('/api/pa/plays', { message: m.id, kiosks: ['plat-2'] })).status, 201);
    const info = await until(async () => (await dispatcher.json<{ id: string; counts: { started: number } }[]>('/api/pa/actions')).find((a) => a.counts.started === 1), 10_000, 'the message playing');
    await sleep(2000);
    await hold('platforms', 2500, true);
    const done = await until(async () => {
      const a = await dispatcher.json<{ counts: { finished: number } }>(`/api/pa/actions/${info.id}`);
      return a.counts.finished === 1;
    }, 30_000, 'the information message finished');
    assert.ok(done);
    await sleep(1500);

    const x = captureSamples(k.capture).subarray(from);
    const w = 100;
    const l500 = levels(x, 500, RATE, w);
    const l300 = levels(x, 300, RATE, w);
    const l1k = levels(x, 1000, RATE, w);
    const emergency = l1k.map((v, i) => (v > 0.05 ? i : -1)).filter((i) => i >= 0);
    assert.ok(emergency.length >= 15, `the emergency voice: ${emergency.length * w} ms`);
    const [e0, e1] = [emergency[0]!, emergency.at(-1)!];
    // While the emergency voice plays: no message, no music (the first and last windows hold the fades).
    for (let i = e0 + 1; i < e1; i++) assert.ok(l500[i]! < 0.01 && l300[i]! < 0.01, `window ${i}: message ${l500[i]!.toFixed(3)}, music ${l300[i]!.toFixed(3)} under the emergency`);
    // Before: the message (music ducked under it); after: the message carries on, then the music.
    assert.ok(l500.slice(0, e0).some((v) => v > 0.3), 'the message before');
    const after500 = l500.slice(e1 + 1).filter((v) => v > 0.3).length;
    assert.ok(after500 >= 5, `the message after the emergency: ${after500 * w} ms`);
    const heard = l500.filter((v) => v > 0.3).length * w;
    assert.ok(heard >= 7600 && heard <= 8400, `all 8.3 s of the message heard, none lost: ${heard} ms`);
    assert.ok(l300.slice(-10).some((v) => v > 0.1), 'the music back at the end');
  });
});
