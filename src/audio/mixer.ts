// The mixer behind AudioOutput: one output stream, frames of `frameMs` mixed
// on our own real-time schedule (performance.now(), drift-free: frame k is due
// at epoch + k*frameMs, whatever the device's pace; the null and file devices
// take data as fast as it comes). The output runs from start-up, silent when
// nothing plays, so a device is never opened "just in time" and the first
// syllable of an announcement cannot be lost to device start-up.
import { Arbiter, type ArbiterOptions } from './arbiter.js';
import { createResampler, type Resampler } from './resample.js';
import { NullSink, type Sink } from './sinks.js';
import type { AudioChannel, AudioOutput, ChannelName } from './types.js';
import { CHANNELS } from './types.js';

export interface StreamOptions {
  channel: ChannelName;
  rate: number;
  id?: string;
  /** the stream's own volume, 0..1 (default 1) */
  volume?: number;
  /** order inside a channel: higher plays first (multicast group priority) */
  priority?: number;
  /** live audio (call, page): while it waits or is muted it is consumed, never held back */
  live?: boolean;
  /** performance.now() instant of the first sample (synchronised start) */
  startAt?: number;
}

export type EndReason = 'done' | 'closed' | 'stopped' | 'preempted' | 'error';

export interface StartInfo {
  /** performance.now() instant of the first sample on the output timeline */
  at: number;
  /** performance.now() when the frame holding it was handed to the device */
  writtenAt: number;
  /** the nominal start of that frame on the mixer's schedule */
  frameT0: number;
}

const LIVE_MAX_MS = 400; // a live stream never lags more than this behind real time

export class MixerStream implements AudioChannel {
  readonly id: string;
  readonly channel: ChannelName;
  readonly priority: number;
  readonly live: boolean;
  readonly seq: number;
  volume: number;
  startAt?: number;
  started = false;
  /** output-timeline instant just after its last sample, once drained */
  endedAt?: number;
  /** current gain, undefined until the first sample played */
  gain?: number;
  onStart?: (info: StartInfo) => void;
  onEnd?: (reason: EndReason, error?: string) => void;

  private chunks: Int16Array[] = [];
  private head = 0;
  queued = 0;
  private pendingIn: Int16Array[] | null = null;
  private resampler?: Resampler;
  private ending = false;
  finished = false;

  constructor(
    private readonly mixer: Mixer,
    opts: StreamOptions,
    seq: number,
  ) {
    if (!CHANNELS.includes(opts.channel)) throw new Error(`unknown audio channel "${opts.channel}"`);
    if (!Number.isInteger(opts.rate) || opts.rate < 4000 || opts.rate > 192000) throw new Error(`unsupported rate ${opts.rate}`);
    this.id = opts.id ?? `${opts.channel}-${seq}`;
    this.channel = opts.channel;
    this.priority = opts.priority ?? 0;
    this.live = opts.live ?? (opts.channel === 'call' || opts.channel === 'page');
    this.volume = opts.volume ?? 1;
    this.startAt = opts.startAt;
    this.seq = seq;
    if (opts.rate !== mixer.rate) {
      this.pendingIn = [];
      createResampler(opts.rate, mixer.rate).then(
        (r) => {
          if (this.finished) return r.destroy();
          this.resampler = r;
          const pend = this.pendingIn ?? [];
          this.pendingIn = null;
          for (const p of pend) this.push(r.process(p));
        },
        (err: Error) => this.finish('error', `resampler: ${err.message}`),
      );
    }
  }

  write(samples: Int16Array): void {
    if (this.finished || this.ending) return;
    const copy = samples.slice(); // writers may reuse their buffers
    if (this.pendingIn) this.pendingIn.push(copy);
    else this.push(this.resampler ? this.resampler.process(copy) : copy);
  }

  private push(s: Int16Array): void {
    if (!s.length) return;
    this.chunks.push(s);
    this.queued += s.length;
    if (this.live) {
      const max = (LIVE_MAX_MS * this.mixer.rate) / 1000;
      if (this.queued > max) this.skip(this.queued - max);
    }
  }

