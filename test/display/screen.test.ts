/// <reference lib="dom" />
// The screen in headless Chromium against a kiosk started in-process: the test
// emits on kiosk.bus what the SIP engine and hub link will emit once merged,
// and checks what reaches the bus from the screen.
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { Kiosk } from '../../src/kiosk/app.js';
import type { KioskEvents } from '../../src/core/events.js';
import { launchChromium, openScreen, shot, startKiosk } from './helpers.js';
import { until } from '../helpers/tmp.js';
import en from '../../src/display/i18n/en.json' with { type: 'json' };
import zh from '../../src/display/i18n/zh-CN.json' with { type: 'json' };

function record<K extends keyof KioskEvents & string>(kiosk: Kiosk, event: K): KioskEvents[K][] {
  const got: KioskEvents[K][] = [];
  kiosk.bus.on(event, (p) => got.push(p));
  return got;
}
const text = (page: Page, sel: string) => page.locator(sel).innerText();

describe('touch screen (headless Chromium, in-process kiosk)', function () {
  this.timeout(60_000);
  let kiosk: Kiosk;
  let url: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    ({ kiosk, url } = await startKiosk());
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await kiosk?.stop();
  });
  beforeEach(async () => { page = await openScreen(browser, url); });
  afterEach(async () => { await page?.close(); });

  it('serves the screen at / and refuses other WebSocket paths', async () => {
    const r = await fetch(url);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /<main id="main">/);
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(url.replace('http', 'ws') + 'other');
    await new Promise<void>((resolve) => { ws.on('error', () => resolve()); ws.on('close', () => resolve()); });
  });

  it('Information -> medical emits call.requested; states, ETA, chat both ways and rating', async () => {
    const requested = record(kiosk, 'call.requested');
    const toDesk = record(kiosk, 'chat.toDesk');
    const ratings = record(kiosk, 'call.rating');
    for (const lang of ['en', 'zh-CN'] as const) {
      requested.length = 0;
      await setLang(page, lang);
      await shot(page, `home-${lang}`);
      await page.click('#btn-information');
      await page.click('#cat-medical');
      await until(() => requested.length === 1, 3000, 'call.requested');
      assert.deepEqual(requested[0], { kind: 'information', category: 'medical', source: 'screen' });
      const d = lang === 'en' ? en : zh;
      const callId = `c-${lang}`;
      const seen: string[] = [];
      for (const state of ['calling', 'queued', 'connected'] as const) {
        kiosk.bus.emit('call.state', { callId, kind: 'information', state });
        await page.waitForFunction((s) => document.getElementById('call-state')?.dataset.state === s, state);
        seen.push(await text(page, '#call-state'));
      }
      assert.deepEqual(seen, [d['call.state.calling'], d['call.state.queued'], d['call.state.connected']]);
      assert.equal(await page.locator('#picto-green.on').count(), 1);
      assert.equal(await page.locator('#picto-yellow.on').count(), 1);
      kiosk.bus.emit('desk.info', { callId, etaMin: 4, responder: 'Li Wei' });
      kiosk.bus.emit('chat.fromDesk', { callId, text: 'Stay where you are', at: new Date().toISOString() });
      await page.getByText('Stay where you are').waitFor();
      assert.equal(await text(page, '#desk-eta'), d['desk.eta'].replace('{min}', '4'));
      assert.match(await text(page, '#desk-responder'), /Li Wei/);
      await page.fill('#chat-input', 'I cannot speak, I need a wheelchair');
      await page.click('#chat-send');
      await until(() => toDesk.find((m) => m.text === 'I cannot speak, I need a wheelchair' && m.callId === callId), 3000, 'chat.toDesk');
      await page.locator('#chat-log li.me').waitFor();
      await shot(page, `call-${lang}`);
      kiosk.bus.emit('call.state', { callId, kind: 'information', state: 'ended' });
      await page.locator('#rate-4').waitFor();
      await page.click('#rate-4');
      await until(() => ratings.find((r) => r.callId === callId && r.rating === 4), 3000, 'call.rating');
      await page.locator('#home').waitFor();
    }
  });

  it('Emergency on the screen is the same intent as the GPIO button', async () => {
    const requested = record(kiosk, 'call.requested');
    await page.click('#btn-emergency');
    await until(() => requested.length === 1, 3000, 'call.requested');
    assert.deepEqual(requested[0], { kind: 'emergency', source: 'screen' });
    // It raised an alarm: the screen follows it until it is reset (staff on site here).
    await page.waitForFunction(() => !!document.getElementById('call-state')?.dataset.alarm);
    await kiosk.alarm!.reset(undefined, 'local', 'test over');
    await page.locator('#home').waitFor();
  });

  it('follows the alarm, not its calls: yellow until reset, green while talking, "help is coming" once acknowledged', async () => {
    await setLang(page, 'en');
    const base = { alarmId: 'conc-north-test-0001', kind: 'emergency' as const, source: 'button', raisedAt: new Date().toISOString() };
    const alarm = (state: 'raised' | 'calling' | 'talking' | 'acknowledged' | 'reset', seq: number) =>
      kiosk.bus.emit('alarm.state', { ...base, state, seq, at: new Date().toISOString() });
    const pictos = async () => [await page.locator('#picto-yellow.on').count(), await page.locator('#picto-green.on').count()];
    alarm('raised', 1);
    alarm('calling', 2);
    await page.waitForFunction(() => document.getElementById('call-state')?.dataset.state === 'calling');
    assert.equal(await text(page, '#call-state'), en['alarm.state.calling']);
    assert.deepEqual(await pictos(), [1, 0]);
    // One of its calls ends: the screen stays with the alarm.
    kiosk.bus.emit('call.state', { callId: 'a1', kind: 'emergency', state: 'calling' });
    kiosk.bus.emit('call.state', { callId: 'a1', kind: 'emergency', state: 'failed', reason: '486 Busy Here' });
    alarm('talking', 3);
    await page.waitForFunction(() => document.getElementById('call-state')?.dataset.state === 'talking');
    assert.deepEqual(await pictos(), [1, 1]);
    alarm('acknowledged', 4);
    await page.waitForFunction(() => document.getElementById('call-state')?.dataset.state === 'acknowledged');
    assert.equal(await text(page, '#call-state'), en['alarm.state.acknowledged']);
    assert.deepEqual(await pictos(), [1, 0]);
    await shot(page, 'alarm-acknowledged-en');
    alarm('reset', 5);
    await page.locator('#home').waitFor();
  });

  it('bad messages on the WebSocket are refused and emit nothing', async () => {
    const requested = record(kiosk, 'call.requested');
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(url.replace('http', 'ws') + 'screen/ws');
    const replies: Array<{ type: string; error?: string }> = [];
    ws.on('message', (m) => replies.push(JSON.parse(String(m))));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'call', kind: 'information', category: '<script>' }));
    ws.send('not json');
    ws.send(JSON.stringify({ type: 'chat', text: 'x'.repeat(501) }));
    await until(() => replies.filter((r) => r.type === 'error').length === 3, 3000, 'three refusals');
    assert.ok(replies.filter((r) => r.type === 'error').every((r) => r.error === 'refused' || r.error === 'bad-message'));
    assert.equal(requested.length, 0);
    ws.close();
  });

  it('search draws a route with steps; the step-free route avoids the stairs', async () => {
    for (const lang of ['en', 'zh-CN'] as const) {
      await setLang(page, lang);
      await page.click('#btn-way');
      await page.fill('#way-search', lang === 'en' ? 'platform 2' : '2号站台');
      await page.click('[data-dest="platform-2"]');
      await page.locator('#map polyline.route').waitFor();
      const steps = await page.locator('#way-steps li').allInnerTexts();
      assert.ok(steps.length >= 3, steps.join('|'));
      assert.equal(await page.locator('#way-steps li.stairs').count(), 1);
      await shot(page, `route-${lang}`);
      await page.check('#way-stepfree');
      await page.waitForFunction(() => document.querySelectorAll('#way-steps li.stairs').length === 0);
      const free = await page.locator('#way-steps li').allInnerTexts();
      assert.ok(free.some((s) => s.includes(lang === 'en' ? 'Lift' : '电梯')), free.join('|'));
      await shot(page, `route-stepfree-${lang}`);
      // search by category
      await page.click('#waycat-toilet');
      assert.equal(await page.locator('[data-dest]').count(), 1);
      await page.uncheck('#way-stepfree');
      await page.click('[data-go="home"] >> visible=true');
    }
  });

  it('incident: evacuation route to the nearest unblocked exit within 1 s, then the next one; all-clear returns home', async () => {
    for (const lang of ['en', 'zh-CN'] as const) {
      await setLang(page, lang);
      const text = { en: 'Please leave the station by the nearest exit.', 'zh-CN': '请从最近的出口离开车站。' };
      const t0 = Date.now();
      kiosk.bus.emit('incident.mode', { active: true, kind: 'evacuation', text, blockedExits: [] });
      await page.waitForFunction(() => document.getElementById('incident-follow')?.dataset.exit === 'exit-north', undefined, { timeout: 1000 });
      assert.ok(Date.now() - t0 < 1000);
      assert.equal(await text_(page, '#incident-text'), text[lang]);
      kiosk.bus.emit('drill.mode', { active: true });
      await page.locator('#drill').waitFor();
      await shot(page, `evacuation-${lang}`);
      kiosk.bus.emit('incident.mode', { active: true, kind: 'evacuation', text, blockedExits: ['exit-north'] });
      await page.waitForFunction(() => document.getElementById('incident-follow')?.dataset.exit === 'exit-west', undefined, { timeout: 1000 });
      await shot(page, `evacuation-blocked-${lang}`);
      kiosk.bus.emit('incident.mode', { active: false, kind: 'evacuation' });
      kiosk.bus.emit('drill.mode', { active: false });
      await page.locator('#home').waitFor();
    }
  });

  it('degraded mode shows the approved wording, never the raw reason, and keeps the call buttons', async () => {
    kiosk.bus.emit('hub.link', { connected: false, reason: 'ECONNREFUSED 127.0.0.1:8080' });
    await page.locator('#degraded').waitFor();
    assert.equal(await text(page, '#degraded'), zh['degraded.default']);
    assert.doesNotMatch(await page.locator('body').innerText(), /ECONNREFUSED/);
    assert.ok(await page.locator('#btn-emergency').isVisible());
    kiosk.bus.emit('crowd.level', { level: 'orange' });
    await page.locator('#crowd.orange').waitFor();
    await shot(page, 'degraded-zh-CN');
    kiosk.bus.emit('hub.link', { connected: true });
    kiosk.bus.emit('crowd.level', { level: 'none' });
    await page.locator('#degraded').waitFor({ state: 'hidden' });
  });

  it('the language switch changes every visible string', async () => {
    const visible = async () => page.evaluate(() => {
      const out: string[] = [];
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const el = n.parentElement!;
        // Floor-plan labels are drawn art from the site's SVG, bilingual by design.
        if (el.closest('g.floorplan')) continue;
        if (n.textContent!.trim() && el.checkVisibility()) out.push(n.textContent!.trim());
      }
      return out;
    });
    for (const view of ['#home', '#categories', '#way'] as const) {
      await setLang(page, 'en');
      if (view === '#categories') await page.click('#btn-information');
      if (view === '#way') await page.click('#btn-way');
      const a = await visible();
      await setLang(page, 'zh-CN');
      const b = await visible();
      assert.equal(a.length, b.length);
      // The clock is the only string not from the translation files, and it is language-neutral digits.
      const same = a.filter((s, i) => s === b[i] && !/^\d\d:\d\d$/.test(s));
      assert.deepEqual(same, [], `${view}: strings unchanged by the switch`);
      await page.reload();
      await page.waitForFunction("document.getElementById('site').textContent !== ''");
    }
  });
});

async function setLang(page: Page, lang: 'en' | 'zh-CN'): Promise<void> {
  if ((await page.evaluate(() => document.documentElement.lang)) !== lang) await page.click('#lang');
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}
const text_ = text;
