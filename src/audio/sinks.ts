// Where the mixer's frames go. The ALSA device is written directly by the
// native addon's AlsaOutput when it works (a non-blocking write from the media
// clock: DirectAlsaSink), else through the `speaker` module (AlsaSink), whose
// every frame costs a promise and a trip through the libuv thread pool. Either
// is opened only after a throw-away child process has shown that loading and
// opening it works for the configured device: on a machine without a usable
// ALSA device, loading `speaker` aborts the whole process (SIGABRT), which no
// try/catch can stop, and the emergency path must survive that.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { openSync, writeSync, closeSync } from 'node:fs';
import { wavHeader } from './wav.js';
import { loadDsp } from '../dsp/native.js';

export interface Sink {
  readonly kind: 'alsa' | 'file' | 'null';
  /** One mixed frame; the buffer is the mixer's and is reused: a sink that keeps it copies. */
  write(frame: Buffer): void;
  close(): void;
  /** called once if the sink fails while in use */
  onError?: (err: Error) => void;
}

export class NullSink implements Sink {
  readonly kind = 'null' as const;
  write(): void {}
  close(): void {}
}

/** Raw PCM (or a WAV with open sizes when the name ends in .wav), written as played. */
export class FileSink implements Sink {
  readonly kind = 'file' as const;
  private fd: number;
  onError?: (err: Error) => void;
  constructor(file: string, rate: number) {
    this.fd = openSync(file, 'w');
    if (file.toLowerCase().endsWith('.wav')) writeSync(this.fd, wavHeader(rate, 0xffffffff));
  }
  write(frame: Buffer): void {
    if (this.fd < 0) return;
    try {
      writeSync(this.fd, frame);
    } catch (err) {
      this.close();
      this.onError?.(err as Error);
    }
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

const require = createRequire(import.meta.url);

function speakerPath(): string | undefined {
  try {
    return require.resolve('speaker');
  } catch {
    return undefined;
  }
}

/**
 * Tries `speaker` in a child process: load, open the device, play one silent
 * frame. Resolves with null when it works, else the reason.
 */
export function probeSpeaker(device: string, rate: number, timeoutMs = 5000): Promise<string | null> {
  const mod = speakerPath();
  if (!mod) return Promise.resolve('the speaker module is not installed');
  const script = `
    const Speaker = require(${JSON.stringify(mod)});
    const s = new Speaker({ channels: 1, bitDepth: 16, sampleRate: ${rate}, device: ${JSON.stringify(device)}, samplesPerFrame: ${rate / 100} });
    s.on('error', (e) => { console.error(e && e.message); process.exit(2); });
    s.write(Buffer.alloc(${(rate / 100) * 2}), () => process.exit(0));`;
  return probe(script, device, timeoutMs);
}

/** Direct ALSA writes need the addon; its device buffer (ms): room for the event loop's longer pauses. */
export const DIRECT_LATENCY_MS = 100;

/**
 * Tries the addon's AlsaOutput in a child process: load, open the device,
 * write one silent frame. Resolves with null when it works, else the reason.
 */
export function probeDirectAlsa(device: string, rate: number, timeoutMs = 5000): Promise<string | null> {
  const dsp = loadDsp();
  if (!dsp.dsp) return Promise.resolve(dsp.reason);
  const script = `
    const { AlsaOutput } = require(${JSON.stringify(dsp.dsp.binaryPath)});
    const o = new AlsaOutput(${JSON.stringify(device)}, ${rate}, ${DIRECT_LATENCY_MS});
    o.write(new Int16Array(${rate / 100}));
    o.close();
    process.exit(0);`;
  return probe(script, device, timeoutMs);
}

function probe(script: string, device: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(`opening ALSA device "${device}" did not finish within ${timeoutMs} ms`);
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(`cannot start the audio probe: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(null);
      const detail = err.trim().split('\n').slice(-3).join(' ').slice(0, 300);
      resolve(`ALSA device "${device}" unusable (${signal ? `probe killed by ${signal}` : `probe exit ${code}`})${detail ? `: ${detail}` : ''}`);
    });
  });
}

interface SpeakerLike {
  write(b: Buffer): boolean;
  on(ev: 'error', cb: (e: Error) => void): void;
  close(flush: boolean): void;
  writableLength: number;
}

/** Plays through ALSA. Only construct after probeSpeaker() said yes. */
export class AlsaSink implements Sink {
  readonly kind = 'alsa' as const;
  private speaker?: SpeakerLike;
  private readonly maxQueued: number;
  /** copies of the frames the device still holds: more slots than the most it may queue, reused in turn */
  private readonly slots: Buffer[];
  private slot = 0;
  dropped = 0;
  onError?: (err: Error) => void;

  constructor(device: string, rate: number, frameSamples: number) {
    const Speaker = require('speaker') as new (o: object) => SpeakerLike;
    this.speaker = new Speaker({ channels: 1, bitDepth: 16, sampleRate: rate, device, samplesPerFrame: frameSamples });
    this.maxQueued = rate; // one second of audio: beyond that the device is stuck or slower than our clock
    const frameBytes = frameSamples * 2;
    this.slots = Array.from({ length: Math.ceil((this.maxQueued * 2) / frameBytes) + 8 }, () => Buffer.alloc(frameBytes));
    this.speaker.on('error', (e) => {
      this.speaker = undefined;
      this.onError?.(e);
    });
  }

  write(frame: Buffer): void {
    const s = this.speaker;
    if (!s) return;
    if (s.writableLength > this.maxQueued * 2) {
      this.dropped++; // keep latency bounded rather than queue without end
      return;
    }
    let b = this.slots[this.slot]!;
    if (b.length !== frame.length) b = this.slots[this.slot] = Buffer.alloc(frame.length);
    frame.copy(b);
    this.slot = (this.slot + 1) % this.slots.length;
    s.write(b);
  }

  close(): void {
    const s = this.speaker;
    this.speaker = undefined;
    try {
      s?.close(false);
    } catch {
      /* already closed */
    }
  }
}

/**
 * Plays through ALSA with the addon's non-blocking writes, from the media
 * clock's own wake-up. Only construct after probeDirectAlsa() said yes. A
 * frame the device has no room for is dropped (latency stays bounded by the
 * device buffer); a device error closes the sink and calls onError once.
 */
export class DirectAlsaSink implements Sink {
  readonly kind = 'alsa' as const;
  private out?: { write(s: Int16Array): number; close(): void };
  private view?: Int16Array;
  private viewOf?: Buffer;
  private other?: Int16Array;
  private otherOf?: Buffer;
  dropped = 0;
  onError?: (err: Error) => void;

  constructor(device: string, rate: number) {
    const dsp = loadDsp();
    if (!dsp.dsp) throw new Error(dsp.reason);
    this.out = new dsp.dsp.AlsaOutput(device, rate, DIRECT_LATENCY_MS);
  }

  write(frame: Buffer): void {
    const out = this.out;
    if (!out) return;
    // the mixer hands one of two buffers (its frame, or its longer frame while only calls play): a view of each, made once
    if (frame !== this.viewOf) {
      const prevOf = this.viewOf;
      const prev = this.view;
      if (frame === this.otherOf) {
        this.view = this.other;
      } else this.view = new Int16Array(frame.buffer, frame.byteOffset, frame.length >> 1);
      this.viewOf = frame;
      this.otherOf = prevOf;
      this.other = prev;
    }
    try {
      if (out.write(this.view!) === 0) this.dropped++;
    } catch (err) {
      this.close();
      this.onError?.(err as Error);
    }
  }

  close(): void {
    const out = this.out;
    this.out = undefined;
    out?.close();
  }
}
