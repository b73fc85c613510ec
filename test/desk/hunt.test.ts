// Desks and groups by name in a kiosk's hunt list (issue 12): the kiosk's
// first entry is `group:control`, rung at the site SIP server as every
// console desk of the group that is logged in at once; a baresip desk is
// last, as the fallback. Real hub process, kiosk process, Kamailio and
// rtpengine; two dispatchers in headless Chromium.
//   - two dispatchers answer the same alarm: exactly one gets the call, the other sees who;
//   - a tab closed without logging out lets go of its desk at once (not at the session's expiry);
//   - a dispatcher logged out elsewhere (the page still open) is skipped by the hunt at once:
//     the group is refused with 404 and the fallback desk answers, no ring timeout in between.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { stopAll, type Managed } from '../../src/testbed/proc.js';
import { startBaresip, type Baresip } from '../../src/testbed/baresip.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { makeTone } from '../intercom/sox.js';
import type { AlarmRig } from '../alarm/helpers.js';
import { launchDeskBrowser, rtpengineLegs, startMediaBed, type MediaBed } from './helpers.js';
import { deskKiosk, openBoard, startHubProcess } from './hub-bed.js';

const USERS = { 'conc-north': 'kiosk-secret', desk: 'desk-secret', desk2: 'desk2-secret', fallback: 'fallback-secret' };
const RPC_TOKEN = 'hunt-test-rpc-token-0123456789';
const RING_S = 30;

