// The acoustic loop borrows the raw microphone: it must never stop it under
// the hands-free input (which stays started after a call), or the next call
// would carry no microphone.
import { strict as assert } from 'node:assert';
import { acousticLoop } from '../../src/supervision/self-tests.js';
import { micInUse } from '../../src/supervision/capability.js';
import type { AudioChannel, AudioInput, AudioOutput } from '../../src/audio/types.js';

function fakeMic() {
  const m = { starts: 0, stops: 0, rate: 8000 };
  const mic: AudioInput & typeof m = Object.assign(m, {
    onFrame: () => () => {},
    start: async () => void m.starts++,
    stop: async () => void m.stops++,
  });
  return mic;
}
const out: AudioOutput = { rate: 8000, openChannel: (o) => ({ id: 'x', channel: o.channel, write() {}, end() {}, close() {} }) as AudioChannel };

describe('supervision and the microphone', () => {
  it('the raw microphone is left running while the hands-free input (or a call) uses it', async () => {
    const services = (microphone: unknown, call?: unknown) => ({ services: { microphone, calls: { placeAlarmCall: () => null as never, activeCall: () => call } } }) as never;
    assert.equal(micInUse(services({ started: true })), true, 'started after a call');
    assert.equal(micInUse(services({ started: false })), false);
    assert.equal(micInUse(services({ started: false }, { id: 'c' })), true, 'a call in progress');
    assert.equal(micInUse(services(undefined)), true, 'unknown: never stopped');

    const inUse = fakeMic();
    const r = await acousticLoop({ out, mic: inUse, source: 'room', keepMicRunning: () => true, playMs: 100, timeoutMs: 200 });
    assert.equal(r.ok, false);
    assert.equal(inUse.stops, 0, 'not stopped under its user');
    const idle = fakeMic();
    await acousticLoop({ out, mic: idle, source: 'room', keepMicRunning: () => false, playMs: 100, timeoutMs: 200 });
    assert.deepEqual([idle.starts, idle.stops], [1, 1], 'started for the loop and stopped again');
  });
});
