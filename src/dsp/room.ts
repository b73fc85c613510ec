// A synthetic room for testing and measuring the echo canceller: what the
// loudspeaker plays reaches the microphone through mild speaker clipping, a
// pure delay and a decaying noise tail (a crude room impulse response), and
// adds to the near-end talker and a little microphone noise. Deterministic
// (seeded), so tests and benchmarks see the same room every run.

export interface RoomOptions {
  rate: number;
  /** pure delay from speaker to microphone, ms (default 20) */
  delayMs?: number;
  /** length of the decaying tail, ms (default 100); it falls by 60 dB over this time */
  tailMs?: number;
  /** speaker clipping: samples beyond this share of full scale are clipped (default 0.5) */
  clip?: number;
  /** overall echo gain, speaker to microphone (default 0.5) */
  gain?: number;
  /** microphone noise floor, dBFS RMS (default -70; -Infinity for none) */
  noiseDbfs?: number;
  seed?: number;
}

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gaussian-ish noise with standard deviation 1/sqrt(12) (sum of four uniforms). */
function noise(r: () => number): number {
  return (r() + r() + r() + r() - 2) / 2;
}

export class SyntheticRoom {
  readonly ir: Float64Array;
  private readonly hist: Float64Array;
  private pos = 0;
  private readonly clipAt: number;
  private readonly noiseRms: number;
  private readonly rnd: () => number;

  constructor(o: RoomOptions) {
    const rate = o.rate;
    const delay = Math.round(((o.delayMs ?? 20) * rate) / 1000);
    const tail = Math.round(((o.tailMs ?? 100) * rate) / 1000);
    const r = prng(o.seed ?? 1);
    this.rnd = prng((o.seed ?? 1) + 1);
    const ir = new Float64Array(delay + tail);
    // direct path, then reflections: noise decaying by 60 dB over the tail
    let energy = 0;
    for (let i = 0; i < tail; i++) {
      const env = Math.pow(10, (-3 * i) / tail);
      const v = (i === 0 ? 1 : 0.5 * noise(r)) * env;
      ir[delay + i] = v;
      energy += v * v;
    }
    const g = (o.gain ?? 0.5) / Math.sqrt(energy);
    for (let i = 0; i < ir.length; i++) ir[i]! *= g;
    this.ir = ir;
    this.hist = new Float64Array(ir.length);
    this.clipAt = (o.clip ?? 0.5) * 32767;
    const nd = o.noiseDbfs ?? -70;
    this.noiseRms = Number.isFinite(nd) ? Math.pow(10, nd / 20) * 32767 : 0;
  }

  /** The echo of one block of speaker samples (after the clipping speaker). */
  echo(speaker: Int16Array, out: Float64Array): void {
    const ir = this.ir;
    const h = this.hist;
    const L = ir.length;
    for (let n = 0; n < speaker.length; n++) {
      const s = speaker[n]!;
      h[this.pos] = s > this.clipAt ? this.clipAt : s < -this.clipAt ? -this.clipAt : s;
      let acc = 0;
      let k = this.pos;
      for (let i = 0; i < L; i++) {
        const c = ir[i]!;
        if (c !== 0) acc += c * h[k]!;
        k = k === 0 ? L - 1 : k - 1;
      }
      out[n] = acc;
      this.pos = this.pos + 1 === L ? 0 : this.pos + 1;
    }
  }

  /** microphone = echo + near-end + noise, as 16-bit samples */
  microphone(echo: Float64Array, near: Int16Array | undefined, out: Int16Array): void {
    for (let n = 0; n < out.length; n++) {
      const v = echo[n]! + (near ? near[n]! : 0) + (this.noiseRms ? noise(this.rnd) * this.noiseRms * Math.sqrt(12) : 0);
      out[n] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
    }
  }
}