describe('desk hunt: desks and groups by name, two dispatchers, log-out and closed tabs (Chromium, hub, kiosk, Kamailio, rtpengine, baresip)', function () {
  this.timeout(150_000);
  let bed: MediaBed;
  let hub: Managed;
  let base: string;
  let browser: Browser;
  let rig: AlarmRig;
  let fallback: Baresip;

  before(async () => {
    const dir = tmpDir('hp-hunt-');
    const browserWav = makeTone(path.join(dir, 'desk-1k.wav'), 1000, 10, 48000, 0.3);
    const kioskWav = makeTone(path.join(dir, 'kiosk-600.wav'), 600, 120, 8000, 0.3);
    bed = await startMediaBed(USERS, { groups: { control: ['desk', 'desk2'] }, rpcToken: RPC_TOKEN });
    ({ hub, base } = await startHubProcess({
      sip: { wsUrl: bed.wsUrl, domain: '127.0.0.1', rpc: { url: `http://127.0.0.1:${bed.kamailio.wsPort}/RPC`, token: RPC_TOKEN, ha1: false } },
      desks: [
        { id: 'desk', password: 'desk-secret', name: 'Desk 1', groups: ['control'] },
        { id: 'desk2', password: 'desk2-secret', name: 'Desk 2', groups: ['control'] },
      ],
      listenIn: true,
      claimLapseS: 15,
    }));
    fallback = await startBaresip({ user: 'fallback', registrar: { uri: `sip:127.0.0.1:${bed.kamailio.port}`, domain: '127.0.0.1', password: USERS.fallback } });
    await until(async () => /OK/.test((await fallback.command('reginfo')).data), 10_000, 'fallback desk registered');
    const hunt = [
      { uri: 'group:control', ringTimeoutS: RING_S },
      { uri: 'sip:fallback@127.0.0.1', ringTimeoutS: RING_S },
    ];
    rig = await deskKiosk({ base, kamailioPort: bed.kamailio.port, password: USERS['conc-north'], hunt, micWav: kioskWav, capture: path.join(dir, 'kiosk-out.raw'), deskServer: true });
    await hub.waitFor(/kiosk online/, 10_000);
    await until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 15_000, 'kiosk registered');
    browser = await launchDeskBrowser(browserWav);
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !process.env.HP_DEBUG) return;
    console.log('kiosk trail', rig.trail().join(', '));
    console.log('kamailio', bed.kamailio.proc.output().split('\n').filter((l) => /INVITE|group|REGISTER|404|18\d|200/.test(l)).slice(-40).join('\n'));
    for (const p of [a, b]) if (p && !p.isClosed()) console.log('page', await p.evaluate(() => JSON.stringify({ desk: (window as any).board.S.desk, rows: [...(window as any).board.S.rows.keys()], calls: (window as any).board.S.phone?.list().map((c: any) => [c.state, c.headers['x-helppoint-kiosk']]), log: (window as any).board.S.log })));
  });
  after(async () => {
    await browser?.close();
    await fallback?.stop();
    await stopAll();
    await bed?.stop();
  });

  const answerable = (page: Page, ref: string, timeout = 20_000) =>
    page.waitForFunction(
      (r) => {
        const button = document.querySelector(`#board tr[data-ref="${r}"] button[data-act=answer]`) as HTMLButtonElement | null;
        return !!button && !button.disabled;
      },
      ref,
      { timeout },
    );
  const deskOf = (page: Page) => page.evaluate(() => (window as any).board.S.desk as string | null);
  const callStates = (page: Page): Promise<string[]> => page.evaluate(() => ((window as any).board.S.phone?.list() ?? []).map((c: any) => String(c.state)));
  const seats = async (page: Page) => (await page.evaluate(() => fetch('/api/desk/board').then((r) => r.json()))).seats.map((s: any) => s.desk) as string[];
  /** Nth calling transition of the kiosk's alarms so far (0-based), once it exists. */
  const calling = (n: number) => until(() => rig.alarm().filter((a) => a.state === 'calling')[n], 20_000, `calling #${n + 1}`);
  const resetThroughHub = async (page: Page, alarmId: string) => {
    const r = await page.evaluate((id) => (window as any).board.action('reset', id), alarmId);
    void r;
    await rig.waitAlarm((a) => a.alarmId === alarmId && a.state === 'reset', 'reset');
  };

  let a: Page;
  let b: Page;

  it('group:control rings both logged-in dispatchers; both click Answer at once: exactly one gets the call, the other sees who has it', async () => {
    a = await openBoard(browser, base, 'dispatcher', 'dispatcher-demo');
    b = await openBoard(browser, base, 'admin', 'admin-demo');
    assert.deepEqual([await deskOf(a), await deskOf(b)].sort(), ['desk', 'desk2']);

    await rig.press('emergency');
    const raised = await calling(0);
    assert.equal(raised.target, 'group:control');
    // Both desks ring at once (Kamailio forks the group to every registered member).
    await Promise.all([answerable(a, raised.alarmId), answerable(b, raised.alarmId)]);
    // Both click in the same instant (a locator click waits for its own checks, long enough for the first answer to
    // cancel the other page's ringing call first).
    const click = (page: Page) => page.evaluate((ref) => (document.querySelector(`#board tr[data-ref="${ref}"] button[data-act=answer]`) as HTMLButtonElement).click(), raised.alarmId);
    await Promise.all([click(a), click(b)]);

    const talking = await rig.waitAlarm((x) => x.alarmId === raised.alarmId && x.state === 'talking', 'talking');
    assert.equal(talking.attempt, 1);
    // Exactly one page has the call up; the other's ringing call was cancelled when the first answered.
    await until(async () => {
      const [sa, sb] = [await callStates(a), await callStates(b)];
      return sa.filter((s) => s === 'established').length + sb.filter((s) => s === 'established').length === 1 && ![...sa, ...sb].includes('ringing');
    }, 10_000, 'one call up, none ringing');
    const aWon = (await callStates(a)).includes('established');
    const [winner, loser] = aWon ? [a, b] : [b, a];
    const winnerUser = aWon ? 'dispatcher' : 'admin';
    const winnerDesk = await deskOf(winner);
    // The other dispatcher sees who took it: on the row and in the notice line of the failed answer.
    await loser.waitForFunction(
      ([ref, who]) => document.querySelector(`#board tr[data-ref="${ref}"] td.claim`)?.textContent === who,
      [raised.alarmId, `${winnerUser} (${winnerDesk})`] as const,
      { timeout: 10_000 },
    );
    await loser.waitForFunction((who) => ((window as any).board.S.log as string[]).some((l) => l.includes(who)), `taken by ${winnerUser} at ${winnerDesk}`, { timeout: 10_000 });
    // Media flows both ways on the winner's call (the group's one offer, answered by one desk): the page hears
    // the kiosk's 600 Hz, and rtpengine relays the browser's packets to the kiosk.
    const levels = await winner.evaluate(async () => {
      const phone = (window as any).board.S.phone;
      const call = phone.list().find((c: any) => c.state === 'established');
      const meter = await phone.meter(call.id, 'remote');
      const out = [];
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 600));
        out.push(meter.level());
      }
      meter.close();
      return { out: out as { rms: number; frequencyHz: number }[], sipCallId: call.sipCallId as string };
    });
    const loud = levels.out.filter((l) => l.rms > 0.005);
    assert.ok(loud.length >= 3, `the winner hears nothing: ${JSON.stringify(levels.out)}`);
    for (const l of loud) assert.ok(Math.abs(l.frequencyHz - 600) / 600 <= 0.05, `heard ${l.frequencyHz} Hz`);
    const legs = await rtpengineLegs(bed, levels.sipCallId);
    const browserLeg = legs.find((l) => l.protocol === 'RTP/SAVPF');
    assert.ok(browserLeg && browserLeg.packets > 50, `rtpengine got too little from the browser: ${JSON.stringify(legs)}`);
    assert.equal((await loser.evaluate(() => (window as any).board.S.phone.list().filter((c: any) => c.state === 'established').length)), 0);

    // The winner acknowledges on the call and resets through the hub: the alarm is closed for the next tests.
    await winner.locator(`#board tr[data-ref="${raised.alarmId}"] button[data-act=ack]`).click();
    await rig.waitAlarm((x) => x.alarmId === raised.alarmId && x.state === 'acknowledged', 'acknowledged');
    await winner.locator(`#board tr[data-ref="${raised.alarmId}"] button[data-act=hangup]`).click();
    await until(() => rig.events().some((e) => e.type === 'call.state' && e.data.callId === talking.callId && e.data.state === 'ended'), 10_000, 'call ended');
    await resetThroughHub(winner, raised.alarmId);
  });

  it('a tab closed without logging out lets go of its desk at once; the group then rings only the desk still open', async () => {
    const goneDesk = await deskOf(b);
    const t0 = Date.now();
    await b.context().close();
    await until(async () => !(await seats(a)).includes(goneDesk!), 10_000, 'the closed tab\'s desk let go');
    const releasedMs = Date.now() - t0;
    // The grace for a reload is 3 s; a session lives for hours (console.sessionTtlS).
    assert.ok(releasedMs < 8000, `the desk was let go only after ${releasedMs} ms`);
    await until(() => new RegExp(`"desk":"${goneDesk}".*"why":"page closed"`).test(hub.output()), 5000, 'the hub saying why');

    const before = rig.alarm().filter((x) => x.state === 'calling').length;
    await rig.press('emergency');
    const raised = await calling(before);
    await answerable(a, raised.alarmId);
    await a.locator(`#board tr[data-ref="${raised.alarmId}"] button[data-act=answer]`).click();
    const talking = await rig.waitAlarm((x) => x.alarmId === raised.alarmId && x.state === 'talking', 'talking');
    assert.equal(talking.attempt, 1, rig.trail().join(', '));
    await a.locator(`#board tr[data-ref="${raised.alarmId}"] button[data-act=hangup]`).click();
    await resetThroughHub(a, raised.alarmId);
  });

  it('a dispatcher logged out elsewhere (page still open) is skipped at once: 404 for the group, the fallback desk answers', async () => {
    // Log out the page's session from outside the page (another tab, an admin): the hub lets go of the desk,
    // removes its registration at the SIP server and ends the page's stream; the page stops its phone.
    const csrf = await a.evaluate(() => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content);
    const r = await a.context().request.post(base + '/logout', { headers: { 'x-csrf-token': csrf, accept: 'application/json' }, maxRedirects: 0 });
    assert.ok(r.status() < 400, `logout: ${r.status()}`);
    await until(() => /desk registration removed at the SIP server/.test(hub.output()), 10_000, 'the hub removed the registration');
    await a.waitForFunction(() => (window as any).board.S.phone === null, undefined, { timeout: 10_000 });

    const before = rig.alarm().filter((x) => x.state === 'calling').length;
    await rig.press('emergency');
    const first = await calling(before);
    assert.equal(first.target, 'group:control');
    const second = await until(() => rig.alarm().filter((x) => x.alarmId === first.alarmId && x.state === 'calling')[1], 15_000, 'the hunt moving on');
    assert.equal(second.target, 'sip:fallback@127.0.0.1');
    assert.match(second.reason ?? '', /^404/, rig.trail().join(', '));
    const skippedMs = Date.parse(second.at) - Date.parse(first.at);
    assert.ok(skippedMs < RING_S * 1000 / 3, `the group was skipped only after ${skippedMs} ms (ring timeout ${RING_S} s)`);
    const talking = await rig.waitAlarm((x) => x.alarmId === first.alarmId && x.state === 'talking', 'talking with the fallback');
    assert.equal(talking.target, 'sip:fallback@127.0.0.1');
  });
  it('listen-in where the site allows it (desk.listenIn): the kiosk answers the desk\'s call, the desk\'s microphone stays off', async () => {
    // The alarm of the last test talks with the fallback desk; it ends by a reset, then a new alarm is acknowledged through the hub.
    const page = await openBoard(browser, base, 'dispatcher', 'dispatcher-demo');
    const open = rig.alarm().at(-1)!;
    await page.evaluate((id) => (window as any).board.action('reset', id), open.alarmId);
    await rig.waitAlarm((x) => x.alarmId === open.alarmId && x.state === 'reset', 'reset');
    const before = rig.alarm().filter((x) => x.state === 'calling').length;
    await rig.press('emergency');
    const raised = await calling(before);
    await answerable(page, raised.alarmId);
    await page.evaluate((id) => (window as any).board.action('ack', id), raised.alarmId); // through the hub: ringing, no call up
    await rig.waitAlarm((x) => x.alarmId === raised.alarmId && x.state === 'acknowledged', 'acknowledged');
    const row = page.locator(`#board tr[data-ref="${raised.alarmId}"]`);
    // The call still rings (an acknowledged alarm's call may still be taken); decline it: acknowledged, it is not re-sent.
    await row.locator('button[data-act=hangup]').click();
    await until(async () => (await callStates(page)).length === 0, 10_000, 'the ringing call gone');
    await page.waitForFunction((ref) => {
      const b = document.querySelector(`#board tr[data-ref="${ref}"] button[data-act=listen]`) as HTMLButtonElement | null;
      return !!b && !b.disabled;
    }, raised.alarmId, { timeout: 10_000 });
    const incoming = () => rig.events().filter((e) => e.type === 'call.state' && e.data.incoming && e.data.state === 'connected').length;
    const n0 = incoming();
    await row.locator('button[data-act=listen]').click();
    await until(() => incoming() > n0, 15_000, 'the kiosk answered the listen-in call');
    await until(async () => (await callStates(page)).includes('established'), 10_000, 'listen-in established');
    const mic = await page.evaluate(() => {
      const phone = (window as any).board.S.phone;
      const call = phone.list().find((c: any) => c.state === 'established');
      return { muted: call.muted as boolean };
    });
    assert.equal(mic.muted, true);
    await row.locator('button[data-act=hangup]').click();
    await until(async () => (await callStates(page)).length === 0, 10_000, 'listen-in over');
    await page.evaluate((id) => (window as any).board.action('reset', id), raised.alarmId);
    await rig.waitAlarm((x) => x.alarmId === raised.alarmId && x.state === 'reset', 'reset');
  });
});
