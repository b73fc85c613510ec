import { strict as assert } from 'node:assert';
import { makeRig, sleep, type DriverKind, type Rig } from './harness.js';
import { until } from '../helpers/tmp.js';

const DRIVERS: DriverKind[] = ['sim', 'onoff', 'johnny-five'];
const names = (r: Rig, event: string) => r.events.filter((e) => e.event === event);

for (const kind of DRIVERS) {
  describe(`io on the ${kind} driver`, function () {
    this.timeout(10_000);
    let rig: Rig;
    beforeEach(async () => {
      rig = await makeRig(kind, { stuckMs: 300, upgradeHoldMs: 250, doorPulseMs: 200 });
    });
    afterEach(() => rig.stop());

    it('turns a bouncing contact into exactly one press and one release', async () => {
      for (let i = 0; i < 6; i++) {
        rig.set('emergency', i % 2 === 0);
        await sleep(2);
      }
      rig.set('emergency', true); // settles pressed
      await sleep(60);
      assert.equal(names(rig, 'button.press').length, 1);
      assert.equal(names(rig, 'call.requested').length, 1);
      assert.equal(names(rig, 'call.requested')[0]!.payload.kind, 'emergency');
      for (let i = 0; i < 5; i++) {
        rig.set('emergency', i % 2 === 1);
        await sleep(2);
      }
      rig.set('emergency', false);
      await sleep(60);
      assert.equal(names(rig, 'button.press').length, 1);
      assert.equal(names(rig, 'button.release').length, 1);
    });

    it('ignores a spike shorter than the debounce window', async () => {
      rig.set('information', true);
      await sleep(5);
      rig.set('information', false);
      await sleep(60);
      assert.equal(names(rig, 'button.press').length, 0);
    });

    it('detects a stuck button, keeps the others working, and recovers on release', async () => {
      rig.set('emergency', true);
      await sleep(400);
      assert.equal(names(rig, 'button.stuck').length, 1);
      assert.equal(rig.output('lampFault'), true, 'fault lamp on while stuck');
      // the call from the first press ended; the information button still works
      const first = names(rig, 'call.requested')[0]!;
      assert.equal(first.payload.kind, 'emergency');
      rig.bus.emit('call.state', { callId: 'c0', kind: 'emergency', state: 'ended' });
      rig.set('information', true);
      await sleep(50);
      rig.set('information', false);
      await sleep(50);
      assert.deepEqual(
        names(rig, 'call.requested').map((e) => e.payload.kind),
        ['emergency', 'information'],
      );
      rig.set('emergency', false);
      await sleep(50);
      assert.equal(names(rig, 'button.unstuck').length, 1);
      assert.equal(rig.output('lampFault'), false, 'fault lamp off after release');
    });

    it('raises a tamper event and plays the warning', async () => {
      rig.set('tamper', true);
      await sleep(80);
      const t = names(rig, 'input.tamper');
      assert.equal(t.length, 1);
      assert.equal(t[0]!.payload.active, true);
      assert.ok(!Number.isNaN(Date.parse(t[0]!.payload.at)));
      assert.equal(names(rig, 'pa.play')[0]!.payload.message, 'tamper-warning');
      assert.equal(rig.output('lampFault'), true);
      rig.set('tamper', false);
      await sleep(80);
      assert.equal(names(rig, 'input.tamper')[1]!.payload.active, false);
    });

    it('shows the call on the lamps: yellow while calling, green when connected, off after', async () => {
      const lamps = () => [rig.output('lampYellow'), rig.output('lampGreen'), rig.output('beacon')];
      assert.deepEqual(lamps(), [false, false, false]);
      rig.bus.emit('call.state', { callId: 'c1', kind: 'emergency', state: 'calling' });
      assert.deepEqual(lamps(), [true, false, true]);
      rig.bus.emit('call.state', { callId: 'c1', kind: 'emergency', state: 'queued' });
      assert.deepEqual(lamps(), [true, false, true]);
      rig.bus.emit('call.state', { callId: 'c1', kind: 'emergency', state: 'connected' });
      assert.deepEqual(lamps(), [false, true, true]);
      rig.bus.emit('call.state', { callId: 'c1', kind: 'emergency', state: 'ended' });
      assert.deepEqual(lamps(), [false, false, false]);
    });

    it('keeps the lamps of the call in progress when a late event of an earlier call arrives', async () => {
      rig.bus.emit('call.state', { callId: 'old', kind: 'information', state: 'connected' });
      rig.bus.emit('call.state', { callId: 'new', kind: 'emergency', state: 'calling' });
      rig.bus.emit('call.state', { callId: 'old', kind: 'information', state: 'ended' });
      assert.deepEqual([rig.output('lampYellow'), rig.output('beacon')], [true, true]);
      rig.bus.emit('call.state', { callId: 'new', kind: 'emergency', state: 'ended' });
      assert.deepEqual([rig.output('lampYellow'), rig.output('lampGreen'), rig.output('beacon')], [false, false, false]);
    });

    it('pulses the door relay for its configured length: on, then off, never shorter', async () => {
      // How close to the configured length is a benchmark figure (bench buttons: relay_pulse_error_p50_ms):
      // on a loaded test machine a timer fires late, which lengthens a pulse by the stall.
      for (const ms of [200, 120]) {
        rig.writes.length = 0;
        rig.bus.emit('relay.pulse', ms === 200 ? { output: 'doorRelay', source: 'test' } : { output: 'doorRelay', ms, source: 'test' });
        assert.equal(rig.output('doorRelay'), true);
        await until(() => rig.writes.filter(([o]) => o === 'doorRelay').length >= 2, ms + 5000, 'the relay off again');
        const w = rig.writes.filter(([o]) => o === 'doorRelay');
        assert.deepEqual(w.map(([, on]) => on), [true, false]);
        const held = w[1]![2] - w[0]![2];
        assert.ok(held >= ms - 1, `held ${held.toFixed(1)} ms, configured ${ms}`);
      }
    });

    it('starts no new call on presses during a call, and logs them', async () => {
      rig.bus.emit('call.state', { callId: 'c2', kind: 'emergency', state: 'connected' });
      rig.set('information', true);
      await sleep(50);
      rig.set('information', false);
      await sleep(50);
      assert.equal(names(rig, 'call.requested').length, 0);
      assert.equal(names(rig, 'button.ignored')[0]!.payload.button, 'information');
    });

    it('upgrades an information call when emergency is held, not when tapped', async () => {
      rig.set('information', true);
      await sleep(50);
      rig.set('information', false);
      await sleep(40);
      assert.equal(names(rig, 'call.requested')[0]!.payload.kind, 'information');
      rig.bus.emit('call.state', { callId: 'c3', kind: 'information', state: 'connected' });
      rig.set('emergency', true); // a tap: released before the hold time
      await sleep(100);
      rig.set('emergency', false);
      await sleep(300);
      assert.equal(names(rig, 'call.upgrade').length, 0);
      rig.set('emergency', true); // held past upgradeHoldMs
      await sleep(350);
      assert.deepEqual(names(rig, 'call.upgrade').map((e) => e.payload), [{ callId: 'c3' }]);
      rig.set('emergency', false);
      await sleep(50);
      assert.equal(names(rig, 'call.requested').length, 1, 'the upgrade is not a second call');
    });

    it('cancel asks to end an active call and is ignored when idle', async () => {
      rig.set('cancel', true);
      await sleep(50);
      rig.set('cancel', false);
      await sleep(40);
      assert.equal(names(rig, 'call.cancel').length, 0);
      rig.bus.emit('call.state', { callId: 'c4', kind: 'information', state: 'ringing' });
      rig.set('cancel', true);
      await sleep(50);
      rig.set('cancel', false);
      await sleep(40);
      assert.equal(names(rig, 'call.cancel').length, 1);
    });
  });
}
