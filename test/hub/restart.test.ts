// A hub restart keeps what the consoles and kiosks rely on: sessions, config
// versions and pending pushes, and command results (all in the database).
import { strict as assert } from 'node:assert';
import { consoleLogin } from '../helpers/console.js';
import { lightKiosk } from '../helpers/light-kiosk.js';
import { until } from '../helpers/tmp.js';
import { DEMO_TOKEN, engines, startHub } from './harness.js';

for (const engine of engines()) {
  describe(`hub restart keeps sessions, config versions, pending pushes and command results (${engine.name})`, function () {
    this.timeout(120_000);

    it('a stopping hub marks its connected kiosks offline in one statement', async () => {
      const t = await startHub({ databaseUrl: await engine.fresh() });
      const kiosks = ['conc-north', 'conc-south'].map((id) => lightKiosk(t.wsUrl, id, DEMO_TOKEN(id)));
      await Promise.all(kiosks.map((k) => k.welcomed));
      const storage = t.hub.storage;
      const calls: string[][] = [];
      const real = storage.markOffline.bind(storage);
      storage.markOffline = (instanceId, ids) => {
        calls.push([...ids].sort());
        return real(instanceId, ids);
      };
      await t.stop();
      assert.deepEqual(calls, [['conc-north', 'conc-south']]);
    });

    it('survives a stop and start on the same data', async () => {
      const databaseUrl = await engine.fresh();
      let t = await startHub({ databaseUrl });
      const dataDir = t.dataDir;
      const facilities = await consoleLogin(t.base, 'facilities', 'facilities-demo');
      const dispatcher = await consoleLogin(t.base, 'dispatcher', 'dispatcher-demo');

      // conc-north online: a config acked and a command answered. conc-south offline: its push stays pending.
      const north = lightKiosk(t.wsUrl, 'conc-north', DEMO_TOKEN('conc-north'));
      await north.welcomed;
      const v1 = (await (await facilities.post('/api/kiosks/conc-north/config', { sip: { callTimeLimitS: 400 } })).json()) as { version: number; sent: boolean };
      assert.equal(v1.sent, true);
      await until(async () => (await facilities.json<{ acked: boolean }>('/api/kiosks/conc-north/config')).acked, 5000, 'ack');
      const cmd = (await (await dispatcher.post('/api/commands', { kiosks: ['conc-north'], command: 'drill.mode', args: { active: true } })).json()) as { id: string };
      await until(async () => (await dispatcher.json<{ results: Record<string, unknown> }>(`/api/commands/${cmd.id}`)).results['conc-north'], 5000, 'result');
      const south = (await (await facilities.post('/api/kiosks/conc-south/config', { sip: { callTimeLimitS: 300 } })).json()) as { version: number; sent: boolean };
      assert.equal(south.sent, false);
      north.ws.close();
      await t.stop();

      t = await startHub({ dataDir, databaseUrl });
      try {
        const f2 = { ...facilities, base: t.base };
        // The same session cookies still work (sessions live in the database).
        const get = <T>(cookie: string, p: string) => fetch(t.base + p, { headers: { cookie } }).then((r) => r.json() as Promise<T>);
        const status = await get<{ version: number; acked: boolean }>(f2.cookie, '/api/kiosks/conc-north/config');
        assert.equal(status.version, v1.version);
        assert.equal(status.acked, true);
        const c = await get<{ results: Record<string, { ok: boolean }> }>(dispatcher.cookie, `/api/commands/${cmd.id}`);
        assert.deepEqual(c.results['conc-north'], { ok: true });
        const pending = await get<{ version: number; status: string }>(f2.cookie, '/api/kiosks/conc-south/config');
        assert.equal(pending.version, south.version);
        assert.equal(pending.status, 'pending');
        // The pending push reaches conc-south when it connects, and its ack is recorded.
        const k = lightKiosk(t.wsUrl, 'conc-south', DEMO_TOKEN('conc-south'));
        const cfg = await k.next('config');
        assert.equal(cfg.version, south.version);
        await until(async () => (await get<{ acked: boolean }>(f2.cookie, '/api/kiosks/conc-south/config')).acked, 5000, 'ack after restart');
        // The next version continues from the stored one, never back to 1.
        const r = await fetch(t.base + '/api/kiosks/conc-north/config', {
          method: 'POST',
          headers: { cookie: f2.cookie, 'x-csrf-token': facilities.csrf, 'content-type': 'application/json' },
          body: JSON.stringify({ sip: { callTimeLimitS: 200 } }),
        });
        assert.equal(r.status, 202);
        assert.equal(((await r.json()) as { version: number }).version, v1.version + 1);
        k.ws.close();
      } finally {
        await t.stop();
      }
    });
  });
}
