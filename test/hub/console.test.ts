import { strict as assert } from 'node:assert';
import path from 'node:path';
import WebSocket from 'ws';
import { loadHubConfig } from '../../src/config/load.js';
import { Hub } from '../../src/hub/app.js';
import { EXAMPLE } from '../helpers/processes.js';
import pino from 'pino';

describe('hub: console log-in and kiosk authentication', () => {
  let hub: Hub;
  let base: string;
  before(async () => {
    const { config, dir } = loadHubConfig(path.join(EXAMPLE, 'hub.json'));
    hub = new Hub({ config, configDir: dir, port: 0, logDestination: pino.destination('/dev/null') });
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
    const bad = await fetch(base + '/login', { method: 'POST', body: 'user=admin&password=nope', redirect: 'manual' });
    assert.equal(bad.status, 401);
    const ok = await fetch(base + '/login', { method: 'POST', body: 'user=dispatcher&password=dispatcher-demo', redirect: 'manual' });
    assert.equal(ok.status, 303);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    const fleet = (await (await fetch(base + '/api/fleet', { headers: { cookie } })).json()) as { id: string }[];
    assert.equal(fleet.length, 6);
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
    assert.equal(hub.registry.kiosks.get('plat-2')!.online, true);
    good.close();
  });

  it('a kiosk cannot speak for another', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${hub.port}/kiosk`, { headers: { authorization: 'Bearer demo-token-plat-1-change-me' } });
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, kiosk: 'plat-3', firmware: 't', configVersion: 0, capabilities: [] }));
    assert.equal(await closed, 4003);
    assert.equal(hub.registry.kiosks.get('plat-3')!.online, false);
  });
});
