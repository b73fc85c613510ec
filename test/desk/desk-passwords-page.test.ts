// Per-session desk SIP passwords as the dispatcher sees them (Chromium, hub,
// the test bed's Kamailio): the desk page's phone registers with the
// session's password, registers again by itself after a Kamailio restart
// (once the hub has set the password again), and a desk taken while the
// SIP server's RPC is down says why there is no phone.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runKamailio, startKamailio, type Kamailio } from '../../src/testbed/kamailio.js';
import { stopAll, type Managed } from '../../src/testbed/proc.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { makeTone } from '../intercom/sox.js';
import { launchDeskBrowser, registeredContacts, type MediaBed } from './helpers.js';
import { openBoard, startHubProcess } from './hub-bed.js';
import { sipRegister } from './sip-register.js';

const RPC_TOKEN = 'desk-passwords-page-rpc-token-0123';

describe('desk SIP passwords per session on the desk page (Chromium, hub, Kamailio)', function () {
  this.timeout(120_000);
  let kam: Kamailio;
  let hub: Managed;
  let base: string;
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    kam = await startKamailio({ users: { desk: 'desk-static-secret' }, rpcToken: RPC_TOKEN });
    ({ hub, base } = await startHubProcess({
      sip: { wsUrl: `ws://127.0.0.1:${kam.wsPort}/`, domain: '127.0.0.1', rpc: { url: `http://127.0.0.1:${kam.wsPort}/RPC`, token: RPC_TOKEN, ha1: false } },
      desks: [{ id: 'desk', name: 'Desk 1' }],
      listenIn: false,
      claimLapseS: 15,
    }));
    browser = await launchDeskBrowser(makeTone(path.join(tmpDir('hp-deskpw-'), 'mic.wav'), 1000, 5, 48000, 0.3));
  });
  after(async () => {
    await browser?.close();
    await stopAll();
  });

  it('the page registers with its session\'s password, and again by itself after a Kamailio restart', async () => {
    page = await openBoard(browser!, base);
    const password = await page.evaluate(() => (window as any).board.S.phone.cfg.password as string);
    assert.ok(password && password !== 'desk-static-secret');
    assert.equal(await sipRegister({ port: kam.port, user: 'desk', password: 'desk-static-secret' }), 401);

    await page.evaluate(() => {
      const w = window as any;
      w.regEvents = [];
      w.board.S.phone.on('registered', (e: unknown) => w.regEvents.push(e));
    });
    await kam.stop();
    await page.waitForFunction(() => (window as any).regEvents.some((e: any) => e.reason === 'connection lost'), undefined, { timeout: 10_000 });
    kam = { ...kam, ...(await runKamailio(kam.config, kam.wsPort)) };
    const t0 = Date.now();
    // The phone reconnects with back-off; its REGISTER works once the hub has set the password again (within 5 s):
    // the registrar holds the page's contact again.
    await until(async () => (await registeredContacts({ kamailio: kam } as MediaBed, RPC_TOKEN, 'desk')).length === 1, 40_000, 'the page registered again');
    console.log(`      registered again ${Date.now() - t0} ms after the restart; the page's phone events: ${JSON.stringify(await page.evaluate(() => (window as any).regEvents))}`);
    assert.equal(await sipRegister({ port: kam.port, user: 'desk', password: 'desk-static-secret' }), 401, 'the static account stays locked');
    assert.match(hub.output(), /desk password set again at the SIP server/);
  });

  it('a desk taken while the SIP server\'s RPC is down: the page says why it has no phone', async () => {
    await kam.stop();
    await page.reload();
    await page.waitForFunction(() => ((window as any).board?.S.log as string[] | undefined)?.some((l) => l.startsWith('no desk:')), undefined, { timeout: 15_000 });
    const log = (await page.evaluate(() => (window as any).board.S.log)) as string[];
    const line = log.find((l) => l.startsWith('no desk:'))!;
    assert.match(line, /no desk: the SIP server did not take a new password for desk desk/, line);
    assert.equal(await page.evaluate(() => (window as any).board.S.phone), null, 'no phone started');
    assert.equal(await page.textContent('#notice'), line);
  });
});
