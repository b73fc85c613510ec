// Microphone sources behind the AudioInput contract, chosen by
// audio.input.source: ALSA capture (an `arecord` child process, so a broken
// device can never take the kiosk process down), a WAV file (the sim
// driver's microphone; it loops), silence, or a simulated room (room.ts).
// Frames are 20 ms, handed out in a buffer the source reuses (listeners copy
// what they keep), with the instant just after their last sample.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AudioInput, FrameTimeListener } from '../types.js';
import { parseWav } from '../wav.js';
import { mediaClock, ORDER, type ClockTask } from '../media-clock.js';

const FRAME_MS = 20;

/**
 * A source whose 20 ms frames come from the media clock itself, in the same
 * wake-up as (and just before) the calls' RTP send: a call never finds its
 * ring empty because two timers drifted apart on a loaded machine.
 */
export abstract class ClockedInput implements AudioInput {
  protected readonly listeners = new Set<FrameTimeListener>();
  /** on the process's media clock, aligned to the mixer's frames (see media-clock.ts) */
  private removeTask?: () => void;
  protected readonly buf: Int16Array;
  constructor(readonly rate: number) {
    this.buf = new Int16Array((rate * FRAME_MS) / 1000);
  }
  onFrame(listener: FrameTimeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Fills this.buf with the next frame. */
  protected abstract frame(): void;
  protected get running(): boolean {
    return !!this.removeTask;
  }
  async start(): Promise<void> {
    if (this.removeTask) return;
    const task: ClockTask = {
      order: ORDER.input,
      due: mediaClock.alignUp(performance.now() + FRAME_MS, FRAME_MS),
      tick: (now) => {
        // Drift-free: frame k ends at start + k*20 ms; a late wake-up catches up.
        let next = task.due;
        while (now >= next) {
          this.frame();
          for (const l of this.listeners) l(this.buf, next);
          next += FRAME_MS;
        }
        return next;
      },
    };
    this.removeTask = mediaClock.add(task);
  }
  async stop(): Promise<void> {
    this.removeTask?.();
    this.removeTask = undefined;
  }
}

export class SilenceInput extends ClockedInput {
  protected frame(): void {
    // the buffer stays zero
  }
}

/** A WAV file played as the microphone, looped (mono 16-bit PCM, any rate). */
export class WavFileInput extends ClockedInput {
  private readonly samples: Int16Array;
  private pos = 0;
  constructor(file: string) {
    const wav = parseWav(readFileSync(file));
    super(wav.rate);
    this.samples = wav.samples;
    if (this.samples.length === 0) throw new Error(`${file}: no audio samples`);
  }
  protected frame(): void {
    const out = this.buf;
    for (let i = 0; i < out.length; i++) {
      out[i] = this.samples[this.pos]!;
      this.pos = (this.pos + 1) % this.samples.length;
    }
  }
}

/** ALSA capture through arecord: raw S16_LE mono at the requested rate. */
export class ArecordInput implements AudioInput {
  private child?: ChildProcess;
  private readonly listeners = new Set<FrameTimeListener>();
  private readonly frame: Int16Array;
  private fill = 0;
  /** capture clock: instant of sample 0 and samples since, re-anchored when it drifts from arrival times */
  private t0 = 0;
  private count = 0;
  constructor(
    readonly rate: number,
    private readonly device: string,
    private readonly onError: (msg: string) => void = () => {},
  ) {
    this.frame = new Int16Array((rate * FRAME_MS) / 1000);
  }
  onFrame(listener: FrameTimeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn('arecord', ['-q', '-D', this.device, '-t', 'raw', '-f', 'S16_LE', '-c', '1', '-r', String(this.rate), '--buffer-time=40000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.count = 0;
    this.fill = 0;
    let odd: number | undefined; // a sample split across two reads
    child.stdout!.on('data', (d: Buffer) => {
      const now = performance.now();
      let i = 0;
      const f = this.frame;
      const N = f.length;
      if (odd !== undefined && d.length) {
        f[this.fill++] = (odd | (d[0]! << 8)) << 16 >> 16;
        odd = undefined;
        i = 1;
        if (this.fill === N) this.emit(now, (d.length - 1) >> 1);
      }
      for (; i + 1 < d.length; i += 2) {
        f[this.fill++] = d.readInt16LE(i);
        if (this.fill === N) this.emit(now, (d.length - i - 2) >> 1);
      }
      if (i < d.length) odd = d[i]!;
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => this.onError(`microphone: ${e.message}`));
    child.on('exit', (code) => {
      if (this.child === child && code !== 0) this.onError(`microphone (arecord -D ${this.device}) exited ${code}: ${err.trim().slice(0, 300)}`);
      if (this.child === child) this.child = undefined;
    });
  }
  /** A full frame; `after` samples of this read follow it, so it ended that long before `now`. */
  private emit(now: number, after: number): void {
    this.fill = 0;
    this.count += this.frame.length;
    const arrival = now - (after * 1000) / this.rate;
    let at = this.t0 + (this.count * 1000) / this.rate;
    // the device's clock, anchored to arrival times: re-anchor on the first frame and when they part by over 20 ms
    if (this.count === this.frame.length || Math.abs(at - arrival) > 20) {
      this.t0 = arrival - (this.count * 1000) / this.rate;
      at = arrival;
    }
    for (const l of this.listeners) l(this.frame, at);
  }
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    c?.kill();
  }
}

export function createInput(cfg: { source: 'alsa' | 'file' | 'silence' | 'room'; device: string; file?: string }, rate: number, onError?: (msg: string) => void): AudioInput {
  if (cfg.source === 'file') {
    if (!cfg.file) throw new Error('audio.input.file is required for the file source');
    return new WavFileInput(cfg.file);
  }
  if (cfg.source === 'alsa') return new ArecordInput(rate, cfg.device, onError);
  if (cfg.source === 'room') throw new Error('the room source needs the mixer: use createMicrophone');
  return new SilenceInput(rate);
}
