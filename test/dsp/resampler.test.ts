// The speex resampler through the addon: rates, streaming in 20 ms chunks
// with no clicks at the joins, and errors for misuse.
import { strict as assert } from 'node:assert';
import { loadDsp } from '../../src/dsp/native.js';

function tone(rate: number, hz: number, n: number, amp = 8000): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)));
}

/** Amplitude of frequency hz in x (single-bin DFT). */
function amplitude(x: Int16Array, rate: number, hz: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
    im += x[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

describe('speex resampler (helppoint-dsp)', () => {
  const dsp = loadDsp().dsp!;

  for (const [from, to] of [
    [8000, 16000],
    [16000, 8000],
    [8000, 48000],
    [44100, 16000],
  ] as const) {
    it(`${from} -> ${to} Hz in 20 ms chunks keeps a 1 kHz tone and its level, without clicks`, () => {
      const r = new dsp.Resampler(from, to, 3);
      const input = tone(from, 1000, from); // 1 s
      const chunk = Math.round(from / 50);
      const out = new Int16Array(to * 2);
      const buf = new Int16Array(Math.ceil((chunk * to) / from) + 16);
      let n = 0;
      for (let i = 0; i + chunk <= input.length; i += chunk) {
        const w = r.process(input.subarray(i, i + chunk), buf);
        out.set(buf.subarray(0, w), n);
        n += w;
      }
      r.close();
      const expected = Math.floor((input.length * to) / from);
      assert.ok(Math.abs(n - expected) <= to / 50, `wrote ${n} samples, expected about ${expected}`);
      // skip the filter's start-up, then measure
      const steady = out.subarray(Math.round(to / 20), n - Math.round(to / 50));
      const a = amplitude(steady, to, 1000);
      assert.ok(Math.abs(a - 8000) / 8000 < 0.05, `1 kHz amplitude ${a.toFixed(0)} (sent 8000)`);
      // no clicks: no step between neighbours larger than the tone's own steepest slope allows
      const maxStep = ((2 * Math.PI * 1000) / to) * 8000 * 1.2;
      for (let i = 1; i < steady.length; i++) assert.ok(Math.abs(steady[i]! - steady[i - 1]!) <= maxStep, `step of ${steady[i]! - steady[i - 1]!} at ${i}`);
    });
  }

  it('refuses a too small output buffer and wrong types, and a closed resampler', () => {
    const r = new dsp.Resampler(8000, 16000);
    assert.throws(() => r.process(new Int16Array(160), new Int16Array(100)), /output buffer too small/);
    assert.throws(() => r.process(new Float32Array(160) as unknown as Int16Array, new Int16Array(400)), /Int16Array/);
    r.close();
    assert.throws(() => r.process(new Int16Array(160), new Int16Array(400)), /closed/);
    assert.throws(() => new dsp.Resampler(8000, 10), /outRate/);
  });
});
