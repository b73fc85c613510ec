// The local interface answers a press after the work it started: the reply to
// POST /sim/input waits until the alarm call's set-up window closes, so writing
// and closing the caller's connection never sits between a press and its
// INVITE or first RTP packet (src/kiosk/local-server.ts afterWork).
import assert from 'node:assert/strict';
import http from 'node:http';
import { LocalServer, addSimRoutes } from '../../src/kiosk/local-server.js';
import { SimDriver } from '../../src/io/sim-driver.js';
import { SetupWindow } from '../../src/core/setup-window.js';
import { testConfig } from '../io/harness.js';

function post(port: number, path: string, body: unknown): Promise<{ status: number; body: unknown; at: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()), at: performance.now() }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('local interface: the reply to a press waits for the call it started', () => {
  let server: LocalServer;
  let sim: SimDriver;
  let setup: SetupWindow;
  let port: number;
  /** closes the window the last press opened */
  let endSetup: (() => void) | undefined;

  beforeEach(async () => {
    endSetup = undefined;
    server = new LocalServer('127.0.0.1');
    sim = new SimDriver(testConfig().io);
    setup = new SetupWindow(5_000);
    server.deferRepliesDuring(setup);
    addSimRoutes(server, sim);
    // As the kiosk does on an emergency press: the alarm places its call (opening the window) in the press's own turn.
    sim.onInput((name, active) => {
      if (name === 'emergency' && active) queueMicrotask(() => (endSetup = setup.begin()));
    });
    port = await server.listen(0);
  });
  afterEach(async () => {
    endSetup?.();
    await server.close();
  });

  it('answers once the set-up window closes, with the input as set', async () => {
    let answered = false;
    const reply = post(port, '/sim/input', { input: 'emergency', active: true }).then((r) => ((answered = true), r));
    while (!endSetup) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(answered, false, 'the reply left while the call was being set up');
    const closedAt = performance.now();
    endSetup();
    const r = await reply;
    assert.equal(r.status, 200);
    assert.equal((r.body as { inputs: Record<string, boolean> }).inputs.emergency, true);
    assert.ok(r.at >= closedAt, 'answered before the window closed');
  });

  it('answers at once when the press opens no window, and refuses bad input at once, changing nothing', async () => {
    const t0 = performance.now();
    const r = await post(port, '/sim/input', { input: 'emergency', active: false });
    assert.equal(r.status, 200);
    assert.ok(performance.now() - t0 < 1_000);
    assert.equal(endSetup, undefined);
    const bad = await post(port, '/sim/input', { input: 'nonsense', active: true });
    assert.equal(bad.status, 400);
    assert.match((bad.body as { error: string }).error, /"input" must name an input/);
    assert.equal(sim.snapshot().inputs.emergency, false);
  });
});
