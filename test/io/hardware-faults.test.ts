// Hardware trouble while running becomes the gpio fault (fault lamp on) with a
// clear detail, and clears when it recovers: an onoff interrupt watch error,
// a Firmata board that goes away and comes back, a relay the driver cannot
// switch off at the end of a pulse (which must not throw out of its timer).
import { strict as assert } from 'node:assert';
import { makeRig, sleep, type Rig } from './harness.js';
import { until } from '../helpers/tmp.js';

const faultEvents = (r: Rig) => r.events.filter((e) => e.event === 'fault.raised' || e.event === 'fault.cleared');
const lastGpio = (r: Rig) => faultEvents(r).filter((e) => e.payload.code === 'gpio').at(-1);

describe('io: hardware faults while running', function () {
  this.timeout(10_000);
  let rig: Rig;
  afterEach(() => rig?.stop());

  it('onoff: an interrupt watch error raises the gpio fault; the next good edge clears it', async () => {
    rig = await makeRig('onoff');
    rig.watchError!('emergency', 'EIO: i/o error, read');
    const raised = lastGpio(rig)!;
    assert.equal(raised.event, 'fault.raised');
    assert.match(raised.payload.detail, /^GPIO \d+ \(emergency\): interrupt watch error: EIO/);
    assert.equal(rig.output('lampFault'), true);
    rig.set('emergency', true);
    await sleep(60);
    assert.equal(lastGpio(rig)!.event, 'fault.cleared');
    assert.equal(rig.output('lampFault'), false);
    assert.equal(rig.events.filter((e) => e.event === 'call.requested').length, 1, 'the line works again');
  });

  it('johnny-five: a Firmata board that closes raises the gpio fault; it clears when the board is back and buttons work', async () => {
    rig = await makeRig('johnny-five');
    rig.firmata!.emit('close');
    const raised = lastGpio(rig)!;
    assert.equal(raised.event, 'fault.raised');
    assert.match(raised.payload.detail, /^Firmata board on .* lost \(close\)/);
    // The board answers again (USB back): the driver reopens it by itself, every 200 ms here;
    // the mock board says it is ready whenever asked.
    await until(() => {
      rig.firmata!.emit('connect');
      rig.firmata!.emit('ready');
      return lastGpio(rig)?.event === 'fault.cleared';
    }, 5000, 'gpio fault cleared');
    rig.set('emergency', true);
    await sleep(60);
    assert.equal(rig.events.filter((e) => e.event === 'call.requested').length, 1, 'presses reach the kiosk after the reconnect');
    assert.equal(rig.output('lampFault'), false);
  });

  it('a relay the driver cannot switch off at the end of a pulse: a fault, not an exception in the timer', async () => {
    rig = await makeRig('sim', { doorPulseMs: 30 });
    const driver = rig.io.driver;
    const write = driver.write.bind(driver);
    driver.write = (o, on) => {
      if (o === 'doorRelay' && !on) throw new Error('EIO: relay line write failed');
      write(o, on);
    };
    rig.bus.emit('relay.pulse', { output: 'doorRelay', source: 'test' });
    await sleep(100); // mocha fails the test on an uncaught exception from the timer
    assert.match(lastGpio(rig)!.payload.detail, /door relay could not be switched off: EIO/);
    driver.write = write;
    rig.bus.emit('relay.pulse', { output: 'doorRelay', ms: 20, source: 'test' });
    await sleep(80);
    assert.equal(lastGpio(rig)!.event, 'fault.cleared');
    assert.equal(rig.output('doorRelay'), false);
  });
});
