// The echo canceller on a synthetic room (src/dsp/room.ts): the far end (a
// bundled spoken message) leaves a mildly clipping loudspeaker, reaches the
// microphone after 20 ms through a 100 ms decaying noise tail, and adds to
// the near-end talker and a -70 dBFS noise floor. Processed offline, frame by
// frame, exactly as the call path processes the microphone.
import { strict as assert } from 'node:assert';
import { loadDsp } from '../../src/dsp/native.js';
import { bundledTalkers, runRoom } from '../../src/dsp/room-measure.js';
import { findAudioDir } from '../../src/audio/messages.js';

describe('echo canceller in a synthetic room', function () {
  this.timeout(60_000);
  const { dsp, reason } = loadDsp();

  it('the addon loads', () => {
    assert.ok(dsp, `helppoint-dsp did not load: ${reason}`);
  });

  for (const rate of [8000, 16000]) {
    it(`${rate / 1000} kHz: echo return loss enhancement >= 20 dB after 2 s; double talk costs the caller <= 6 dB`, () => {
      const { far, near } = bundledTalkers(dsp!, findAudioDir(), rate);
      const r = runRoom({ dsp: dsp!, rate, far, near, convergeS: 2 });
      assert.ok(r.linearErleDb > 6, `the adaptive filter alone removes only ${r.linearErleDb.toFixed(1)} dB`);
      assert.ok(r.erleDb >= 20, `ERLE ${r.erleDb.toFixed(1)} dB`);
      assert.ok(r.nearLossDb <= 6, `near end attenuated by ${r.nearLossDb.toFixed(1)} dB in double talk`);
    });
  }

  // At 8 kHz most of the loss is the canceller's DC notch (about 1.8 dB of a low
  // synthetic voice below 150 Hz) and the residual echo suppressor; at 16 kHz under 1 dB.
  for (const rate of [8000, 16000]) {
    it(`${rate / 1000} kHz: with no echo path the near end passes (canceller on, far end talking, nothing to cancel)`, () => {
      const { far, near } = bundledTalkers(dsp!, findAudioDir(), rate);
      const r = runRoom({ dsp: dsp!, rate, far, near, room: { gain: 0 } });
      assert.ok(r.nearLossDb <= 6, `near end attenuated by ${r.nearLossDb.toFixed(1)} dB without any echo`);
    });
  }
});
