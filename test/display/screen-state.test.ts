// The screen's state folded from bus events, without a browser: the calls of
// an alarm leave the screen with it, whichever of the two is reported first
// (the alarm's first INVITE leaves while its journal entry is being synced,
// so its call.state may come before the alarm.state).
import { strict as assert } from 'node:assert';
import { ScreenState } from '../../src/display/state.js';
import { Bus } from '../../src/core/bus.js';
import { loadKioskConfig } from '../../src/config/load.js';
import { kioskConfigFile } from '../helpers/processes.js';

function screen(): { bus: Bus; state: ScreenState } {
  const loaded = loadKioskConfig(kioskConfigFile({ log: { level: 'silent' } }).file);
  const bus = new Bus();
  return { bus, state: new ScreenState(bus, loaded.config, () => null) };
}
const alarm = (state: 'raised' | 'calling' | 'reset', seq: number) => ({ alarmId: 'conc-north-t-1', kind: 'emergency' as const, source: 'button', raisedAt: new Date().toISOString(), state, seq, at: new Date().toISOString() });

describe('screen state: an alarm and its calls', () => {
  for (const order of ['alarm first', 'call first'] as const) {
    it(`the alarm's call leaves the screen with its reset (${order})`, () => {
      const { bus, state } = screen();
      const call = () => bus.emit('call.state', { callId: 'c1', kind: 'emergency', state: 'calling' });
      if (order === 'call first') call();
      bus.emit('alarm.state', alarm('raised', 1));
      bus.emit('alarm.state', alarm('calling', 2));
      if (order === 'alarm first') call();
      assert.equal(state.snapshot().call?.callId, 'c1');
      bus.emit('alarm.state', alarm('reset', 3));
      assert.equal(state.snapshot().alarm, null);
      assert.equal(state.snapshot().call, null, 'the withdrawn call leaves with the alarm');
      // its late end shows nothing (no rating for a withdrawn alarm call)
      bus.emit('call.state', { callId: 'c1', kind: 'emergency', state: 'ended' });
      assert.equal(state.snapshot().call, null);
      assert.equal(state.snapshot().rateCallId, null);
    });
  }

  it('an information call is not taken for an alarm call', () => {
    const { bus, state } = screen();
    bus.emit('call.state', { callId: 'i1', kind: 'information', state: 'connected' });
    bus.emit('alarm.state', alarm('raised', 1));
    bus.emit('alarm.state', alarm('reset', 2));
    assert.equal(state.snapshot().call?.callId, 'i1');
  });
});
