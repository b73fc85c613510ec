// Test tones: a sine source that stands in for the microphone during a test
// call, and a Goertzel detector that says whether a frequency is present.
// Contract with the test answerer: the kiosk sends 1000 Hz, the answerer
// 2000 Hz, both at -12 dBFS from the answer on; a tone counts as heard after
// 300 ms of 20 ms blocks in which it dominates (frequency within about 5 %).
import type { AudioChannel, AudioOutput, ChannelName } from '../audio/types.js';
import { ClockedInput } from '../audio/input/index.js';

export const KIOSK_TONE_HZ = 1000;
export const ANSWERER_TONE_HZ = 2000;
/** -12 dBFS peak */
export const TONE_AMPLITUDE = Math.round(32767 * 10 ** (-12 / 20));
export const DETECT_MS = 300;

/** A continuous sine as an AudioInput: 20 ms frames on the media clock, like a microphone (ClockedInput). */
export class ToneInput extends ClockedInput {
  private phase = 0;
  constructor(
    rate: number,
    private readonly hz: number,
    private readonly amplitude = TONE_AMPLITUDE,
  ) {
    super(rate);
  }
  protected frame(): void {
    fillSine(this.buf, this.rate, this.hz, this.amplitude, this.phase);
    this.phase += this.buf.length;
  }
}

export function fillSine(out: Int16Array, rate: number, hz: number, amplitude: number, startSample = 0): void {
  const w = (2 * Math.PI * hz) / rate;
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin(w * (startSample + i)));
}

/** Power of one frequency in a block (Goertzel), normalised like the block's energy (Parseval). */
export function goertzelShare(x: ArrayLike<number>, n: number, rate: number, hz: number): { share: number; rms: number } {
  const w = (2 * Math.PI * hz) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    energy += v * v;
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2; // |X(f)|^2
  // A pure sine of amplitude A over n samples: |X|^2 = (A n / 2)^2, energy = A^2 n / 2 -> share = 2|X|^2 / (n energy) = 1.
  const share = energy > 0 ? (2 * power) / (n * energy) : 0;
  return { share, rms: Math.sqrt(energy / Math.max(1, n)) };
}

/**
 * Counts 20 ms blocks in which `hz` carries most of the energy and the level
 * is above the floor; `heard` once DETECT_MS of them have been seen.
 */
export class ToneDetector {
  private block: Float64Array;
  private fill = 0;
  private rate = 0;
  detectedMs = 0;
  blocks = 0;
  /** the loudest level seen (dBFS), for the verdict's detail */
  peakDb = -Infinity;
  /** best share of the tone in a block */
  bestShare = 0;
  heardAt?: number;
  private readonly waiters: (() => void)[] = [];
  constructor(
    readonly hz: number,
    private readonly minShare = 0.5,
    private readonly floorDb = -45,
  ) {
    this.block = new Float64Array(0);
  }
  get heard(): boolean {
    return this.detectedMs >= DETECT_MS;
  }
  /** Feeds samples at `rate`. */
  feed(samples: Int16Array, rate: number): void {
    if (rate !== this.rate) {
      this.rate = rate;
      this.block = new Float64Array(rate / 50);
      this.fill = 0;
    }
    const N = this.block.length;
    for (let i = 0; i < samples.length; i++) {
      this.block[this.fill++] = samples[i]!;
      if (this.fill === N) {
        this.fill = 0;
        this.analyse();
      }
    }
  }
  private analyse(): void {
    const N = this.block.length;
    const { share, rms } = goertzelShare(this.block, N, this.rate, this.hz);
    this.blocks++;
    const db = rms > 0 ? 20 * Math.log10(rms / 32768) : -Infinity;
    if (db > this.peakDb) this.peakDb = db;
    if (share > this.bestShare) this.bestShare = share;
    if (share >= this.minShare && db >= this.floorDb) {
      this.detectedMs += 20;
      if (this.heard && this.heardAt === undefined) {
        this.heardAt = performance.now();
        for (const w of this.waiters.splice(0)) w();
      }
    }
  }
  /** Resolves true once heard, false after timeoutMs. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.heard) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
  describe(): string {
    const level = Number.isFinite(this.peakDb) ? `${this.peakDb.toFixed(1)} dBFS` : 'silence';
    return `${this.hz} Hz ${this.heard ? 'heard' : 'not heard'}: ${this.detectedMs} ms of ${this.blocks * 20} ms with the tone, loudest ${level}, best share ${(this.bestShare * 100).toFixed(0)} %`;
  }
}

/** An AudioOutput that hands what a call receives to a detector instead of the loudspeaker. */
export class DetectorOutput implements AudioOutput {
  readonly rate = 8000;
  constructor(readonly detector: ToneDetector) {}
  openChannel(opts: { channel: ChannelName; rate: number; id?: string }): AudioChannel {
    const d = this.detector;
    return {
      id: opts.id ?? 'test-call',
      channel: opts.channel,
      write: (s) => d.feed(s, opts.rate),
      end: () => {},
      close: () => {},
    };
  }
}
