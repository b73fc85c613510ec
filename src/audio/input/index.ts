// Microphone sources behind the AudioInput contract, chosen by
// audio.input.source: ALSA capture (an `arecord` child process, so a broken
// device can never take the kiosk process down), a WAV file (the sim
// driver's microphone; it loops), or silence. Frames are 20 ms.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AudioInput } from '../types.js';
import { parseWav } from '../wav.js';

const FRAME_MS = 20;

abstract class ClockedInput implements AudioInput {
  private readonly listeners = new Set<(s: Int16Array) => void>();
  private timer?: NodeJS.Timeout;
  private next = 0;
  constructor(readonly rate: number) {}
  onFrame(listener: (samples: Int16Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  protected emit(frame: Int16Array): void {
    for (const l of this.listeners) l(frame);
  }
  protected abstract frame(): Int16Array;
  async start(): Promise<void> {
    if (this.timer) return;
    this.next = performance.now();
    const tick = () => {
      // Drift-free: schedule against the ideal timeline, catch up if late.
      while (performance.now() >= this.next) {
        this.emit(this.frame());
        this.next += FRAME_MS;
      }
      this.timer = setTimeout(tick, Math.max(0, this.next - performance.now()));
    };
    tick();
  }
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export class SilenceInput extends ClockedInput {
  protected frame(): Int16Array {
    return new Int16Array((this.rate * FRAME_MS) / 1000);
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
  protected frame(): Int16Array {
    const n = (this.rate * FRAME_MS) / 1000;
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.samples[this.pos]!;
      this.pos = (this.pos + 1) % this.samples.length;
    }
    return out;
  }
}

/** ALSA capture through arecord: raw S16_LE mono at the requested rate. */
export class ArecordInput implements AudioInput {
  private child?: ChildProcess;
  private readonly listeners = new Set<(s: Int16Array) => void>();
  private pending = Buffer.alloc(0);
  constructor(
    readonly rate: number,
    private readonly device: string,
    private readonly onError: (msg: string) => void = () => {},
  ) {}
  onFrame(listener: (samples: Int16Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async start(): Promise<void> {
    if (this.child) return;
    const bytes = (this.rate * FRAME_MS * 2) / 1000;
    const child = spawn('arecord', ['-q', '-D', this.device, '-t', 'raw', '-f', 'S16_LE', '-c', '1', '-r', String(this.rate), '--buffer-time=40000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => {
      this.pending = Buffer.concat([this.pending, d]);
      while (this.pending.length >= bytes) {
        const f = this.pending.subarray(0, bytes);
        this.pending = this.pending.subarray(bytes);
        const s = new Int16Array(bytes / 2);
        for (let i = 0; i < s.length; i++) s[i] = f.readInt16LE(i * 2);
        for (const l of this.listeners) l(s);
      }
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => this.onError(`microphone: ${e.message}`));
    child.on('exit', (code) => {
      if (this.child === child && code !== 0) this.onError(`microphone (arecord -D ${this.device}) exited ${code}: ${err.trim().slice(0, 300)}`);
      if (this.child === child) this.child = undefined;
    });
  }
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    c?.kill();
  }
}

export function createInput(cfg: { source: 'alsa' | 'file' | 'silence'; device: string; file?: string }, rate: number, onError?: (msg: string) => void): AudioInput {
  if (cfg.source === 'file') {
    if (!cfg.file) throw new Error('audio.input.file is required for the file source');
    return new WavFileInput(cfg.file);
  }
  if (cfg.source === 'alsa') return new ArecordInput(rate, cfg.device, onError);
  return new SilenceInput(rate);
}
