import { strict as assert } from 'node:assert';
import { readJournal } from '../../src/store/event-journal.js';
import path from 'node:path';
import { kioskConfigFile, startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { until } from '../helpers/tmp.js';

describe('kiosk process on the sim driver', function () {
  this.timeout(30_000);
  let kiosk: KioskProc;
  let dir: string;
  before(async () => {
    const c = kioskConfigFile();
    dir = c.dir;
    kiosk = await startKioskProcess(c.file);
  });
  after(() => kiosk?.stop());

  it('answers on its local interface with its identity and no faults', async () => {
    const h = (await (await fetch(kiosk.url + 'health')).json()) as { id: string; zone: string; faults: unknown[] };
    assert.equal(h.id, 'conc-north');
    assert.equal(h.zone, 'concourse');
    assert.deepEqual(h.faults, []);
  });

  it('an emergency press over HTTP requests an emergency call and lights nothing until the call exists', async () => {
    const r = await postJson(kiosk.url + 'sim/press', { input: 'emergency', ms: 60 });
    assert.equal(r.status, 200);
    const events = () => readJournal(path.join(dir, 'data')) as { events: { type: string; data: any }[] };
    const req = await until(() => events().events.find((e) => e.type === 'call.requested'), 5000, 'call.requested on disk');
    assert.equal(req.data.kind, 'emergency');
    assert.equal(req.data.source, 'button');
    await until(() => events().events.some((e) => e.type === 'button.release'), 5000, 'release event');
  });

  it('takes a button press from outside the process and logs it as an event', async () => {
    const r = await postJson(kiosk.url + 'sim/press', { input: 'information', ms: 80 });
    assert.equal(r.status, 200);
    const events = () => readJournal(path.join(dir, 'data')) as { events: { type: string; data: any }[] };
    const press = await until(() => events().events.find((e) => e.type === 'button.press' && e.data.button === 'information'), 5000, 'press event on disk');
    assert.equal(press.data.button, 'information');
    await until(() => events().events.filter((e) => e.type === 'button.release').length === 2, 5000, 'second release event');
  });

  it('refuses sim input that is not in the pin map, and changes nothing', async () => {
    const r = await postJson(kiosk.url + 'sim/input', { input: 'selfdestruct', active: true });
    assert.equal(r.status, 400);
    assert.match((r.body as { error: string }).error, /pin map/);
    const state = (await (await fetch(kiosk.url + 'sim/state')).json()) as { inputs: Record<string, boolean> };
    assert.equal(Object.values(state.inputs).some(Boolean), false);
  });

  it('logs one JSON line per event, each carrying the kiosk id', () => {
    const lines = kiosk.proc.output().trim().split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length >= 2);
    for (const l of lines) assert.equal(JSON.parse(l).kiosk, 'conc-north');
  });
});
