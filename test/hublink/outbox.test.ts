// Nothing recorded is lost: events go to a persistent outbox and reach the hub
// exactly once, after a 30 s hub outage and after the kiosk is SIGKILLed.
// Real hub and kiosk processes, real WebSockets, real lowdb files.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { readJournal } from '../../src/store/event-journal.js';
import path from 'node:path';
import { start, stopAll, type Managed } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { readMerged } from '../../src/config/load.js';
import { CLI, EXAMPLE, REPO, kioskConfigFile, startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { sleep, tmpDir, until } from '../helpers/tmp.js';
import { consoleLogin } from '../helpers/console.js';

async function hubProcess(file: string): Promise<Managed> {
  const p = start('hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', file], { cwd: REPO });
  await p.waitFor(/"msg":"ready"/, 60_000);
  return p;
}

async function hubEvents(base: string): Promise<{ id: string }[]> {
  const admin = await consoleLogin(base, 'admin', 'admin-demo');
  return admin.json<{ id: string }[]>('/api/events?kiosk=conc-north&limit=10000');
}

const kioskEventIds = (dir: string) => readJournal(path.join(dir, 'data')).events.map((e) => e.id);
const outboxOf = async (k: KioskProc) => ((await (await fetch(k.url + 'health')).json()) as { outbox: number }).outbox;

describe('hub link: the outbox delivers every event exactly once', function () {
  this.timeout(150_000);
  let hubFile: string;
  let base: string;
  let port: number;

  beforeEach(async () => {
    const m = readMerged(path.join(EXAMPLE, 'hub.json'));
    assert.ok(m.ok);
    port = await freePort();
    const dir = tmpDir('hp-hub-');
    hubFile = path.join(dir, 'hub.json');
    writeFileSync(hubFile, JSON.stringify({ ...(m.value as object), listen: { host: '127.0.0.1', port }, dataDir: path.join(dir, 'data'), $schema: 'hub.schema.json' }));
    base = `http://127.0.0.1:${port}`;
  });
  afterEach(() => stopAll());

  const hubCfg = () => ({ hub: { url: `ws://127.0.0.1:${port}/kiosk`, token: 'demo-token-conc-north-change-me', heartbeatS: 1 } });

  it('records 100+ events while the hub is down for 30 s; all arrive exactly once after it returns', async () => {
    let hub = await hubProcess(hubFile);
    const { file, dir } = kioskConfigFile(hubCfg());
    const kiosk = await startKioskProcess(file);
    await hub.waitFor(/kiosk online/, 10_000);
    await until(async () => (await outboxOf(kiosk)) === 0, 10_000, 'start-up events delivered');
    await hub.stop();
    const downAt = Date.now();
    // Each idle cancel press records button.press, button.release and button.ignored.
    for (let i = 0; i < 35; i++) {
      await postJson(kiosk.url + 'sim/press', { input: 'cancel', ms: 40 });
      await sleep(150);
    }
    await until(async () => (await outboxOf(kiosk)) >= 100, 5000, '100 events waiting in the outbox');
    await sleep(Math.max(0, 30_000 - (Date.now() - downAt)));
    hub = await hubProcess(hubFile);
    await until(async () => (await outboxOf(kiosk)) === 0, 60_000, 'outbox drained after the hub came back');
    const atHub = (await hubEvents(base)).map((e) => e.id);
    const recorded = kioskEventIds(dir);
    assert.ok(recorded.length >= 105, `recorded ${recorded.length}`);
    assert.deepEqual([...atHub].sort(), [...recorded].sort(), 'every recorded event at the hub');
    assert.equal(new Set(atHub).size, atHub.length, 'no duplicates');
  });

  it('a kiosk killed with SIGKILL with events in its outbox delivers them after restart', async () => {
    let hub = await hubProcess(hubFile);
    const { file, dir } = kioskConfigFile(hubCfg());
    let kiosk = await startKioskProcess(file);
    await hub.waitFor(/kiosk online/, 10_000);
    await hub.stop();
    // Each press held 100 ms: longer than the 30 ms debounce (a 30 ms press raced the debounce timer and a loaded
    // full run lost some, counting fewer than 30 events).
    for (let i = 0; i < 10; i++) {
      await postJson(kiosk.url + 'sim/press', { input: 'cancel', ms: 100 });
      await sleep(150);
    }
    await until(async () => (await outboxOf(kiosk)) >= 30, 5000, 'events in the outbox');
    await sleep(300); // let the background write land, as it would in normal running
    kiosk.proc.child.kill('SIGKILL');
    await kiosk.proc.exited;
    const recorded = kioskEventIds(dir);
    hub = await hubProcess(hubFile);
    kiosk = await startKioskProcess(file);
    await until(async () => (await outboxOf(kiosk)) === 0, 30_000, 'outbox drained after restart');
    const atHub = (await hubEvents(base)).map((e) => e.id);
    for (const id of recorded) assert.equal(atHub.filter((x) => x === id).length, 1, `event ${id} at the hub exactly once`);
  });
});
