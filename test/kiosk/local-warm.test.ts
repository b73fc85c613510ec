// The local interface warms node's HTTP server path before the kiosk says it
// is ready (LocalServer.warm): one GET /health and one POST to a path that is
// no route, so nothing acts; bounded when the server does not answer.
import { strict as assert } from 'node:assert';
import { LocalServer, sendJson } from '../../src/kiosk/local-server.js';

describe('local interface warm-up', () => {
  it('asks for /health once and acts on nothing', async () => {
    const s = new LocalServer('127.0.0.1');
    s.openForSim();
    const hits: string[] = [];
    s.route('GET', '/health', (_req, res) => (hits.push('health'), sendJson(res, 200, { ok: true })));
    for (const p of ['/sim/input', '/sim/press']) s.route('POST', p, (_req, res) => (hits.push(p), sendJson(res, 200, {})));
    const requests: string[] = [];
    s.server.on('request', (req) => requests.push(`${req.method} ${req.url}`));
    await s.listen(0);
    try {
      await s.warm();
      assert.deepEqual(requests, ['GET /health', 'POST /warm-up'], 'both requests reached the server');
      assert.deepEqual(hits, ['health'], 'only /health was handled: the POST went to no route');
    } finally {
      await s.close();
    }
  });

  it('gives up after its limit when the server does not answer', async () => {
    const s = new LocalServer('127.0.0.1');
    s.route('GET', '/health', () => new Promise(() => {})); // never answers
    await s.listen(0);
    try {
      const t0 = Date.now();
      await s.warm(200);
      const took = Date.now() - t0;
      assert.ok(took >= 150 && took < 2000, `returned after its limit (${took} ms)`);
    } finally {
      await s.close();
    }
  });
});
