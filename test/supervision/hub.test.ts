// The kiosk's side of supervision with a real hub process (the hub as it is
// on main: commands, events, fleet): a dispatcher's supervision.test command
// gets the verdict as its result, the verdict is stored with the kiosk's
// events, and a failed test's fault is in the fleet list within 10 s.
import { strict as assert } from 'node:assert';
import { stopAll } from '../../src/testbed/proc.js';
import { exampleHub } from '../helpers/processes.js';
import { until } from '../helpers/tmp.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { startAnswerer, type Answerer } from './answerer.js';
import { rig } from './helpers.js';

async function startHubProcess(): Promise<{ port: number; base: string }> {
  const hub = await exampleHub();
  await hub.start();
  return hub;
}

describe('supervision with a real hub', function () {
  this.timeout(120_000);
  let answerer: Answerer | undefined;
  afterEach(async () => {
    await answerer?.stop();
    answerer = undefined;
    await stopAll();
  });

  it("a dispatcher's supervision.test: the result is the verdict; a failed test's fault is in the fleet list within 10 s, cleared by a passing one", async () => {
    const hub = await startHubProcess();
    answerer = await startAnswerer();
    const r = await rig({
      supervision: { enabled: false, target: answerer.uri },
      hub: { url: `ws://127.0.0.1:${hub.port}/kiosk`, token: 'demo-token-conc-north-change-me', heartbeatS: 5 },
    });
    const admin = await consoleLogin(hub.base, 'admin', 'admin-demo');
    const dispatcher: ConsoleSession = await consoleLogin(hub.base, 'dispatcher', 'dispatcher-demo');
    const fleetRow = async () => ((await admin.json('/api/fleet')) as { id: string; online: boolean; faults: { code: string; detail: string }[] }[]).find((k) => k.id === 'conc-north');
    await until(async () => (await fleetRow())?.online, 20_000, 'kiosk online at the hub');
    const command = async () => {
      const res = await dispatcher.post('/api/commands', { kiosks: ['conc-north'], command: 'supervision.test', args: {} });
      assert.equal(res.status, 202, await res.clone().text());
      const { id } = (await res.json()) as { id: string };
      return until(async () => ((await admin.json(`/api/commands/${id}`)) as { results: Record<string, { ok: boolean; error?: string } | null> }).results['conc-north'], 30_000, 'command result');
    };

    const ok = await command();
    assert.deepEqual(ok, { ok: true });

    await r.post('sim/acoustic', { broken: true });
    const failed = await command();
    const resultAt = Date.now();
    assert.equal(failed.ok, false);
    assert.match(failed.error ?? '', /^test conc-north-t-[0-9a-z]+-[0-9a-f]{4} failed at acoustic-loop: not heard twice: 1000 Hz not heard/);
    const f = await until(async () => (await fleetRow())?.faults.find((x) => x.code === 'test-failed'), 10_000, 'test-failed in the fleet list');
    assert.match(f.detail, /^acoustic-loop:/);
    assert.ok(Date.now() - resultAt < 10_000);
    const events = async () => (await admin.json('/api/events?kiosk=conc-north&limit=1000')) as { type: string; data: any }[];
    await until(async () => (await events()).filter((e) => e.type === 'supervision.test').length === 2, 10_000, 'both verdicts stored at the hub');
    const verdicts = (await events()).filter((e) => e.type === 'supervision.test').map((e) => e.data);
    assert.deepEqual(verdicts.map((v) => [v.trigger, v.passed, v.failedStep]).sort(), [['hub', false, 'acoustic-loop'], ['hub', true, undefined]].sort());

    await r.post('sim/acoustic', { broken: false });
    assert.deepEqual(await command(), { ok: true });
    await until(async () => !(await fleetRow())?.faults.some((x) => x.code === 'test-failed'), 10_000, 'cleared at the hub');
  });
});
