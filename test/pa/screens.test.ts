// Messages, incidents and drills on real kiosks: a hub process, kiosk
// processes (one screen in Chinese, one in English, one playing into an ALSA
// file capture), their touch screens in headless Chromium, a sipp desk.
//  - a message drafted by one user plays only once a second user approved it;
//    its text is on the screens while it plays, in each screen's language;
//  - an orange incident with an exit blocked: the screens turn orange and show
//    the route to the next exit (the 1 s goal: bench pa-console); the timeline lists the
//    declaration, the message with its receipts and an alarm raised in the
//    zone; the record exports;
//  - a drill: the screens say DRILL, so does the audio; its record is apart;
//    a real press during the drill reaches the desk as a real emergency call.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { stopAll } from '../../src/testbed/proc.js';
import { startSipp, type Sipp } from '../../src/testbed/sipp.js';
import { MessageLibrary, findAudioDir } from '../../src/audio/messages.js';
import { kioskConfigFile, postJson, REPO } from '../helpers/processes.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { sleep, until } from '../helpers/tmp.js';
import { alsaCapture, indexOfSamples } from '../audio/helpers.js';
import { launchChromium } from '../display/helpers.js';
import { lightKiosk, startHubProcess, startKiosk, token, type LightKiosk } from './helpers.js';

const RATE = 16000;

