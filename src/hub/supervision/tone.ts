// The test call's tones (contract: docs/supervision.md): a steady sine at
// -12 dBFS sent from the answer on, and a Goertzel detector that reports a
// tone once it was present for >= 300 ms, at its frequency within 5 %.
import type { FrameTimeListener } from '../../audio/types.js';
import { ClockedInput } from '../../audio/input/index.js';

/** -12 dBFS as a sine's peak. */
export const TONE_PEAK = Math.round(32767 * 10 ** (-12 / 20));
export const DETECT_MS = 300;
const FRAME_MS = 20;
/** frames handed to a new listener at once: the call's ring holds 200 ms, so up to 140 ms of event-loop lag leaves no gap */
const CUSHION_FRAMES = 7;
/** probe frequencies (x the tone): +-5 % in quarter-bin steps, so a tone anywhere in the band lands near one */
const PROBES = [0.95, 0.975, 1, 1.025, 1.05];

/**
 * One tone source for every call: one task on the media clock hands the same
 * frame to each listening call, in the same wake-up as (and before) the calls'
 * RTP send, so a thousand test calls cost one task, and no call finds its ring
 * empty because two timers drifted apart under load. The frame holds a whole
 * number of periods (2000 Hz at 8 kHz: 4 samples), so consecutive frames join
 * without a phase jump.
 */
export class ToneInput extends ClockedInput {
  constructor(
    readonly freq: number,
    rate = 8000,
  ) {
    super(rate);
    const n = this.buf.length;
    for (let i = 0; i < n; i++) this.buf[i] = Math.round(TONE_PEAK * Math.sin((2 * Math.PI * freq * i) / rate + Math.PI / 4));
  }

  protected frame(): void {
    // the same whole-period frame every time
  }

  override onFrame(listener: FrameTimeListener): () => void {
    const off = super.onFrame(listener);
    // A cushion of 140 ms, so the far end's 300 ms run starts whole even when the
    // call's first send comes before this clock's first frame for it.
    for (let i = 0; i < CUSHION_FRAMES; i++) listener(this.buf, performance.now());
    if (!this.running) void super.start();
    return () => {
      off();
      if (this.listeners.size === 0) void super.stop();
    };
  }

  /** Started and stopped by its listeners. */
  override async start(): Promise<void> {}
  override async stop(): Promise<void> {}

  get calls(): number {
    return this.listeners.size;
  }
}

/** Share of a block's energy at `freq` (1 for a pure tone on the bin), by Goertzel. */
export function goertzelShare(x: Int16Array, start: number, n: number, freq: number, rate: number): number {
  const w = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = start; i < start + n; i++) {
    const v = x[i]!;
    energy += v * v;
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  if (energy === 0) return 0;
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return power / ((n / 2) * energy);
}

/**
 * Detects a tone in decoded audio fed in any chunk size: 20 ms blocks, each
 * judged at freq and in steps across +- 5 % (a bin is 50 Hz wide); a block counts
 * when most of its energy is at the tone and it is louder than -40 dBFS.
 * `detected` turns true after DETECT_MS of consecutive tone blocks.
 */
export class ToneDetector {
  private readonly n: number;
  private readonly buf: Int16Array;
  private fill = 0;
  private runMs = 0;
  detected = false;
  /** blocks judged, and how many held the tone */
  blocks = 0;
  toneBlocks = 0;

  constructor(
    readonly freq: number,
    readonly rate: number,
    private readonly minRms = 32767 * 10 ** (-40 / 20),
  ) {
    this.n = (rate * FRAME_MS) / 1000;
    this.buf = new Int16Array(this.n);
  }

  /** Feeds samples; returns true once (the block in which the tone became detected). */
  push(pcm: Int16Array): boolean {
    let fired = false;
    let i = 0;
    while (i < pcm.length) {
      const take = Math.min(this.n - this.fill, pcm.length - i);
      this.buf.set(pcm.subarray(i, i + take), this.fill);
      this.fill += take;
      i += take;
      if (this.fill === this.n) {
        this.fill = 0;
        if (this.block() && !this.detected && this.runMs >= DETECT_MS) {
          this.detected = true;
          fired = true;
        }
      }
    }
    return fired;
  }

  private block(): boolean {
    this.blocks++;
    let energy = 0;
    for (let i = 0; i < this.n; i++) energy += this.buf[i]! * this.buf[i]!;
    const rms = Math.sqrt(energy / this.n);
    let share = 0;
    if (rms >= this.minRms) for (const k of PROBES) share = Math.max(share, goertzelShare(this.buf, 0, this.n, this.freq * k, this.rate));
    const tone = share >= 0.5;
    if (tone) {
      this.toneBlocks++;
      this.runMs += FRAME_MS;
    } else this.runMs = 0;
    return tone;
  }
}
