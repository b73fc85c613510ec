// How a config push reaches the kiosks: the instance that stored the push
// sends its own kiosks their new versions from what it stored (without reading
// them back) and names itself on the instance bus, so it does not send them
// again; a push named by another instance is read from the database and sent.
import { strict as assert } from 'node:assert';
import { ConfigComposer } from '../../src/hub/config-compose.js';
import { consoleLogin } from '../helpers/console.js';
import { lightKiosk, type LightKiosk } from '../helpers/light-kiosk.js';
import { sleep, until } from '../helpers/tmp.js';
import { DEMO_TOKEN, engines, startHub, type TestHub } from './harness.js';

const ZONE = ['conc-north', 'conc-south', 'conc-tickets'];

for (const engine of engines()) {
  describe(`config push delivery (${engine.name})`, function () {
    this.timeout(120_000);
    let t: TestHub;
    let kiosks: LightKiosk[];
    before(async () => {
      t = await startHub({ databaseUrl: await engine.fresh() });
      kiosks = ZONE.map((id) => lightKiosk(t.wsUrl, id, DEMO_TOKEN(id)));
      await Promise.all(kiosks.map((k) => k.welcomed));
    });
    after(async () => {
      for (const k of kiosks ?? []) k.ws.terminate();
      await t?.stop();
    });
    const configs = (k: LightKiosk) => k.received.filter((m) => m.type === 'config');
    const status = (s: { json<T>(p: string): Promise<T> }) => s.json<{ acked: number; pending: number; refused: number }>('/api/config/status?zone=concourse');

    it('sends each kiosk of a push through this instance its version once, and stores every ack', async () => {
      const facilities = await consoleLogin(t.base, 'facilities', 'facilities-demo');
      for (const k of kiosks) k.received.length = 0;
      const r = (await (await facilities.post('/api/config', { zone: 'concourse', override: { sip: { callTimeLimitS: 610 } } })).json()) as { results: { kiosk: string; version: number; sent: boolean }[] };
      assert.deepEqual(r.results.map((x) => x.kiosk).sort(), [...ZONE].sort());
      assert.ok(r.results.every((x) => x.sent));
      await until(async () => (await status(facilities)).acked === ZONE.length, 10_000, 'every kiosk acked');
      await sleep(300); // a second copy (the bus message handled as well) would have arrived by now
      for (const k of kiosks) {
        const got = configs(k);
        assert.equal(got.length, 1, `${k.id} got the push ${got.length} times`);
        assert.equal(got[0]!.version, r.results.find((x) => x.kiosk === k.id)!.version);
        assert.equal((got[0]!.document as { sip: { callTimeLimitS: number } }).sip.callTimeLimitS, 610);
      }
      for (const id of ZONE) assert.equal((await facilities.json<{ acked: boolean; status: string }>(`/api/kiosks/${id}/config`)).status, 'acked');
    });

    it('reads and sends a push named by another instance, and skips one naming this instance', async () => {
      const ctx = t.hub.ctx!;
      const facilities = await consoleLogin(t.base, 'facilities', 'facilities-demo');
      const store = () => ctx.storage.pushConfig({ by: 't', kiosks: ZONE, layersOf: (k, cur) => ConfigComposer.refFor(k, cur) });

      // Stored "by this instance" (named on the bus) but never sent directly: nothing goes out, the versions stay pending.
      for (const k of kiosks) k.received.length = 0;
      const own = await store();
      await ctx.bus.publish({ t: 'config', push: own.pushId, from: ctx.instanceId });
      await sleep(500);
      for (const k of kiosks) assert.equal(configs(k).length, 0, `${k.id} got a push its own instance had to send`);
      assert.equal((await status(facilities)).pending, ZONE.length);

      // Stored by another instance: this one reads its kiosks' pending versions and sends them.
      const other = await store();
      await ctx.bus.publish({ t: 'config', push: other.pushId, from: 'another-instance' });
      await until(async () => (await status(facilities)).acked === ZONE.length, 10_000, 'every kiosk acked the other instance push');
      for (const k of kiosks) {
        const got = configs(k);
        assert.equal(got.length, 1);
        assert.equal(got[0]!.version, other.versions.find((v) => v.kiosk === k.id)!.version);
      }
    });
  });
}