describe('messages, incidents and drills on kiosk screens (hub and kiosk processes, Chromium, a sipp desk)', function () {
  this.timeout(180_000);
  let hub: { base: string };
  let dispatcher: ConsoleSession;
  let supervisor: ConsoleSession;
  let browser: Browser;
  let desk: Sipp;
  let capture: string;
  let north: { url: string };
  const screens: Record<string, Page> = {};
  let tickets: LightKiosk;
  let orange: string;

  before(async () => {
    hub = await startHubProcess({ log: { level: 'info' } });
    desk = await startSipp({ scenario: path.join(REPO, 'test/sipp/desk-answer-bye.xml'), args: ['-m', '1', '-rtp_echo'] });
    const alsa = alsaCapture();
    capture = alsa.capture;
    const common = (id: string) => ({
      log: { level: 'info' },
      hub: { url: `${hub.base.replace('http', 'ws')}/kiosk`, token: token(id), heartbeatS: 2 },
      sip: { targets: { emergency: [{ uri: desk.uri, ringTimeoutS: 20 }], information: [{ uri: desk.uri, ringTimeoutS: 20 }] } },
    });
    const n = kioskConfigFile({ ...common('conc-north'), audio: { output: { sink: 'alsa', device: 'default', rate: RATE }, input: { source: 'silence' }, volume: 1 } }, 'conc-north');
    const s = kioskConfigFile({ ...common('conc-south'), display: { defaultLanguage: 'en' } }, 'conc-south');
    const [kn, ks] = await Promise.all([startKiosk(n.file, { XDG_CONFIG_HOME: alsa.xdg }), startKiosk(s.file)]);
    north = kn;
    tickets = await lightKiosk(hub.base, 'conc-tickets', { playMs: 500 });
    dispatcher = await consoleLogin(hub.base, 'dispatcher', 'dispatcher-demo');
    supervisor = await consoleLogin(hub.base, 'supervisor', 'supervisor-demo');
    await until(async () => (await dispatcher.json<{ id: string; online: boolean }[]>('/api/fleet')).filter((k) => k.online).length === 3, 30_000, 'three kiosks online');
    browser = await launchChromium();
    for (const [id, k] of [['conc-north', kn], ['conc-south', ks]] as const) {
      const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await p.goto(k.url);
      await p.waitForFunction("document.getElementById('site').textContent !== ''");
      screens[id] = p;
    }
  });
  after(async () => {
    tickets?.close();
    await browser?.close();
    await stopAll();
  });

  it('a message drafted by one user plays only after a second approves it; its text shows in each screen\'s language while it plays', async () => {
    const text = { en: 'The concourse is very busy. Please move slowly and follow staff.', 'zh-CN': '大厅十分拥挤，请慢行并听从工作人员指挥。' };
    const m = (await (await dispatcher.post('/api/pa/messages', { name: 'Crowding, orange', level: 'orange', text })).json()) as { id: string };
    orange = m.id;
    assert.equal((await dispatcher.post(`/api/pa/messages/${m.id}/synthesise`, {})).status, 200);
    const refused = await dispatcher.post('/api/pa/plays', { message: m.id, zones: ['concourse'] });
    assert.equal(refused.status, 409, 'a draft does not play');
    assert.equal((await dispatcher.post(`/api/pa/messages/${m.id}/approve`, { version: 1 })).status, 403, 'not by its author');
    assert.equal((await supervisor.post(`/api/pa/messages/${m.id}/approve`, { version: 1 })).status, 200);

    assert.equal((await dispatcher.post('/api/pa/plays', { message: m.id, zones: ['concourse'] })).status, 201);
    // While it plays, each screen shows the approved words in its own language.
    await screens['conc-north']!.waitForFunction((t) => document.getElementById('pa-text')?.textContent === t, text['zh-CN'], { timeout: 15_000 });
    await screens['conc-south']!.waitForFunction((t) => document.getElementById('pa-text')?.textContent === t, text.en, { timeout: 15_000 });
    assert.ok(await screens['conc-north']!.locator('#pa').isVisible());
    // ...and no longer once it has played; every receipt of the zone finished.
    await screens['conc-north']!.locator('#pa').waitFor({ state: 'hidden', timeout: 30_000 });
    const action = await until(async () => (await dispatcher.json<{ id: string; messageId: string; counts: { finished: number } }[]>('/api/pa/actions')).find((a) => a.messageId === m.id && a.counts.finished === 3), 20_000, 'three receipts finished');
    assert.ok(action);
  });

  it('an orange incident with an exit blocked: orange and the route to the next exit on the screens; the timeline; export', async () => {
    const page = screens['conc-north']!;
    const r = await dispatcher.post('/api/incidents', { zones: ['concourse'], level: 'orange', title: 'Crowd at the north gate', blockedExits: ['exit-north'], guidance: { en: 'Leave by the west exit.', 'zh-CN': '请从西出口离开。' } });
    assert.equal(r.status, 201);
    const inc = (await r.json()) as { id: string };

    // The 1 s goal is measured by the pa-console benchmark (incident_screen_ms): on this test bed's shared
    // cores the kiosk and Chromium alone take up to a second under load, so here only the outcome is asserted.
    await page.waitForFunction(() => document.getElementById('incident')?.dataset.colour === 'orange' && document.getElementById('incident-follow')?.dataset.exit === 'exit-west', undefined, { timeout: 5000 });
    assert.ok(await page.locator('#incident').isVisible());
    assert.equal(await page.locator('#incident-level').innerText(), '橙色');
    await screens['conc-south']!.waitForFunction(() => document.getElementById('incident')?.dataset.colour === 'orange', undefined, { timeout: 5000 });

    // An alarm raised in the zone while it lasts (an alarm.state event from a kiosk).
    tickets.event('alarm.state', { alarmId: 'conc-tickets-lz9a0b-1f2e', state: 'raised', kind: 'emergency', category: 'medical', source: 'button', raisedAt: new Date().toISOString(), at: new Date().toISOString() });
    const rep = await until(async () => {
      const x = await dispatcher.json<{ timeline: { kind: string; text: string; detail: any }[]; actions: { counts: { finished: number; total: number } }[] }>(`/api/incidents/${inc.id}`);
      return x.timeline.some((t) => t.kind === 'alarm') && x.actions[0]?.counts.finished === x.actions[0]?.counts.total ? x : undefined;
    }, 40_000, 'the level message finished on every kiosk and the alarm in the timeline');
    const kinds = rep.timeline.map((t) => t.kind);
    assert.deepEqual(kinds.slice(0, 3), ['declared', 'screens', 'message'], kinds.join(', '));
    assert.equal(rep.timeline.find((t) => t.kind === 'message')!.detail.message, orange);
    assert.equal(rep.actions[0]!.counts.total, 3);
    assert.match(rep.timeline.find((t) => t.kind === 'alarm')!.text, /^alarm raised at conc-tickets \(medical\)/);

    for (const format of ['csv', 'json']) assert.equal((await dispatcher.get(`/api/incidents/${inc.id}/export?format=${format}`)).status, 200);
    assert.equal((await dispatcher.post(`/api/incidents/${inc.id}/close`, { summary: 'Crowd cleared.' })).status, 200);
    await page.locator('#home').waitFor({ timeout: 10_000 });
  });

  it('a drill: screens and audio say DRILL, its record is apart, a real press during it reaches the desk as a real emergency call', async () => {
    const page = screens['conc-north']!;
    const captured = () => (existsSync(capture) ? readFileSync(capture) : Buffer.alloc(0));
    const from = captured().length >> 1;
    const r = await dispatcher.post('/api/incidents', { zones: ['concourse'], level: 'orange', title: 'Crowd drill', drill: true });
    assert.equal(r.status, 201);
    const d = (await r.json()) as { id: string };
    await page.locator('#drill').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#drill').innerText(), JSON.parse(readFileSync(path.join(REPO, 'src/display/i18n/zh-CN.json'), 'utf8'))['drill.banner']);
    await screens['conc-south']!.waitForFunction(() => /DRILL/.test(document.getElementById('drill')?.textContent ?? ''), undefined, { timeout: 5000 });
    // The screen's text says it is a drill while the message plays...
    await page.waitForFunction(() => (document.getElementById('pa-text')?.textContent ?? '').startsWith('这是演习。'), undefined, { timeout: 15_000 });
    // ...and so does the audio: "这是演习。This is a drill." right after the chime, before the message.
    const prefix = await new MessageLibrary(findAudioDir(), RATE).message('drill-prefix', ['zh-CN', 'en']);
    const heard = await until(() => {
      const b = captured();
      const x = new Int16Array(b.buffer, b.byteOffset, b.length >> 1).subarray(from);
      return indexOfSamples(x, prefix.subarray(0, RATE)) >= 0;
    }, 20_000, 'the drill prefix in the kiosk\'s audio');
    assert.ok(heard);

    // A real press during the drill: the desk gets a real emergency call.
    await postJson(north.url + 'sim/press', { input: 'emergency', ms: 150 });
    assert.equal(await desk.proc.exited, 0, 'the desk scenario ran');
    const log = readdirSync(desk.dir).filter((f) => f.endsWith('_messages.log')).map((f) => readFileSync(path.join(desk.dir, f), 'utf8')).join('\n');
    assert.match(log, /INVITE sip:/);
    assert.match(log, /X-Helppoint-Category: emergency/);
    assert.doesNotMatch(log, /drill/i, 'nothing in the call says drill');
    const rep = await until(async () => {
      const x = await dispatcher.json<{ timeline: { kind: string; text: string }[] }>(`/api/incidents/${d.id}`);
      return x.timeline.some((t) => t.kind === 'call') ? x : undefined;
    }, 20_000, 'the real call in the drill\'s record');
    assert.match(rep.timeline.find((t) => t.kind === 'call')!.text, /^REAL emergency call placed at conc-north \(not part of the drill\)/);

    // Apart from real incidents.
    assert.ok(!(await dispatcher.json<{ id: string }[]>('/api/incidents?drill=false')).some((x) => x.id === d.id));
    assert.ok((await dispatcher.json<{ id: string }[]>('/api/incidents?drill=true')).some((x) => x.id === d.id));
    assert.equal((await dispatcher.post(`/api/incidents/${d.id}/close`, { summary: 'Drill done.' })).status, 200);
    await page.locator('#drill').waitFor({ state: 'hidden', timeout: 10_000 });
    await sleep(100);
  });
});
