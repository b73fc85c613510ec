// The production template of the site's SIP server (device/sip-server/):
// it is what the generator makes from the tested routing, and it runs: on
// loopback with a throw-away certificate and HA1 accounts, a browser desk
// registers over WSS, a kiosk over UDP calls it, and the desk hears the kiosk.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { productionKamailioCfg } from '../../src/sipserver/production.js';
import { runKamailio } from '../../src/testbed/kamailio.js';
import { startRtpengine } from '../../src/testbed/rtpengine.js';
import { freePort } from '../../src/testbed/ports.js';
import { stopAll } from '../../src/testbed/proc.js';
import { REPO } from '../helpers/processes.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { callRig } from '../intercom/helpers.js';
import { makeTone } from '../intercom/sox.js';
import { launchDeskBrowser, openDesk, serveDeskPage } from '../desk/helpers.js';
import { startHubProcess } from '../desk/hub-bed.js';
import { sipRegister } from '../desk/sip-register.js';
import { consoleLogin } from '../helpers/console.js';

const RPC_TOKEN = 'production-template-test-rpc-token-0123';

/** A JSON-RPC POST over HTTP or HTTPS (the throw-away certificate is not checked). */
function rpcPost(url: string, token: string, body: unknown): Promise<{ status: number; body: string }> {
  const data = JSON.stringify(body);
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: 'POST', rejectUnauthorized: false, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), 'x-helppoint-rpc': token } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${url}: no reply in 5 s`)));
    req.end(data);
  });
}

const ha1 = (user: string, realm: string, password: string) => createHash('md5').update(`${user}:${realm}:${password}`).digest('hex');

/**
 * The template on loopback with a throw-away certificate and HA1 accounts (users.cfg: the kiosk conc-north with
 * kiosk-secret, the desk with desk-secret), with an rtpengine of its own.
 */
async function startTemplate(): Promise<{ dir: string; realm: string; sip: number; wss: number; rpcPort: number }> {
  const dir = tmpDir('hp-sipserver-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  writeFileSync(
    path.join(dir, 'tls.cfg'),
    `[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\nprivate_key = ${dir}/key.pem\ncertificate = ${dir}/cert.pem\n`,
  );
  const realm = '127.0.0.1';
  writeFileSync(
    path.join(dir, 'users.cfg'),
    `event_route[htable:mod-init] {\n  $sht(users=>conc-north) = "${ha1('conc-north', realm, 'kiosk-secret')}";\n  $sht(users=>desk) = "${ha1('desk', realm, 'desk-secret')}";\n}\n`,
  );
  const rtpengine = await startRtpengine();
  const [sip, sips, wss, rpcPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const cfg = productionKamailioCfg({
    site: { SIP_IP: '127.0.0.1', SIP_DOMAIN: realm, SIP_PORT: String(sip), SIPS_PORT: String(sips), WSS_PORT: String(wss), RTPENGINE_SOCK: rtpengine.sock, RPC_IP: '127.0.0.1', RPC_PORT: String(rpcPort), RPC_TOKEN: RPC_TOKEN },
    tlsConfig: path.join(dir, 'tls.cfg'),
    usersFile: path.join(dir, 'users.cfg'),
  });
  await runKamailio(cfg, wss);
  return { dir, realm, sip, wss, rpcPort };
}

describe('SIP server production template (device/sip-server)', function () {
  this.timeout(90_000);
  let browser: Browser | undefined;
  let site: { url: string; close(): Promise<void> } | undefined;
  after(async () => {
    await browser?.close();
    await site?.close();
    await stopAll();
  });

  it('is generated from the routing the tests run (npx tsx scripts/gen-sip-server.ts)', () => {
    assert.equal(readFileSync(path.join(REPO, 'device/sip-server/kamailio.cfg'), 'utf8'), productionKamailioCfg());
  });

  it('runs: a browser desk over WSS with HA1 credentials answers a kiosk calling over UDP, through rtpengine', async () => {
    const { dir, realm, sip, wss, rpcPort } = await startTemplate();

    site = await serveDeskPage();
    browser = await launchDeskBrowser(makeTone(path.join(dir, 'desk-1k.wav'), 1000, 10, 48000, 0.3));
    const desk = await openDesk(browser, site.url, { wsUrl: `wss://127.0.0.1:${wss}/`, user: 'desk', password: 'desk-secret', ignoreHTTPSErrors: true });
    const target = [{ uri: 'sip:desk@127.0.0.1', ringTimeoutS: 30 }];
    const rig = await callRig({
      sip: {
        account: { user: 'conc-north', password: 'kiosk-secret', domain: realm, registrars: [{ uri: `sip:127.0.0.1:${sip}`, transport: 'udp' }] },
        targets: { emergency: target, information: target },
      },
      // Hands-free processing off: a steady tone is noise to the suppressor, and double talk to the
      // residual echo suppressor (see test/desk/browser-kiosk.test.ts).
      audio: { input: { source: 'file', file: makeTone(path.join(dir, 'kiosk-600.wav'), 600, 30, 8000, 0.3) }, output: { sink: 'null' }, volume: 1, handsFree: { mode: 'off' } },
    });
    try {
      await until(() => rig.events().some((e) => e.type === 'sip.registration' && e.data.registered), 15_000, 'kiosk registered');
      await rig.press('emergency');
      const { id } = await desk.waitEvent('incoming');
      await desk.page.evaluate((c) => (window as any).phone.answer(c), id);
      await desk.waitEvent('established');
      await rig.waitState('connected', 10_000);
      const level = await desk.page.evaluate(async (c) => {
        const m = await (window as any).phone.meter(c, 'remote');
        await new Promise((r) => setTimeout(r, 1500));
        return m.level();
      }, id);
      // Above silence at the right frequency; the level: see test/desk/browser-kiosk.test.ts (assertTone).
      assert.ok(level.rms > 0.005 && Math.abs(level.frequencyHz - 600) / 600 <= 0.05, JSON.stringify(level));
      await desk.page.evaluate((c) => (window as any).phone.hangup(c), id);
      await rig.waitState('ended', 10_000);

      // The hub's JSON-RPC (desk.sip.rpc): only on the internal RPC port and only with the token; there it removes
      // a desk's registration (what the hub does when its dispatcher logs out), and the next call finds nobody.
      const lookup = { jsonrpc: '2.0', method: 'ul.lookup', params: ['location', 'desk@127.0.0.1'], id: 1 };
      assert.equal((await rpcPost(`http://127.0.0.1:${rpcPort}/RPC`, 'wrong-token', lookup)).status, 403);
      assert.equal((await rpcPost(`https://127.0.0.1:${wss}/RPC`, RPC_TOKEN, lookup)).status, 403, 'not on the public WSS port');
      assert.equal((await rpcPost(`http://127.0.0.1:${sip}/RPC`, RPC_TOKEN, lookup)).status, 403, 'not on the SIP TCP port');
      const found = await rpcPost(`http://127.0.0.1:${rpcPort}/RPC`, RPC_TOKEN, lookup);
      assert.equal(found.status, 200);
      assert.match(found.body, /"Contacts"/, found.body);
      const rm = await rpcPost(`http://127.0.0.1:${rpcPort}/RPC`, RPC_TOKEN, { jsonrpc: '2.0', method: 'ul.rm', params: ['location', 'desk@127.0.0.1'], id: 2 });
      assert.equal(rm.status, 200);
      assert.doesNotMatch(rm.body, /"error"/, rm.body);
      assert.doesNotMatch((await rpcPost(`http://127.0.0.1:${rpcPort}/RPC`, RPC_TOKEN, lookup)).body, /"Contacts"/);
    } finally {
      await desk.close();
      await rig.kiosk.stop();
    }
  });
  it('takes the hub\'s per-session desk passwords as HA1 (desk.sip.rpc): the session\'s password registers, the static one and, after log-out, the session\'s are refused', async () => {
    const { realm, sip, wss, rpcPort } = await startTemplate();
    const { hub, base } = await startHubProcess({
      sip: { wsUrl: `wss://127.0.0.1:${wss}/`, domain: realm, rpc: { url: `http://127.0.0.1:${rpcPort}/RPC`, token: RPC_TOKEN } },
      desks: [{ id: 'desk', name: 'Desk 1' }],
      listenIn: false,
      claimLapseS: 15,
    });
    const register = (password: string) => sipRegister({ port: sip, user: 'desk', password, domain: realm });
    await until(async () => (await register('desk-secret')) === 401 || (await sleep(200), false), 8000, 'the static desk account locked by the hub');
    const s = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const seat = (await (await s.post('/api/desk/seat', {})).json()) as { sip: { user: string; password: string } };
    assert.equal(seat.sip.user, 'desk');
    assert.equal(await register(seat.sip.password), 200);
    // The users table holds the HA1 hash the template authenticates with, never the password itself.
    const got = await rpcPost(`http://127.0.0.1:${rpcPort}/RPC`, RPC_TOKEN, { jsonrpc: '2.0', method: 'htable.get', params: ['users', 'desk'], id: 3 });
    assert.equal((JSON.parse(got.body) as { result: { item: { value: string } } }).result.item.value, ha1('desk', realm, seat.sip.password));
    assert.equal((await s.post('/logout', {})).status, 200);
    assert.equal(await register(seat.sip.password), 401);
    assert.doesNotMatch(hub.output(), /desk password not set/);
  });
});
