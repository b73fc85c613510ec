import { strict as assert } from 'node:assert';
import { kioskConfigFile, startKioskProcess, type KioskProc } from '../helpers/processes.js';

// A capability that cannot start costs a fault, never the kiosk: here the GPIO
// driver (no GPIO on this machine) fails, and the rest, the hub link included,
// still starts so the hub can be told.
describe('kiosk start-up: each capability guarded', function () {
  this.timeout(30_000);
  let kiosk: KioskProc;
  before(async () => {
    const c = kioskConfigFile({ io: { driver: 'onoff' }, hub: { url: 'ws://127.0.0.1:9/kiosk', token: 'x'.repeat(32), heartbeatS: 5 } });
    kiosk = await startKioskProcess(c.file);
  });
  after(() => kiosk?.stop());

  it('runs on with a gpio fault when the GPIO driver cannot start, and starts the hub link', async () => {
    const h = (await (await fetch(kiosk.url + 'health')).json()) as {
      faults: { code: string; detail: string }[];
      capabilities: Record<string, { state: string; detail?: string }>;
    };
    const gpio = h.faults.find((f) => f.code === 'gpio');
    assert.ok(gpio, `a gpio fault, got ${JSON.stringify(h.faults)}`);
    assert.match(gpio.detail, /GPIO/i);
    assert.equal(h.capabilities.io?.state, 'failed');
    assert.equal(h.capabilities.intercom?.state, 'running');
    assert.equal(h.capabilities.audio?.state === 'running' || h.capabilities.audio?.state === 'degraded', true);
    // Started (trying to connect), not left out: the hub would hear about the fault.
    assert.equal(h.capabilities.hublink?.state, 'degraded');
  });
});
