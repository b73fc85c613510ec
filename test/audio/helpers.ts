// Helpers for the audio tests: a sink that keeps what was played, tones,
// tone detection (Goertzel), a hub-like clip server, and per-process ALSA
// file-capture configs.
import http from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Sink } from '../../src/audio/sinks.js';
import { tmpDir } from '../helpers/tmp.js';

export const silentLog = pino({ level: 'silent' });

export class MemorySink implements Sink {
  readonly kind = 'null' as const;
  frames: Int16Array[] = [];
  write(frame: Buffer): void {
    this.frames.push(new Int16Array(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength)));
  }
  close(): void {}
  all(): Int16Array {
    const n = this.frames.reduce((a, f) => a + f.length, 0);
    const out = new Int16Array(n);
    let o = 0;
    for (const f of this.frames) {
      out.set(f, o);
      o += f.length;
    }
    return out;
  }
}

export function tone(freq: number, ms: number, rate: number, amp = 0.5): Int16Array {
  const n = Math.round((ms * rate) / 1000);
  return Int16Array.from({ length: n }, (_, i) => Math.round(Math.sin((2 * Math.PI * freq * i) / rate) * amp * 32767));
}

/** Deterministic noise: a clip whose every sample matters. */
export function noise(n: number, seed = 1): Int16Array {
  let x = seed;
  return Int16Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return ((x >> 8) & 0xffff) - 0x8000;
  });
}

/** Amplitude (0..1 of full scale) of one frequency in a block. */
export function level(x: Int16Array, freq: number, rate: number): number {
  const w = (2 * Math.PI * freq) / rate;
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    re += x[i]! * Math.cos(w * i);
    im -= x[i]! * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / x.length / 32768;
}

/** Levels of a frequency in consecutive blocks of `ms`. */
export function levels(x: Int16Array, freq: number, rate: number, ms = 50): number[] {
  const n = (rate * ms) / 1000;
  const out: number[] = [];
  for (let o = 0; o + n <= x.length; o += n) out.push(level(x.subarray(o, o + n), freq, rate));
  return out;
}

/** Index of `needle` inside `hay`, or -1. */
export function indexOfSamples(hay: Int16Array, needle: Int16Array, from = 0): number {
  const hb = Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength);
  const nb = Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength);
  let i = hb.indexOf(nb, from * 2);
  while (i >= 0 && i % 2) i = hb.indexOf(nb, i + 1);
  return i < 0 ? -1 : i / 2;
}

export interface ClipServer {
  url: string;
  token: string;
  requests: { path: string; auth?: string }[];
  set(sha: string, body: Buffer): void;
  close(): Promise<void>;
}

/** Serves GET /clips/<sha256> like the hub: bearer token required. */
export async function clipServer(token = 'test-token-0123456789abcdef'): Promise<ClipServer> {
  const clips = new Map<string, Buffer>();
  const requests: ClipServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end();
      return;
    }
    const m = /^\/clips\/([0-9a-f]{64})$/.exec(req.url ?? '');
    const body = m ? clips.get(m[1]!) : undefined;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    set: (sha, body) => clips.set(sha, body),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** An XDG_CONFIG_HOME whose ALSA default device captures to a file, as scripts/test.sh does. */
export function alsaCapture(): { xdg: string; capture: string } {
  const dir = tmpDir('hp-alsa-');
  const xdg = path.join(dir, 'xdg');
  const capture = path.join(dir, 'capture.raw');
  mkdirSync(path.join(xdg, 'alsa'), { recursive: true });
  writeFileSync(path.join(xdg, 'alsa', 'asoundrc'), `pcm.!default { type file; slave.pcm "null"; file "${capture}"; format "raw" }\n`);
  return { xdg, capture };
}

/** An XDG_CONFIG_HOME with no ALSA config at all: on this machine, no usable device. */
export function noAlsa(): { xdg: string } {
  const xdg = path.join(tmpDir('hp-noalsa-'), 'xdg');
  mkdirSync(xdg, { recursive: true });
  return { xdg };
}

/**
 * A fake time source for a MediaClock: time moves only in advance(), each timer firing at its own instant, in order.
 * Timers fire exactly when due (a real timer fires late), so what a test measures is the schedule itself.
 */
export class FakeTime {
  t: number;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  constructor(start = 1000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  /** Moves time forward by ms, running every timer due on the way at its instant. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: (typeof this.timers)[number] | undefined;
      for (const x of this.timers) if (x.at <= end && (!next || x.at < next.at)) next = x;
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
}

/** A raw capture file as samples (16-bit mono); none when the file is not there (nothing was played). */
export function captureSamples(file: string): Int16Array {
  if (!existsSync(file)) return new Int16Array(0);
  const b = readFileSync(file);
  return new Int16Array(b.buffer, b.byteOffset, b.length >> 1);
}

/** The 100 ms windows where `hz` is loud (level above `min`), joined: what sox then measures. */
export function loudWindows(x: Int16Array, hz: number, rate: number, min = 0.05): Int16Array {
  const n = rate / 10;
  const parts: Int16Array[] = [];
  for (let o = 0; o + n <= x.length; o += n) if (level(x.subarray(o, o + n), hz, rate) > min) parts.push(x.subarray(o, o + n));
  const out = new Int16Array(parts.length * n);
  parts.forEach((p, i) => out.set(p, i * n));
  return out;
}
