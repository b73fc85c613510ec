// Faults that used to go unnoticed, each raised with a clear detail, visible
// on /health (and at the hub where a hub is involved: heartbeat faults in
// GET /api/fleet, fault events in GET /api/events), and cleared on recovery.
// Real kiosk, hub and Kamailio processes; the GPIO cases run a kiosk in this
// process on a driver over a fake kernel GPIO class or mock Firmata.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Firmata } from 'mock-firmata';
import { stopAll, type Managed } from '../../src/testbed/proc.js';
import { startKamailio } from '../../src/testbed/kamailio.js';
import { loadKioskConfig } from '../../src/config/load.js';
import { Kiosk } from '../../src/kiosk/app.js';
import { OnoffDriver, type GpioClass } from '../../src/io/onoff-driver.js';
import { JohnnyFiveDriver } from '../../src/io/johnny-five-driver.js';
import { exampleHub, kioskConfigFile, startKioskProcess, postJson, type KioskProc } from '../helpers/processes.js';
import { FakeGpio, fakePi4Sysfs } from '../io/harness.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { consoleLogin } from '../helpers/console.js';
import { FakeHub } from '../helpers/fake-hub.js';

type Fault = { code: string; detail: string };
const faultsAt = async (k: { url: string }) => ((await (await fetch(k.url + 'health')).json()) as { faults: Fault[] }).faults;
const fault = async (k: { url: string }, code: string) => (await faultsAt(k)).find((f) => f.code === code);

/** A hub process on a free port, from the example site's hub config. */
async function hubRig(): Promise<{ start(): Promise<Managed>; base: string; port: number; fleet(): Promise<{ id: string; online: boolean; faults: Fault[] }[]>; events(kiosk: string): Promise<{ type: string; data: any }[]> }> {
  const { base, port, start } = await exampleHub();
  const get = async (p: string) => (await consoleLogin(base, 'admin', 'admin-demo')).json(p);
  return {
    base,
    port,
    start,
    fleet: () => get('/api/fleet') as Promise<never>,
    events: (kiosk) => get(`/api/events?kiosk=${kiosk}&limit=10000`) as Promise<never>,
  };
}

