// The sim driver's microphone in a simulated room: it hears what the mixer
// hands to the loudspeaker, through SyntheticRoom (clipping speaker, delay,
// decaying reverberation tail, noise floor), plus an optional near-end talker
// (a WAV file, looped). Its clock is the mixer's (one sound card plays and
// records), so its frames line up with the loudspeaker as on a real device.
// Runs at the mixer's rate.
import { readFileSync } from 'node:fs';
import type { AudioInput, FrameTimeListener } from '../types.js';
import type { FrameListener } from '../mixer.js';
import { parseWav } from '../wav.js';
import { SyntheticRoom, type RoomOptions } from '../../dsp/room.js';
import { loadDsp } from '../../dsp/native.js';

const FRAME_MS = 20;

export interface RoomSpeaker {
  readonly rate: number;
  onFrame(l: FrameListener): () => void;
}

export class RoomInput implements AudioInput {
  readonly rate: number;
  private readonly listeners = new Set<FrameTimeListener>();
  private readonly room: SyntheticRoom;
  private readonly near?: Int16Array;
  private nearPos = 0;
  private readonly frame: Int16Array;
  private readonly echo: Float64Array;
  private readonly nearBlock: Int16Array;
  private readonly block: Int16Array;
  private fill = 0;
  private off?: () => void;
  /** The sim's broken acoustic loop (a dead speaker or microphone): the room hears nothing of the loudspeaker. */
  loopBroken = false;

  constructor(
    private readonly speaker: RoomSpeaker,
    room: Partial<RoomOptions> = {},
    nearFile?: string,
  ) {
    this.rate = speaker.rate;
    this.room = new SyntheticRoom({ ...room, rate: this.rate });
    this.frame = new Int16Array((this.rate * FRAME_MS) / 1000);
    this.echo = new Float64Array(this.frame.length);
    this.nearBlock = new Int16Array(this.frame.length);
    this.block = new Int16Array(this.frame.length);
    if (nearFile) {
      const wav = parseWav(readFileSync(nearFile));
      let s = wav.samples;
      if (wav.rate !== this.rate) {
        const dsp = loadDsp().dsp;
        if (!dsp) throw new Error(`room source: ${nearFile} is at ${wav.rate} Hz, the mixer at ${this.rate} Hz, and resampling needs the DSP addon`);
        const r = new dsp.Resampler(wav.rate, this.rate, 6);
        const out = new Int16Array(Math.ceil((s.length * this.rate) / wav.rate) + 256);
        s = out.slice(0, r.process(s, out));
        r.close();
      }
      if (s.length) this.near = s;
    }
  }

  onFrame(listener: FrameTimeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.off) return;
    this.off = this.speaker.onFrame((f, t0) => this.hear(f, t0));
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = undefined;
  }

  /** One loudspeaker frame (any length) into the room; whole 20 ms microphone frames out. */
  private hear(f: Int16Array, t0: number): void {
    let i = 0;
    const N = this.frame.length;
    while (i < f.length) {
      const take = Math.min(N - this.fill, f.length - i);
      for (let k = 0; k < take; k++) this.block[this.fill + k] = f[i + k]!;
      this.fill += take;
      i += take;
      if (this.fill === N) {
        this.fill = 0;
        if (this.loopBroken) this.block.fill(0);
        this.room.echo(this.block, this.echo);
        let near: Int16Array | undefined;
        if (this.near) {
          const nb = this.nearBlock;
          for (let k = 0; k < N; k++) {
            nb[k] = this.near[this.nearPos]!;
            this.nearPos = this.nearPos + 1 === this.near.length ? 0 : this.nearPos + 1;
          }
          near = nb;
        }
        this.room.microphone(this.echo, near, this.frame);
        const at = t0 + (i * 1000) / this.rate;
        for (const l of this.listeners) l(this.frame, at);
      }
    }
  }
}
