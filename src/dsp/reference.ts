// The echo canceller's reference: what the mixer handed to the loudspeaker,
// kept on the mixer's own timeline (performance.now() instants) and resampled
// to the microphone's rate. A microphone frame ending at instant T is paired
// with the reference for [T - frame - delay, T - delay): the pairing follows
// the clocks, not the order callbacks happen to run in, so timer jitter does
// not move the echo path under the adaptive filter. Fixed buffers: pushing a
// mixer frame and reading a reference frame allocate nothing.
import type { Dsp } from './native.js';

export class EchoReference {
  private readonly ring: Int16Array;
  private readonly scratch: Int16Array;
  private readonly resampler?: InstanceType<Dsp['Resampler']>;
  /** absolute index of the next sample written */
  private written = 0;
  /** timeline anchor: sample `anchorIdx` plays at `anchorT` */
  private anchorIdx = 0;
  private anchorT = NaN;
  /** samples before this index belong to an earlier run (a previous call): never read back */
  private floor = 0;

  constructor(
    readonly rate: number,
    readonly mixerRate: number,
    dsp: Dsp | undefined,
    keepMs = 1000,
    mixerFrameSamples = mixerRate / 50,
  ) {
    this.ring = new Int16Array(Math.ceil((keepMs * rate) / 1000));
    if (rate !== mixerRate) {
      if (!dsp) throw new Error('the echo reference needs the DSP addon to resample');
      // quality 3: speex's VoIP setting; the canceller only needs the band the microphone carries
      this.resampler = new dsp.Resampler(mixerRate, rate, 3);
    }
    this.scratch = new Int16Array(Math.ceil((mixerFrameSamples * 2 * rate) / mixerRate) + 64);
  }

  /** A frame the mixer handed to the device; t0 = its nominal start on the mixer's timeline. */
  push(frame: Int16Array, t0: number): void {
    const s = this.resampler ? this.scratch : frame;
    const len = this.resampler ? this.resampler.process(frame, this.scratch) : frame.length;
    const expected = this.anchorT + ((this.written - this.anchorIdx) * 1000) / this.rate;
    // first frame, or the mixer restarted its timeline after a stall: re-anchor
    if (!(Math.abs(t0 - expected) < 2)) {
      this.anchorIdx = this.written;
      this.anchorT = t0;
    }
    const ring = this.ring;
    const cap = ring.length;
    let p = this.written % cap;
    for (let i = 0; i < len; i++) {
      ring[p] = s[i]!;
      p = p + 1 === cap ? 0 : p + 1;
    }
    this.written += len;
  }

  /** Forgets what was played so far (the hands-free chain starts again): reads are zeros until the next push. */
  reset(): void {
    this.floor = this.written;
    this.anchorT = NaN;
  }

  /** Fills out with the reference for the interval ending at `endT` (zeros where nothing was played or kept). */
  read(endT: number, out: Int16Array): void {
    const n = out.length;
    if (Number.isNaN(this.anchorT)) {
      out.fill(0);
      return;
    }
    const end = this.anchorIdx + Math.round(((endT - this.anchorT) * this.rate) / 1000);
    const start = end - n;
    const cap = this.ring.length;
    const oldest = Math.max(this.floor, this.written - cap);
    for (let i = 0; i < n; i++) {
      const idx = start + i;
      out[i] = idx >= oldest && idx < this.written ? this.ring[idx % cap]! : 0;
    }
  }

  close(): void {
    this.resampler?.close();
  }
}
