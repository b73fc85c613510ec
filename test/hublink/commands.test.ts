// Commands from the hub: a dispatcher plays a PA message and opens the door
// relay on a kiosk; the kiosk answers each command, and its receipts (the
// pa.started and relay.pulse events) come back through the outbox.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, stopAll } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { readMerged } from '../../src/config/load.js';
import { CLI, EXAMPLE, REPO, kioskConfigFile, startKioskProcess } from '../helpers/processes.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { encodeWav } from '../../src/audio/wav.js';
import { engines } from '../hub/harness.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';


for (const engine of engines()) {
  describe(`hub link: commands (${engine.name})`, function () {
    this.timeout(60_000);
    after(() => stopAll());

    it('delivers PA and relay commands by kiosk or zone, reports results, and refuses bad ones', async () => {
      const m = readMerged(path.join(EXAMPLE, 'hub.json'));
      assert.ok(m.ok);
      const dbUrl = await engine.fresh();
      const port = await freePort();
      const hdir = tmpDir('hp-hub-');
      const hubFile = path.join(hdir, 'hub.json');
      writeFileSync(hubFile, JSON.stringify({ ...(m.value as object), listen: { host: '127.0.0.1', port }, dataDir: path.join(hdir, 'data'), $schema: 'hub.schema.json' }));
      const hub = start('hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', hubFile, ...(dbUrl ? ['--database', dbUrl] : [])], { cwd: REPO });
      await hub.waitFor(/"msg":"ready"/, 60_000);
      const base = `http://127.0.0.1:${port}`;
      const { file } = kioskConfigFile({ hub: { url: `ws://127.0.0.1:${port}/kiosk`, token: 'demo-token-conc-north-change-me', heartbeatS: 1 } });
      await startKioskProcess(file);
      await hub.waitFor(/kiosk online/, 10_000);

      const dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
      const send = async (body: unknown, who: ConsoleSession = dispatcher) => {
        const r = await who.post('/api/commands', body);
        return { status: r.status, body: (await r.json()) as { id: string; sent: string[]; offline: string[] } };
      };
      const result = (id: string) =>
        until(async () => {
          const c = await dispatcher.json<{ results: Record<string, { ok: boolean; error?: string } | null> }>(`/api/commands/${id}`);
          return c.results['conc-north'];
        }, 5000, `result of ${id}`);
      const hubEvents = () => dispatcher.json<{ type: string; data: any }[]>('/api/events?kiosk=conc-north');

      // PA to the whole zone: the online kiosk gets it, the others are reported offline.
      const pa = await send({ zone: 'concourse', command: 'pa.play', args: { channel: 'announcement', message: 'drill', chime: false } });
      assert.equal(pa.status, 202);
      assert.deepEqual(pa.body.sent, ['conc-north']);
      assert.deepEqual(pa.body.offline.sort(), ['conc-south', 'conc-tickets']);
      assert.deepEqual(await result(pa.body.id), { ok: true });
      const started = await until(async () => (await hubEvents()).find((e) => e.type === 'pa.started' && e.data.id === pa.body.id), 10_000, 'PA receipt at the hub');
      assert.equal(started.data.channel, 'announcement');

      const door = await send({ kiosks: ['conc-north'], command: 'relay.pulse', args: { ms: 200 } });
      assert.deepEqual(await result(door.body.id), { ok: true });
      await until(async () => (await hubEvents()).find((e) => e.type === 'relay.pulse' && e.data.source === 'hub'), 10_000, 'relay pulse receipt');

      const bad = await send({ kiosks: ['conc-north'], command: 'pa.stop', args: {} });
      const r = await result(bad.body.id);
      assert.equal(r.ok, false);
      assert.match(r.error!, /invalid "command" message/);

      // A clip uploaded in the console is fetched by the kiosk with its token, verified and played.
      const wav = encodeWav({ rate: 16000, samples: Int16Array.from({ length: 8000 }, (_, i) => Math.round(6000 * Math.sin(i / 5))) });
      const up = await dispatcher.post('/api/clips', new Uint8Array(wav));
      assert.equal(up.status, 201);
      const { sha256, url } = (await up.json()) as { sha256: string; url: string };
      assert.equal((await fetch(base + url)).status, 401, 'clips need a kiosk token');
      assert.equal((await dispatcher.post('/api/clips', 'not a wav')).status, 400);
      const clipCmd = await send({ kiosks: ['conc-north'], command: 'pa.play', args: { channel: 'announcement', clip: { sha256, url: base + url }, chime: false } });
      assert.deepEqual(await result(clipCmd.body.id), { ok: true });
      await until(async () => (await hubEvents()).find((e) => e.type === 'pa.started' && e.data.id === clipCmd.body.id), 10_000, 'clip played');

      const facilities = await consoleLogin(base, 'facilities', 'facilities-demo');
      assert.equal((await send({ kiosks: ['conc-north'], command: 'relay.pulse', args: {} }, facilities)).status, 403);
    });
  });
}
