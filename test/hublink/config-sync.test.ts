// Configuration from the hub: a change reaches an online kiosk, is applied
// live (the next call uses the new desk) and acknowledged; an invalid one is
// refused with its errors and the kiosk keeps the old one.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, stopAll } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { readMerged } from '../../src/config/load.js';
import { CLI, EXAMPLE, REPO, kioskConfigFile, startKioskProcess, postJson } from '../helpers/processes.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { desk } from '../intercom/helpers.js';
import { engines } from '../hub/harness.js';
import { consoleLogin } from '../helpers/console.js';


for (const engine of engines()) {
  describe(`hub link: configuration from the hub (${engine.name})`, function () {
    this.timeout(60_000);
    after(() => stopAll());

    it('applies a new call target live and acknowledges it; refuses an invalid config and keeps the old one', async () => {
      const m = readMerged(path.join(EXAMPLE, 'hub.json'));
      assert.ok(m.ok);
      const dbUrl = await engine.fresh();
      const port = await freePort();
      const hdir = tmpDir('hp-hub-');
      const hubFile = path.join(hdir, 'hub.json');
      // kiosk base files stay in the example site
      const kiosks = (m.value as { kiosks: { config?: string }[] }).kiosks.map((k) => ({ ...k, config: k.config && path.join(EXAMPLE, k.config) }));
      writeFileSync(hubFile, JSON.stringify({ ...(m.value as object), kiosks, listen: { host: '127.0.0.1', port }, dataDir: path.join(hdir, 'data'), $schema: 'hub.schema.json' }));
      const hub = start('hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', hubFile, ...(dbUrl ? ['--database', dbUrl] : [])], { cwd: REPO });
      await hub.waitFor(/"msg":"ready"/, 60_000);
      const base = `http://127.0.0.1:${port}`;
      const hubLink = { url: `ws://127.0.0.1:${port}/kiosk`, token: 'demo-token-conc-north-change-me', heartbeatS: 1 };
      const { file, dir } = kioskConfigFile({ hub: hubLink });
      const kiosk = await startKioskProcess(file);
      await hub.waitFor(/kiosk online/, 10_000);
      const health = async () => (await (await fetch(kiosk.url + 'health')).json()) as { configVersion: number; targets: string[]; zone: string };

      const d = await desk('desk-answer-bye.xml');
      // The kiosk's file has the example's wayfinding map at an absolute path; a relative one would not resolve from its folder.
      const keep = { local: { port: 0 }, dataDir: path.join(dir, 'data'), hub: hubLink, display: { wayfinding: path.join(EXAMPLE, 'wayfinding.json') } };
      const dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
      const refused = await dispatcher.post('/api/kiosks/conc-north/config', {});
      assert.equal(refused.status, 403, 'a dispatcher may not change configuration');

      const facilities = await consoleLogin(base, 'facilities', 'facilities-demo');
      const change = { ...keep, sip: { localPort: 0, targets: { emergency: [{ uri: d.uri, ringTimeoutS: 10 }], information: [{ uri: d.uri }] } } };
      const r = await facilities.post('/api/kiosks/conc-north/config', change);
      assert.equal(r.status, 202);
      const { version } = (await r.json()) as { version: number };
      await until(async () => (await health()).configVersion === version, 10_000, 'config applied on the kiosk');
      assert.deepEqual((await health()).targets, [d.uri]);
      await until(async () => (await facilities.json<{ acked?: boolean }>('/api/kiosks/conc-north/config')).acked, 5000, 'ack at the hub');

      // The next call uses the new desk.
      await postJson(kiosk.url + 'sim/press', { input: 'emergency', ms: 60 });
      assert.equal(await d.proc.exited, 0, 'the new desk answered the call');

      // An invalid config is refused with its errors; the kiosk keeps the old one.
      const bad = await facilities.post('/api/kiosks/conc-north/config', { ...change, zone: 'atlantis' });
      assert.equal(bad.status, 202);
      const status = await until(
        async () => {
          const c = await facilities.json<{ errors?: { path: string }[] }>('/api/kiosks/conc-north/config');
          return c.errors;
        },
        5000,
        'nack at the hub',
      );
      assert.ok(status.some((e) => e.path === '/zone'), JSON.stringify(status));
      const h = await health();
      assert.equal(h.configVersion, version);
      assert.equal(h.zone, 'concourse');
    });
  });
}