describe('faults that are raised and cleared', function () {
  this.timeout(90_000);
  afterEach(() => stopAll());

  it('SIP registration lost: the fault on /health and at the hub within 10 s, cleared when registered again', async () => {
    const hub = await hubRig();
    await hub.start();
    const users = { 'conc-north': 'kiosk-secret' };
    const kam = await startKamailio({ users });
    const { file } = kioskConfigFile({
      hub: { url: `ws://127.0.0.1:${hub.port}/kiosk`, token: 'demo-token-conc-north-change-me', heartbeatS: 1 },
      sip: { account: { user: 'conc-north', password: 'kiosk-secret', domain: '127.0.0.1', registrars: [{ uri: `sip:127.0.0.1:${kam.port}`, transport: 'udp' }] } },
    });
    const started = Date.now();
    const kiosk = await startKioskProcess(file);
    await until(async () => (await faultsAt(kiosk)).length === 0 && (await hub.fleet()).find((k) => k.id === 'conc-north')?.online, 15_000, 'registered and online, no faults');
    await until(async () => ((await (await fetch(kiosk.url + 'health')).json()) as any).capabilities.intercom.state === 'running', 10_000, 'registered');
    // Past the first registration's 10 s allowance (counted from the intercom's start, a second or two after the process's): a registration made while the intercom was still starting
    // counts (the watch once began after the start's warm-up and missed it, raising the fault on a registered kiosk).
    await new Promise((r) => setTimeout(r, Math.max(0, started + 13_000 - Date.now())));
    assert.equal(await fault(kiosk, 'sip-registration'), undefined, 'no sip-registration fault on a registered kiosk');
    await kam.stop();
    const lost = Date.now();
    const f = await until(() => fault(kiosk, 'sip-registration'), 15_000, 'sip-registration fault on /health');
    const atKiosk = Date.now() - lost;
    assert.match(f.detail, /not registered with any registrar since .*sip:127\.0\.0\.1:\d+/);
    await until(async () => (await hub.fleet()).find((k) => k.id === 'conc-north')?.faults.some((x) => x.code === 'sip-registration'), 15_000, 'fault at the hub');
    const atHub = Date.now() - lost;
    assert.ok(atKiosk <= 10_000 && atHub <= 10_000, `fault after ${atKiosk} ms on the kiosk, ${atHub} ms at the hub (goal: 10 s)`);
    await startKamailio({ users, port: kam.port });
    await until(async () => !(await fault(kiosk, 'sip-registration')), 20_000, 'cleared once registered again');
    await until(async () => !(await hub.fleet()).find((k) => k.id === 'conc-north')?.faults.some((x) => x.code === 'sip-registration'), 10_000, 'cleared at the hub');
  });

  it('hub link down past hub.offlineFaultS: the hub-link fault, cleared when the link is back; the hub gets both events', async () => {
    const hub = await hubRig();
    let h = await hub.start();
    const { file } = kioskConfigFile({ hub: { url: `ws://127.0.0.1:${hub.port}/kiosk`, token: 'demo-token-conc-north-change-me', heartbeatS: 1, offlineFaultS: 2 } });
    const kiosk = await startKioskProcess(file);
    await h.waitFor(/kiosk online/, 10_000);
    assert.equal(await fault(kiosk, 'hub-link'), undefined);
    const down = Date.now(); // before the stop: the link drops while the hub shuts down
    await h.stop();
    const f = await until(() => fault(kiosk, 'hub-link'), 10_000, 'hub-link fault');
    assert.ok(Date.now() - down >= 2000, `raised ${Date.now() - down} ms after the hub began to stop: not before offlineFaultS`);
    assert.match(f.detail, /no link to the hub ws:\/\/127\.0\.0\.1:\d+\/kiosk since .*dropped/);
    h = await hub.start();
    await until(async () => !(await fault(kiosk, 'hub-link')), 40_000, 'cleared when the link is back');
    await until(async () => {
      const ev = await hub.events('conc-north');
      return ev.some((e) => e.type === 'fault.raised' && e.data.code === 'hub-link') && ev.some((e) => e.type === 'fault.cleared' && e.data.code === 'hub-link');
    }, 20_000, 'the hub has the raise and the clear');
  });

  it('a data folder that cannot be written: the store fault on /health, and an emergency press still places the call', async () => {
    const base = tmpDir('hp-ro-');
    writeFileSync(path.join(base, 'file'), 'not a folder');
    const { file } = kioskConfigFile({ dataDir: path.join(base, 'file', 'data') });
    const kiosk: KioskProc = await startKioskProcess(file);
    const f = await until(() => fault(kiosk, 'store'), 5000, 'store fault');
    assert.match(f.detail, /event journal not written \(.*ENOTDIR/);
    await postJson(kiosk.url + 'sim/press', { input: 'emergency', ms: 60 });
    const h = await until(async () => ((await (await fetch(kiosk.url + 'health')).json()) as { call?: { kind: string } }).call, 5000, 'a call in progress');
    assert.equal(h.kind, 'emergency');
  });

  describe('GPIO trouble on a running kiosk', () => {
    let kiosk: Kiosk | undefined;
    let hub: FakeHub | undefined;
    const TOKEN = 'gpio-fault-test-token-0123456789';
    afterEach(async () => {
      await kiosk?.stop();
      kiosk = undefined;
      await hub?.stop();
      hub = undefined;
    });
    const health = () => ({ url: `http://127.0.0.1:${kiosk!.localPort}/` });

    it('an onoff interrupt watch error: the gpio fault on /health and at the hub within 10 s, cleared by the next good edge', async () => {
      hub = await FakeHub.start({ [TOKEN]: 'conc-north' }); // the kiosk's hub link, at the protocol level
      const { file } = kioskConfigFile({ io: { driver: 'onoff', board: 'rpi4' }, hub: { url: hub.url, token: TOKEN } });
      const { config, dir } = loadKioskConfig(file);
      FakeGpio.lines.clear();
      const driver = new OnoffDriver(config.io, FakeGpio as unknown as GpioClass, fakePi4Sysfs());
      kiosk = new Kiosk({ config, configDir: dir, localPort: 0, driver });
      await kiosk.start();
      const line = FakeGpio.lines.get(512 + config.io.inputs.emergency.pin)!;
      const brokenAt = Date.now();
      line.watchers.forEach((w) => w(new Error('EPOLLERR on the value file'), 0));
      const f = await until(() => fault(health(), 'gpio'), 3000, 'gpio fault');
      const atHub = await hub.waitEvent('fault.raised', (d) => d.code === 'gpio', 10_000);
      assert.ok(Date.now() - brokenAt <= 10_000, `gpio fault at the hub after ${Date.now() - brokenAt} ms (goal: 10 s)`);
      assert.match(atHub.data.detail, /interrupt watch error/);
      assert.match(f.detail, /GPIO \d+ \(emergency\): interrupt watch error: EPOLLERR/);
      line.edge(line.value);
      await until(async () => !(await fault(health(), 'gpio')), 3000, 'cleared');
    });

    it('a Firmata board that goes away: the gpio fault on /health and at the hub within 10 s, cleared when it is back', async () => {
      hub = await FakeHub.start({ [TOKEN]: 'conc-north' });
      const { file } = kioskConfigFile({ hub: { url: hub.url, token: TOKEN } });
      const { config, dir } = loadKioskConfig(file);
      config.io = { ...config.io, driver: 'johnny-five' }; // the mock board has every pin
      const firmata = new Firmata();
      firmata.digitalRead = () => {};
      (firmata as unknown as { analogWrite: () => void }).analogWrite = () => {};
      setImmediate(() => (firmata.emit('connect'), firmata.emit('ready')));
      kiosk = new Kiosk({ config, configDir: dir, localPort: 0, driver: new JohnnyFiveDriver(config.io, firmata as never, 15_000, 200) });
      await kiosk.start();
      assert.equal(await fault(health(), 'gpio'), undefined);
      const lostAt = Date.now();
      firmata.emit('disconnect');
      const f = await until(() => fault(health(), 'gpio'), 3000, 'gpio fault');
      const atHub = await hub.waitEvent('fault.raised', (d) => d.code === 'gpio', 10_000);
      assert.ok(Date.now() - lostAt <= 10_000, `gpio fault at the hub after ${Date.now() - lostAt} ms (goal: 10 s)`);
      assert.match(atHub.data.detail, /Firmata board/);
      assert.match(f.detail, /Firmata board on .* lost \(disconnect\); reconnecting/);
      await until(async () => {
        firmata.emit('connect');
        firmata.emit('ready');
        return !(await fault(health(), 'gpio'));
      }, 5000, 'cleared when the board is back');
    });
  });
});