  end(): void {
    this.ending = true;
  }

  close(): void {
    this.finish('closed');
  }

  /** Ends now with a reason (pa.stop, arbiter "stop", errors). */
  finish(reason: EndReason, error?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.chunks = [];
    this.queued = 0;
    this.resampler?.destroy();
    this.resampler = undefined;
    this.mixer.remove(this);
    this.onEnd?.(reason, error);
  }

  get drained(): boolean {
    return this.ending && this.queued === 0 && this.pendingIn === null;
  }

  /** Adds up to n samples into acc[from..] with a gain ramp g0 -> g1; returns samples read. */
  mixInto(acc: Float64Array, from: number, n: number, g0: number, g1: number): number {
    let done = 0;
    const total = Math.min(n, this.queued);
    const step = total > 0 ? (g1 - g0) / total : 0;
    while (done < total) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length - this.head, total - done);
      if (step === 0) {
        if (g0 === 1) for (let i = 0; i < take; i++) acc[from + done + i]! += c[this.head + i]!;
        else if (g0 !== 0) for (let i = 0; i < take; i++) acc[from + done + i]! += c[this.head + i]! * g0;
      } else {
        for (let i = 0; i < take; i++) acc[from + done + i]! += c[this.head + i]! * (g0 + step * (done + i));
      }
      this.advance(take);
      done += take;
    }
    return done;
  }

  skip(n: number): void {
    let left = Math.min(n, this.queued);
    while (left > 0) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length - this.head, left);
      this.advance(take);
      left -= take;
    }
  }

  private advance(k: number): void {
    this.head += k;
    this.queued -= k;
    if (this.head >= this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}

export interface MixerOptions extends ArbiterOptions {
  rate: number;
  frameMs?: number;
  /** time for a full-scale gain change when ducking, muting or resuming */
  fadeMs?: number;
  /** volume of everything but the emergency channel (zone, time of day, ambient) */
  volume?: number;
  /** the emergency channel plays at its own volume, not the kiosk's */
  emergencyVolume?: number;
  sink?: Sink;
}

export type FrameListener = (frame: Int16Array, t0: number, writtenAt: number) => void;

export class Mixer implements AudioOutput {
  readonly rate: number;
  readonly frameMs: number;
  readonly frameSamples: number;
  /** rules, fades and volumes change live with the config */
  arbiter: Arbiter;
  fadeMs: number;
  volume: number;
  emergencyVolume: number;
  private sink: Sink;
  private streams: MixerStream[] = [];
  private seq = 0;
  private timer?: NodeJS.Timeout;
  private nextT0 = 0;
  private readonly acc: Float64Array;
  private readonly frameListeners = new Set<FrameListener>();
  framesMixed = 0;
  resyncs = 0;

  constructor(opts: MixerOptions) {
    this.rate = opts.rate;
    this.frameMs = opts.frameMs ?? 10;
    this.frameSamples = (this.rate * this.frameMs) / 1000;
    if (!Number.isInteger(this.frameSamples)) throw new Error(`frame of ${this.frameMs} ms is not a whole number of samples at ${this.rate} Hz`);
    this.arbiter = new Arbiter(opts);
    this.fadeMs = opts.fadeMs ?? 250;
    this.volume = opts.volume ?? 1;
    this.emergencyVolume = opts.emergencyVolume ?? 1;
    this.sink = opts.sink ?? new NullSink();
    this.acc = new Float64Array(this.frameSamples);
  }

  get sinkKind(): Sink['kind'] {
    return this.sink.kind;
  }

  setSink(sink: Sink): void {
    const old = this.sink;
    this.sink = sink;
    if (old !== sink) old.close();
  }

  start(): this {
    if (this.timer) return this;
    this.nextT0 = performance.now();
    this.loop();
    return this;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of [...this.streams]) s.finish('stopped');
    this.sink.close();
  }

  openChannel(opts: StreamOptions): MixerStream {
    const s = new MixerStream(this, opts, ++this.seq);
    this.streams.push(s);
    return s;
  }

  remove(s: MixerStream): void {
    const i = this.streams.indexOf(s);
    if (i >= 0) this.streams.splice(i, 1);
  }

  /** Streams playing or waiting now (for status and the ambient-noise meter). */
  active(): MixerStream[] {
    return [...this.streams];
  }

  onFrame(l: FrameListener): () => void {
    this.frameListeners.add(l);
    return () => this.frameListeners.delete(l);
  }

  private loop(): void {
    const now = performance.now();
    if (now - this.nextT0 > 200) {
      // the process stalled (GC, suspend): start a fresh timeline rather than burst
      this.resyncs++;
      this.nextT0 = now;
    }
    while (this.nextT0 <= now) {
      this.mixFrame(this.nextT0);
      this.nextT0 += this.frameMs;
    }
    // kept referenced: a running output keeps the process alive, like a server
    // whole milliseconds, at least 1: a zero-delay timer re-armed from a timer
    // callback could hold the timers phase and starve the process's other timers
    this.timer = setTimeout(() => this.loop(), Math.max(1, Math.ceil(this.nextT0 - performance.now())));
  }

  /** Mixes the frame starting at t0 (performance.now() time) and hands it to the sink. */
  mixFrame(t0: number): Int16Array {
    const N = this.frameSamples;
    const acc = this.acc;
    acc.fill(0);
    const msPerSample = 1000 / this.rate;
    const present: { s: MixerStream; from: number }[] = [];
    for (const s of this.streams) {
      if (s.drained) continue;
      let from = 0;
      if (s.startAt !== undefined && !s.started) {
        from = Math.round((s.startAt - t0) / msPerSample);
        if (from >= N) continue; // not yet its time
        if (from < 0) from = 0; // late: start at once
      }
      present.push({ s, from });
    }
    const decisions = this.arbiter.decide(present.map((p) => p.s));
    const startedNow: { s: MixerStream; at: number }[] = [];
    const maxStep = (N / this.rate) * (1000 / this.fadeMs);
    for (const { s, from } of present) {
      const d = decisions.get(s)!;
      if (d.stop) {
        s.finish('preempted', `preempted by a higher channel`);
        continue;
      }
      if (!d.active) {
        if (s.live) s.skip(N);
        continue;
      }
      const own = s.channel === 'emergency' ? s.volume * this.emergencyVolume : s.volume * this.volume;
      const target = own * d.gain;
      if (s.queued === 0) {
        if (s.gain !== undefined) s.gain = moveToward(s.gain, target, maxStep);
        continue;
      }
      const g0 = s.gain ?? target; // nothing played yet: start at the right level, no fade-in
      const g1 = moveToward(g0, target, maxStep);
      const n = s.mixInto(acc, from, N - from, g0, g1);
      s.gain = g1;
      if (s.drained) s.endedAt = t0 + (from + n) * msPerSample;
      if (!s.started && n > 0) {
        s.started = true;
        startedNow.push({ s, at: t0 + from * msPerSample });
      }
    }
    const frame = new Int16Array(N);
    for (let i = 0; i < N; i++) {
      const v = Math.round(acc[i]!);
      frame[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.sink.write(Buffer.from(frame.buffer));
    const writtenAt = performance.now();
    this.framesMixed++;
    for (const l of this.frameListeners) l(frame, t0, writtenAt);
    for (const { s, at } of startedNow) s.onStart?.({ at, writtenAt, frameT0: t0 });
    for (const s of [...this.streams]) if (s.drained) s.finish('done');
    return frame;
  }
}

function moveToward(g: number, target: number, maxStep: number): number {
  if (Math.abs(target - g) <= maxStep) return target;
  return g + Math.sign(target - g) * maxStep;
}
