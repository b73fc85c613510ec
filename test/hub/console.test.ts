import { strict as assert } from 'node:assert';
import path from 'node:path';
import WebSocket from 'ws';
import { loadHubConfig } from '../../src/config/load.js';
import { Hub } from '../../src/hub/app.js';
import { EXAMPLE } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';
import pino from 'pino';
import { consoleLogin } from '../helpers/console.js';
import { engines } from './harness.js';

for (const engine of engines()) {
  describe(`hub: console log-in and kiosk authentication (${engine.name})`, function () {
    this.timeout(60_000); // the hub's first start makes its database
    let hub: Hub;
    let base: string;
    before(async () => {
      const { config, dir } = loadHubConfig(path.join(EXAMPLE, 'hub.json'));
      config.dataDir = tmpDir('hp-hub-'); // the hub's event store, fresh for each run
      hub = new Hub({ config, configDir: dir, port: 0, databaseUrl: await engine.fresh(), logDestination: pino.destination('/dev/null') });
      await hub.start();
      base = `http://127.0.0.1:${hub.port}`;
    });
    after(() => hub.stop());

    it('serves the log-in page and hides the fleet API until log-in', async () => {
      const page = await fetch(base + '/');
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Log in/);
      assert.equal((await fetch(base + '/api/fleet')).status, 401);
    });

    it('refuses a wrong password and lets a right one see the fleet', async () => {
      await assert.rejects(consoleLogin(base, 'admin', 'nope'), /401/);
      await assert.rejects(consoleLogin(base, 'nobody', 'nope'), /401/);
      const dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
      const fleet = await dispatcher.json<{ id: string }[]>('/api/fleet');
      assert.equal(fleet.length, 6);
    });

    it('logs in through the HTML form (with its CSRF field) and out by POST', async () => {
      const page = await fetch(base + '/');
      const html = await page.text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
      const loginCookie = page.headers.get('set-cookie')!.split(';')[0]!;
      const noToken = await fetch(base + '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie }, body: 'user=admin&password=admin-demo', redirect: 'manual' });
      assert.equal(noToken.status, 403, 'a log-in without the form token is refused');
      const ok = await fetch(base + '/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
        body: `user=admin&password=admin-demo&_csrf=${csrf}`,
        redirect: 'manual',
      });
      assert.equal(ok.status, 303);
      const setCookie = ok.headers.getSetCookie().find((c) => c.startsWith('hp_session='))!;
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Strict/);
      const cookie = setCookie.split(';')[0]!;
      const fleetPage = await (await fetch(base + '/', { headers: { cookie } })).text();
      assert.match(fleetPage, /Kiosks/);
      const sessionCsrf = /name="_csrf" value="([^"]+)"/.exec(fleetPage)![1]!;
      assert.equal((await fetch(base + '/logout', { headers: { cookie } })).status, 404, 'no log-out by GET');
      const out = await fetch(base + '/logout', { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${sessionCsrf}`, redirect: 'manual' });
      assert.equal(out.status, 303);
      assert.equal((await fetch(base + '/api/fleet', { headers: { cookie } })).status, 401, 'the session is revoked on the server');
    });

    it('refuses a kiosk with a wrong token and accepts the right one', async () => {
      const bad = new WebSocket(`ws://127.0.0.1:${hub.port}/kiosk`, { headers: { authorization: 'Bearer wrong-token-0123456789' } });
      const status = await new Promise<number>((resolve) => bad.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
      assert.equal(status, 401);
      const good = new WebSocket(`ws://127.0.0.1:${hub.port}/kiosk`, { headers: { authorization: 'Bearer demo-token-plat-2-change-me' } });
      await new Promise((r) => good.once('open', r));
      const reply = new Promise<string>((r) => good.once('message', (d) => r(d.toString())));
      good.send(JSON.stringify({ type: 'hello', protocol: 1, kiosk: 'plat-2', firmware: 't', configVersion: 0, capabilities: [] }));
      assert.equal(JSON.parse(await reply).type, 'welcome');
      const fleet = await hub.fleet();
      assert.equal(fleet.find((k) => k.id === 'plat-2')!.online, true);
      good.close();
    });

    it('a kiosk cannot speak for another', async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${hub.port}/kiosk`, { headers: { authorization: 'Bearer demo-token-plat-1-change-me' } });
      await new Promise((r) => ws.once('open', r));
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      ws.send(JSON.stringify({ type: 'hello', protocol: 1, kiosk: 'plat-3', firmware: 't', configVersion: 0, capabilities: [] }));
      assert.equal(await closed, 4003);
      assert.equal((await hub.fleet()).find((k) => k.id === 'plat-3')!.online, false);
    });

    const connect = async (kiosk: string) => {
      const ws = new WebSocket(`ws://127.0.0.1:${hub.port}/kiosk`, { headers: { authorization: `Bearer demo-token-${kiosk}-change-me` } });
      await new Promise((r) => ws.once('open', r));
      const welcome = new Promise((r) => ws.once('message', r));
      ws.send(JSON.stringify({ type: 'hello', protocol: 1, kiosk, firmware: 't', configVersion: 0, capabilities: [] }));
      await welcome;
      return ws;
    };

    it('refuses events that claim another kiosk, and stores none of them', async () => {
      const ws = await connect('conc-south');
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      ws.send(JSON.stringify({ type: 'events', batch: [{ id: 'plat-3:1:1', seq: 1, at: new Date().toISOString(), type: 'button.press', data: {} }] }));
      assert.equal(await closed, 4003);
      assert.equal((await hub.storage.listEvents({ kiosk: 'plat-3' })).length, 0);
      assert.equal((await hub.storage.listEvents({ kiosk: 'conc-south' })).length, 0);
    });

    it('closes a connection that sends garbage or oversized frames, and keeps serving the others', async () => {
      const good = await connect('conc-tickets');
      for (const frame of ['not json at all', Buffer.alloc(300 * 1024, 120).toString()]) {
        const bad = await connect('plat-1');
        const closed = new Promise<number>((r) => bad.once('close', (code) => r(code)));
        bad.send(frame);
        assert.ok([4002, 1009].includes(await closed), 'the bad connection is closed');
      }
      // The other kiosk still gets its events stored and acknowledged.
      const ack = new Promise<string>((r) => good.once('message', (d) => r(d.toString())));
      good.send(JSON.stringify({ type: 'events', batch: [{ id: 'conc-tickets:1:1', seq: 1, at: new Date().toISOString(), type: 'button.press', data: {} }] }));
      assert.deepEqual(JSON.parse(await ack), { type: 'events-ack', ids: ['conc-tickets:1:1'] });
      assert.equal((await hub.storage.listEvents({ kiosk: 'conc-tickets' })).length, 1);
      good.close();
    });

    it('answers an invalid message with an error and a log line, without closing', async () => {
      const ws = await connect('conc-north');
      const reply = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
      ws.send(JSON.stringify({ type: 'launch-missiles' }));
      const msg = JSON.parse(await reply) as { type: string; code: string };
      assert.equal(msg.type, 'error');
      assert.equal(msg.code, 'invalid');
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.close();
    });
  });
}
