// The kiosk's local interface (127.0.0.1) refuses what a browser could send
// it on a web page's behalf: a foreign Host (DNS rebinding), a foreign Origin,
// cross-site fetches; routes that act need the sim driver or the local token.
// The screen page and the sim page, served by the interface itself, keep working.
import { strict as assert } from 'node:assert';
import http from 'node:http';
import { mkdtempSync, statSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { LocalServer, localToken, sendJson, TOKEN_FILE } from '../../src/kiosk/local-server.js';
import type { Kiosk } from '../../src/kiosk/app.js';
import { openScreen, startKiosk } from '../display/helpers.js';
import { sleep } from '../helpers/tmp.js';

/** A raw HTTP request, so Host and Origin are exactly what a browser could send. */
function request(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, setHost: !opts.headers?.host }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function wsOpens(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => (ws.close(), resolve(true)));
    ws.once('error', () => resolve(false));
    ws.once('unexpected-response', () => resolve(false));
  });
}

describe('kiosk local interface: Host, Origin and the local token', function () {
  this.timeout(60_000);
  let kiosk: Kiosk;
  let port: number;
  let presses: string[];
  before(async () => {
    ({ kiosk } = await startKiosk());
    port = kiosk.localPort;
    presses = [];
    kiosk.bus.on('button.press', (e) => presses.push(e.button));
  });
  after(async () => {
    await kiosk?.stop();
  });

  // The cancel button: a press that places no call, so the screen stays on its home view.
  const press = JSON.stringify({ input: 'cancel', ms: 40 });

  it('refuses a foreign Host (a DNS-rebinding name) on every route and on the screen socket', async () => {
    for (const p of ['/health', '/', '/sim/state']) {
      const r = await request(port, { path: p, headers: { host: `evil.example:${port}` } });
      assert.equal(r.status, 403, `${p}: ${r.status} ${r.body}`);
    }
    const r = await request(port, { method: 'POST', path: '/sim/press', headers: { host: `evil.example:${port}`, 'content-type': 'application/json' }, body: press });
    assert.equal(r.status, 403);
    assert.equal(await wsOpens(`ws://127.0.0.1:${port}/screen/ws`, { host: `evil.example:${port}` }), false);
    // The right name, with this port, passes.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) assert.equal((await request(port, { path: '/health', headers: { host } })).status, 200, host);
    assert.equal((await request(port, { path: '/health', headers: { host: '127.0.0.1:1' } })).status, 403, 'another port');
  });

  it('refuses a foreign Origin and cross-site fetches: nothing is pressed', async () => {
    for (const headers of <Record<string, string>[]>[{ origin: 'http://evil.example' }, { origin: 'http://127.0.0.1:8080' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }]) {
      const r = await request(port, { method: 'POST', path: '/sim/press', headers: { ...headers, 'content-type': 'application/json' }, body: press });
      assert.equal(r.status, 403, `${JSON.stringify(headers)}: ${r.status}`);
    }
    assert.equal(await wsOpens(`ws://127.0.0.1:${port}/screen/ws`, { origin: 'http://evil.example' }), false);
    await sleep(200);
    assert.deepEqual(presses, []);
    // Its own pages (the sim page, the screen) are same-origin and pass.
    const own = await request(port, { method: 'POST', path: '/sim/press', headers: { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, body: press });
    assert.equal(own.status, 200, own.body);
    await sleep(200);
    assert.deepEqual(presses, ['cancel']);
    assert.equal(await wsOpens(`ws://127.0.0.1:${port}/screen/ws`, { origin: `http://127.0.0.1:${port}` }), true);
  });

  describe('in Chromium', () => {
    let browser: Browser;
    let evil: http.Server;
    let evilPort: number;
    before(async () => {
      // A hostile page on another origin, and a name that resolves to the kiosk (DNS rebinding).
      evil = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><script>
          window.attack = async (port) => {
            const out = {};
            try { await fetch('http://127.0.0.1:' + port + '/sim/press', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"input":"emergency","ms":40}' }); out.fetch = 'sent'; } catch (e) { out.fetch = String(e); }
            out.ws = await new Promise((res) => { const ws = new WebSocket('ws://127.0.0.1:' + port + '/screen/ws'); ws.onopen = () => res('open'); ws.onerror = () => res('refused'); });
            return out;
          };</script>`);
      });
      await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
      evilPort = (evil.address() as AddressInfo).port;
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1'],
      });
    });
    after(async () => {
      await browser?.close();
      evil?.close();
    });

    it('a hostile page cannot press a button, read the kiosk through a rebinding name, or open the screen socket', async () => {
      presses.length = 0;
      const page = await browser.newPage();
      await page.goto(`http://evil.test:${evilPort}/`);
      const out = await page.evaluate((p) => (window as unknown as { attack: (p: number) => Promise<Record<string, unknown>> }).attack(p), port);
      assert.equal(out.ws, 'refused', JSON.stringify(out));
      await sleep(300);
      assert.deepEqual(presses, [], `pressed: ${JSON.stringify(out)}`);
      // DNS rebinding: a page whose name now resolves to the kiosk is same-origin with it; the kiosk refuses the name.
      const r = await page.goto(`http://rebind.test:${port}/`);
      assert.equal(r?.status(), 403);
    });

    it('the screen page, served by the kiosk, still connects and places a call', async () => {
      presses.length = 0;
      const calls: string[] = [];
      const off = kiosk.bus.on('call.requested', (e) => calls.push(`${e.kind}:${e.source}`));
      const page = await openScreen(browser, `http://127.0.0.1:${port}/`);
      await page.click('#btn-emergency');
      for (let i = 0; i < 50 && calls.length === 0; i++) await sleep(50);
      off();
      assert.deepEqual(calls, ['emergency:screen']);
      // And the sim page presses its buttons.
      await page.goto(`http://127.0.0.1:${port}/sim`);
      await page.click('text=tap cancel');
      for (let i = 0; i < 50 && !presses.includes('cancel'); i++) await sleep(50);
      assert.ok(presses.includes('cancel'), `presses ${presses.join(',')}`);
    });
  });
});

describe('local interface without the sim driver: the local token', () => {
  let server: LocalServer;
  let port: number;
  let dir: string;
  let acted = 0;
  before(async () => {
    dir = mkdtempSync(path.join(process.env.HP_TEST_TMP ?? os.tmpdir(), 'hp-token-'));
    server = new LocalServer('127.0.0.1');
    server.setToken(localToken(dir));
    server.route('GET', '/health', (_req, res) => sendJson(res, 200, { ok: true }));
    server.route('POST', '/pa/play', (_req, res) => (acted++, sendJson(res, 202, {})));
    server.upgrade('/screen/ws', (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n'));
    port = await server.listen(0);
  });
  after(() => server?.close());

  it('keeps the token in the data folder, readable by the kiosk\'s user only', () => {
    const file = path.join(dir, TOKEN_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8').trim(), /^[0-9a-f]{64}$/);
    assert.equal(localToken(dir), readFileSync(file, 'utf8').trim(), 'the same token on the next start');
  });

  it('routes that act need the token; reading needs none', async () => {
    const token = readFileSync(path.join(dir, TOKEN_FILE), 'utf8').trim();
    const body = '{}';
    const post = (headers: Record<string, string>) => request(port, { method: 'POST', path: '/pa/play', headers: { 'content-type': 'application/json', ...headers }, body });
    assert.equal((await post({})).status, 403);
    assert.equal((await post({ authorization: 'Bearer ' + 'f'.repeat(64) })).status, 403);
    assert.equal(acted, 0);
    assert.equal((await post({ authorization: `Bearer ${token}` })).status, 202);
    assert.equal(acted, 1);
    // Even its own pages need the token for these (the screen uses its socket, not them).
    assert.equal((await post({ origin: `http://127.0.0.1:${port}` })).status, 403);
    assert.equal((await request(port, { path: '/health' })).status, 200);
  });
});
