// Listening to a call another desk answered (desk.listenIn + desk.rtpengine):
// a real hub, a real kiosk process, Kamailio, rtpengine and two desk pages in
// headless Chromium. Dispatcher A answers the press; admin B clicks Listen and
// hears both sides through rtpengine's copy of the call (ng subscribe), while
// the kiosk sees nothing new: still its one call, no INVITE at the SIP server.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { stopAll, type Managed } from '../../src/testbed/proc.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { makeTone } from '../intercom/sox.js';
import type { AlarmRig } from '../alarm/helpers.js';
import { consoleLogin } from '../helpers/console.js';
import { launchDeskBrowser, startMediaBed, type MediaBed } from './helpers.js';
import { DESK_SECTION, deskKiosk, openBoard, startHubProcess } from './hub-bed.js';

const USERS = { 'conc-north': 'kiosk-secret', desk: 'desk-secret', desk2: 'desk2-secret' };
const RPC_TOKEN = 'listen-in-test-token-0123456789';

/** INVITEs the site SIP server received so far (Kamailio's core statistics over its JSON-RPC). */
async function invitesAtSipServer(bed: MediaBed): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${bed.kamailio.wsPort}/RPC`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-helppoint-rpc': RPC_TOKEN },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'stats.get_statistics', params: ['all'], id: 1 }),
  });
  const body = (await r.json()) as { result?: string[]; error?: { message?: string } };
  const line = body.result?.find((l) => /rcv_requests_invite\b/.test(l));
  if (!line) throw new Error(`no INVITE count from Kamailio: ${JSON.stringify(body).slice(0, 2000)}`);
  return Number(line.split('=')[1]!.trim());
}

/** Level and frequency of one side of B's listen-in, over a few windows. */
function hear(page: Page, ref: string, side: number) {
  return page.evaluate(
    async ({ ref, side }) => {
      const l = (window as any).board.S.listening.get(ref).listener;
      const meter = l.meter(side);
      const out = [];
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 600));
        out.push(meter.level());
      }
      meter.close();
      return out as { rms: number; frequencyHz: number }[];
    },
    { ref, side },
  );
}

describe('desk page: an admin listens to a call another desk answered (Chromium, hub, kiosk, Kamailio, rtpengine)', function () {
  this.timeout(150_000);
  let bed: MediaBed;
  let hub: Managed;
  let base: string;
  let browser: Browser;
  let rig: AlarmRig;

  before(async () => {
    const dir = tmpDir('hp-listen-');
    const browserWav = makeTone(path.join(dir, 'desk-1k.wav'), 1000, 10, 48000, 0.3);
    const kioskWav = makeTone(path.join(dir, 'kiosk-600.wav'), 600, 60, 8000, 0.3);
    bed = await startMediaBed(USERS, { rpcToken: RPC_TOKEN });
    ({ hub, base } = await startHubProcess({ ...DESK_SECTION(bed.wsUrl), listenIn: true, rtpengine: { ng: `${bed.rtpengine.host}:${bed.rtpengine.ngPort}` } }));
    rig = await deskKiosk({ base, kamailioPort: bed.kamailio.port, password: USERS['conc-north'], hunt: [{ uri: 'sip:desk@127.0.0.1', ringTimeoutS: 30 }], micWav: kioskWav, capture: path.join(dir, 'kiosk-out.raw') });
    await hub.waitFor(/kiosk online/, 10_000);
    await until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 15_000, 'kiosk registered');
    browser = await launchDeskBrowser(browserWav);
  });
  after(async () => {
    await browser?.close();
    await stopAll();
    await bed?.stop();
  });

  it('B hears the kiosk and desk A; the kiosk sees no new call or INVITE; Stop ends it; audited and in the history', async () => {
    const a = await openBoard(browser, base); // dispatcher at desk "desk"
    const b = await openBoard(browser, base, 'admin', 'admin-demo'); // at desk2
    await rig.press('emergency');
    const raised = await rig.waitAlarm((x) => x.state === 'calling', 'calling');
    const ref = raised.alarmId;
    const listenPost = (p: Page) => p.evaluate(async (ref) => {
      const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content;
      const r = await fetch(`/api/desk/alarms/${ref}/listen`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' });
      return { status: r.status, body: await r.json() };
    }, ref);

    // No desk answered yet: nothing to listen to, and no Listen button.
    await b.locator(`#board tr[data-ref="${ref}"]`).waitFor({ timeout: 10_000 });
    const early = await listenPost(b);
    assert.equal(early.status, 409, JSON.stringify(early));
    assert.match(early.body.error, /no desk is talking/);
    assert.equal(await b.locator(`#board tr[data-ref="${ref}"] button[data-act=listencall]`).count(), 0);

    // Desk A answers.
    await a.waitForFunction((ref) => !(document.querySelector(`#board tr[data-ref="${ref}"] button[data-act=answer]`) as HTMLButtonElement | null)?.disabled, ref, { timeout: 15_000 });
    await a.locator(`#board tr[data-ref="${ref}"] button[data-act=answer]`).click();
    const talking = await rig.waitAlarm((x) => x.state === 'talking', 'talking');
    // A dispatcher (A itself) may not listen: admin only.
    const byDispatcher = await listenPost(a);
    assert.equal(byDispatcher.status, 403, JSON.stringify(byDispatcher));
    assert.match(byDispatcher.body.error, /admin role needed/);
    assert.equal(await a.locator(`#board tr[data-ref="${ref}"] button[data-act=listencall]`).count(), 0, 'no Listen button for a dispatcher');

    // B's row offers Listen once the claim is confirmed (the alarm talks to desk A).
    const listen = b.locator(`#board tr[data-ref="${ref}"] button[data-act=listencall]`);
    await listen.waitFor({ timeout: 10_000 });
    await sleep(1000);
    const callEventsBefore = rig.events().filter((e) => e.type.startsWith('call.') && e.type !== 'call.media').length;
    const invitesBefore = await invitesAtSipServer(bed);
    await listen.click();
    await b.waitForFunction(() => /^(not )?listening/.test(document.getElementById('notice')!.textContent ?? ''), undefined, { timeout: 10_000 });
    assert.match((await b.locator('#notice').textContent())!, /^listening to conc-north and desk desk \(they do not hear you\)$/);

    // B hears the kiosk's 600 Hz (side 0) and desk A's microphone, the fake 1 kHz (side 1).
    const kioskSide = await hear(b, ref, 0);
    const loud = kioskSide.filter((l) => l.rms > 0.005);
    assert.ok(loud.length >= 3, `B hears nothing of the kiosk: ${JSON.stringify(kioskSide)}`);
    for (const l of loud) assert.ok(Math.abs(l.frequencyHz - 600) / 600 <= 0.05, `B heard ${l.frequencyHz} Hz from the kiosk`);
    const deskSide = await hear(b, ref, 1);
    const loudDesk = deskSide.filter((l) => l.rms > 0.005);
    assert.ok(loudDesk.length >= 3, `B hears nothing of desk A: ${JSON.stringify(deskSide)}`);
    for (const l of loudDesk) assert.ok(Math.abs(l.frequencyHz - 1000) / 1000 <= 0.05, `B heard ${l.frequencyHz} Hz from desk A`);
    // The stream B plays goes to an <audio> element per side.
    assert.equal(await b.locator('audio[data-listen]').count(), 2);
    // The page's speaker choice applies to what B hears, at once and to the next listen-in.
    const sinks = () => b.evaluate(() => Array.from(document.querySelectorAll<HTMLAudioElement & { sinkId: string }>('audio[data-listen]')).map((a) => a.sinkId));
    await b.waitForFunction(() => (document.getElementById('spk-select') as HTMLSelectElement).options.length > 2, undefined, { timeout: 5000 });
    const speaker = await b.evaluate(() => Array.from((document.getElementById('spk-select') as HTMLSelectElement).options).map((o) => o.value).find((v) => v && v !== 'default')!);
    await b.selectOption('#spk-select', speaker);
    await b.waitForFunction(() => /^speaker: /.test(document.getElementById('notice')!.textContent ?? ''), undefined, { timeout: 5000 });
    assert.deepEqual(await sinks(), [speaker, speaker]);

    // The kiosk saw nothing: no call event, still its one call talking; the SIP server got no INVITE.
    assert.equal(rig.events().filter((e) => e.type.startsWith('call.') && e.type !== 'call.media').length, callEventsBefore, 'no new call event at the kiosk');
    assert.equal(rig.alarm().at(-1)!.state, 'talking');
    assert.equal(await invitesAtSipServer(bed), invitesBefore, 'no INVITE (nor re-INVITE) while listening');
    // rtpengine: the call has B's subscription beside its two sides.
    const sipCallId1: string = await a.evaluate(() => (window as any).board.S.phone.list()[0].sipCallId);
    const q = (await bed.rtpengine.ng.request('query', { 'call-id': sipCallId1 })) as any;
    const subscribers = Object.values(q.tags as Record<string, any>).filter((t) => t.subscriptions?.some((s: any) => s.type === 'pub/sub'));
    assert.equal(subscribers.length, 1, JSON.stringify(Object.keys(q.tags)));

    // Stop: B's audio ends, the subscription goes at rtpengine; A and the kiosk talk on.
    await b.locator(`#board tr[data-ref="${ref}"] button[data-act=unlisten]`).click();
    assert.equal(await b.locator('audio[data-listen]').count(), 0);
    assert.equal(await b.evaluate(() => (window as any).board.S.listening.size), 0);
    await until(async () => {
      const q2 = (await bed.rtpengine.ng.request('query', { 'call-id': sipCallId1 })) as any;
      return Object.values(q2.tags as Record<string, any>).every((t) => !t.subscriptions?.some((s: any) => s.type === 'pub/sub'));
    }, 5000, 'the subscription gone at rtpengine');
    assert.equal(rig.alarm().at(-1)!.state, 'talking');
    assert.ok(await b.locator(`#board tr[data-ref="${ref}"] button[data-act=listencall]`).count(), 'Listen is offered again');

    // Listening again, then desk A hangs up: B's listen-in ends by itself.
    await b.locator(`#board tr[data-ref="${ref}"] button[data-act=listencall]`).click();
    await b.waitForFunction(() => /^listening to /.test(document.getElementById('notice')!.textContent ?? ''), undefined, { timeout: 10_000 });
    await b.waitForFunction(() => document.querySelectorAll('audio[data-listen]').length === 2, undefined, { timeout: 5000 });
    assert.deepEqual(await sinks(), [speaker, speaker]);
    await a.locator(`#board tr[data-ref="${ref}"] button[data-act=hangup]`).click();
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.callId === talking.callId && e.data.state === 'ended'), 10_000, 'call ended');
    await b.waitForFunction(() => (window as any).board.S.listening.size === 0, undefined, { timeout: 10_000 });
    assert.equal(await b.locator('audio[data-listen]').count(), 0);

    // (the hub records that end itself, before the kiosk's next attempt is answered)
    const reader = await consoleLogin(base, 'admin', 'admin-demo');
    const stopsInHistory = async () =>
      (await reader.json<{ entries: { type: string; alarmId: string }[] }>('/api/desk/kiosks/conc-north/history')).entries.filter((x) => x.alarmId === ref && x.type === 'desk.stop listening').length;
    await until(async () => (await stopsInHistory()) === 2, 10_000, 'the second listen-in ended at the hub');

    // Desk A answers the kiosk's next attempt; B listens once more and logs out: the hub ends it.
    await a.waitForFunction((ref) => !(document.querySelector(`#board tr[data-ref="${ref}"] button[data-act=answer]`) as HTMLButtonElement | null)?.disabled, ref, { timeout: 20_000 });
    await a.locator(`#board tr[data-ref="${ref}"] button[data-act=answer]`).click();
    await b.locator(`#board tr[data-ref="${ref}"] button[data-act=listencall]`).waitFor({ timeout: 15_000 });
    await b.locator(`#board tr[data-ref="${ref}"] button[data-act=listencall]`).click();
    await b.waitForFunction(() => /^listening to /.test(document.getElementById('notice')!.textContent ?? ''), undefined, { timeout: 10_000 });
    // A acknowledges in the call: the call goes on, and so does B's listening.
    await a.locator(`#board tr[data-ref="${ref}"] button[data-act=ack]`).click();
    await rig.waitAlarm((x) => x.state === 'acknowledged', 'acknowledged');
    await sleep(3000); // more than one of the hub's checks
    assert.equal(await b.evaluate(() => (window as any).board.S.listening.size), 1);
    assert.equal(await stopsInHistory(), 2);
    const afterAck = (await hear(b, ref, 0)).filter((l) => l.rms > 0.005);
    assert.ok(afterAck.length >= 3 && afterAck.every((l) => Math.abs(l.frequencyHz - 600) / 600 <= 0.05), JSON.stringify(afterAck));
    await b.evaluate(async () => {
      const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content;
      await fetch('/logout', { method: 'POST', headers: { 'x-csrf-token': csrf } });
    });

    // The kiosk's history lists who listened; the audit from when to when, and why it ended.
    let last: unknown;
    const history = await until(async () => {
      const r = await reader.json<{ entries: { type: string; summary: string; alarmId: string; data: any }[] }>('/api/desk/kiosks/conc-north/history');
      const e = r.entries.filter((x) => x.alarmId === ref);
      last = e;
      return e.filter((x) => x.type === 'desk.stop listening').length >= 3 ? e : undefined;
    }, 10_000, 'three listen-ins ended in the history').catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(last)}`);
    });
    const started = history.filter((x) => x.type === 'desk.listen to call');
    assert.equal(started.length, 3);
    assert.match(started[0]!.summary, /^admin at desk2: listen to call$/);
    assert.equal(started[0]!.data.answeredBy, 'desk');
    const whys = history.filter((x) => x.type === 'desk.stop listening').map((x) => x.data.why).sort();
    assert.deepEqual(whys, ['call ended', 'logged out', 'stopped']);
    assert.ok(history.find((x) => x.type === 'desk.stop listening' && x.data.why === 'logged out')!.data.seconds >= 3, 'the third lasted through the acknowledgement');
    const stops = (await reader.json<{ user: string; action: string; target: string; detail: any }[]>('/api/audit?action=desk.listen.stop')).filter(
      (x) => x.action === 'desk.listen.stop',
    );
    assert.equal(stops.length, 3, JSON.stringify(stops));
    for (const s of stops) {
      assert.equal(s.user, 'admin');
      assert.equal(s.target, 'conc-north');
      assert.equal(s.detail.alarmId, ref);
      assert.ok(Date.parse(s.detail.from) > 0 && typeof s.detail.seconds === 'number', JSON.stringify(s.detail));
    }
    // The first one lasted through both measurements (about 5 s).
    assert.ok(stops.find((s) => s.detail.why === 'stopped')!.detail.seconds >= 3, JSON.stringify(stops));
    // Nothing is left subscribed at rtpengine.
    const sipCallId = await a.evaluate(() => (window as any).board.S.phone.list().find((c: any) => c.state === 'established').sipCallId);
    const q3 = (await bed.rtpengine.ng.request('query', { 'call-id': sipCallId })) as any;
    assert.ok(Object.values(q3.tags as Record<string, any>).every((t) => !t.subscriptions?.some((s: any) => s.type === 'pub/sub')), 'no subscription left');
  });
});
