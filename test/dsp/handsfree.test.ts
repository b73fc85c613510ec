// The hands-free microphone wired as in the kiosk: the simulated room hears
// the "mixer" (a stand-in tap driven frame by frame, so the test runs on
// synthetic time, not timers), HandsFreeInput takes its reference from the
// same frames. Checks that the reference is aligned with the echo (ERLE as on
// the offline measurement), that half-duplex mutes exactly while the
// loudspeaker talks, and that "off" passes the microphone through.
import { strict as assert } from 'node:assert';
import { HandsFreeInput, type HandsFreeConfig } from '../../src/dsp/handsfree.js';
import { RoomInput } from '../../src/audio/input/room.js';
import { loadDsp } from '../../src/dsp/native.js';
import { bundledTalkers } from '../../src/dsp/room-measure.js';
import { findAudioDir } from '../../src/audio/messages.js';
import { FRAME, RATE, Tap, handsFreeConfig } from './fakes.js';

const config = handsFreeConfig;

function power(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return s / Math.max(1, to - from);
}

/** Plays `far` through the tap; returns what the room microphone heard and what the hands-free path sent on. */
async function run(cfg: HandsFreeConfig, far: Int16Array, startMs = 1000) {
  const tap = new Tap();
  const room = new RoomInput(tap, {});
  const heard: number[] = [];
  room.onFrame((s) => heard.push(...s));
  const hf = new HandsFreeInput(room, tap, cfg);
  const sent: number[] = [];
  hf.onFrame((s) => sent.push(...s));
  await hf.start();
  const buf = new Int16Array(FRAME);
  for (let i = 0; i + FRAME <= far.length; i += FRAME) {
    buf.set(far.subarray(i, i + FRAME));
    tap.play(buf, startMs + (i / RATE) * 1000);
  }
  await hf.stop();
  hf.close();
  return { heard: Int16Array.from(heard), sent: Int16Array.from(sent), hf };
}

describe('hands-free microphone (room, reference, modes)', function () {
  this.timeout(30_000);
  const dsp = loadDsp().dsp!;
  const { far } = bundledTalkers(dsp, findAudioDir(), RATE);

  it('aec: the reference taken from the loudspeaker frames lines up with the echo (ERLE >= 20 dB after 2 s)', async () => {
    const { heard, sent, hf } = await run(config(), far);
    assert.equal(hf.status.running, 'aec');
    assert.equal(sent.length, heard.length);
    const from = 2 * RATE;
    const erle = 10 * Math.log10(power(heard, from) / power(sent, from));
    assert.ok(erle >= 20, `ERLE ${erle.toFixed(1)} dB`);
  });

  it('aec: delayMs is honoured (a reference set 60 ms later than the echo cannot cancel it)', async () => {
    // delayMs shifts the reference later than the echo: causality is lost and the canceller cannot model it.
    const { heard, sent } = await run(config({ delayMs: 60, noiseSuppression: false, agc: false }), far);
    const erle = 10 * Math.log10(power(heard, 2 * RATE) / power(sent, 2 * RATE));
    assert.ok(erle < 10, `ERLE ${erle.toFixed(1)} dB with a reference 60 ms too late`);
  });

  it('off: the microphone passes unchanged', async () => {
    const { heard, sent, hf } = await run(config({ mode: 'off' }), far);
    assert.equal(hf.status.running, 'off');
    assert.deepEqual(sent, heard);
  });

  it('half-duplex: muted while the loudspeaker talks and for the hangover, open in silence', async () => {
    // 1 s of far-end speech, then 1 s of loudspeaker silence
    const sig = new Int16Array(2 * RATE);
    sig.set(far.subarray(RATE, 2 * RATE));
    const { heard, sent, hf } = await run(config({ mode: 'half-duplex', noiseSuppression: false, agc: false, halfDuplexHangoverMs: 200 }), sig);
    assert.equal(hf.status.running, 'half-duplex');
    assert.ok(power(sent, 0, RATE) < power(heard, 0, RATE) / 1000, 'far end talking: the microphone is muted');
    // after the last loudspeaker sound plus the hangover (and the room's tail), the microphone is open again
    const open = Math.round(1.4 * RATE);
    assert.deepEqual(sent.subarray(open), heard.subarray(open));
    assert.ok(hf.mutedFrames > 0 && hf.mutedFrames < hf.frames);
  });
});
