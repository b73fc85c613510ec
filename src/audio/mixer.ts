// The mixer behind AudioOutput: one output stream, frames of `frameMs` mixed
// on our own real-time schedule (performance.now(), drift-free: frame k is due
// at epoch + k*frameMs, whatever the device's pace; the null and file devices
// take data as fast as it comes). The device is opened at start-up and kept
// open, so it is never opened "just in time" and the first syllable of an
// announcement cannot be lost to device start-up; but the mixer's clock task
// runs only while something plays or listens to its frames: an idle kiosk
// does not wake 100 times a second to write silence. It leaves the clock only
// `idleAfterMs` (1 s) after the last stream ended: the silence written meanwhile
// pushes the last sound out of the device's buffer (a device that starts only
// once its buffer is full would otherwise keep a short chime to itself) and
// spans short gaps (repeats, one announcement after another). The first stream opened
// puts it back on the clock at once (its first frame about a millisecond
// later), continuing the timeline the device still holds if any.
// Frames are `callFrameMs` (20 ms) long whenever something plays and no start is pending (no
// announcement, chime or page opened and not yet started, none on its way
// through PaService, no hub page announced and not yet arrived), on the grid where a call's
// 20 ms tasks are due: one wake-up per packet instead of two; 10 ms frames keep a start's
// latency low. A frame hands the device audio up to its end, so a stream opened meanwhile
// starts after it at the earliest: frames are short also where a start is likely (a stream's
// last frame, an open stream with nothing queued, such as a page after its last packet), so the
// next page or announcement waits at most 10 ms. A start that nothing announced, while other
// audio plays on in 20 ms frames, may wait up to 20 ms.
// Allocation-free per frame: each stream queues into its own ring buffer
// (resampled in place by the native resampler), the arbiter decides in place,
// and the output frame is one reused buffer (sinks and frame listeners copy
// what they keep).
import { Arbiter, type ArbiterOptions, type Decision } from './arbiter.js';
import { createResampler, createResamplerSync, type Resampler } from './resample.js';
import { NullSink, type Sink } from './sinks.js';
import type { AudioChannel, AudioOutput, ChannelName } from './types.js';
import { CHANNELS } from './types.js';
import { mediaClock, ORDER, type ClockTask, type MediaClock } from './media-clock.js';

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
  /**
   * Live only: the most it may lag behind real time (ms, default 400). Beyond
   * it the oldest audio is dropped down to half of it, so a burst after a
   * stall of the sender does not stay in the latency for good.
   */
  maxLagMs?: number;
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

const EMPTY = new Int16Array(0);

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
  /** the arbiter's verdict for the current frame (filled in place) */
  readonly decision: Decision = { gain: 0, active: false, stop: false };
  /** where this stream starts inside the current frame */
  from = 0;

  /** queued samples at the mixer's rate: a ring, grown only when a write does not fit */
  private ring: Int16Array = EMPTY;
  private head = 0;
  queued = 0;
  private readonly maxLive: number;
  /** what is kept when a live stream goes over its cap */
  private readonly keepLive: number;
  /** only while an asynchronous (fallback) resampler is being created */
  private pendingIn: Int16Array[] | null = null;
  private resampler?: Resampler;
  private scratch: Int16Array = EMPTY;
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
    this.maxLive = Math.round(((opts.maxLagMs ?? LIVE_MAX_MS) * mixer.rate) / 1000);
    this.keepLive = opts.maxLagMs ? Math.round(this.maxLive / 2) : this.maxLive;
    if (this.live) this.ring = new Int16Array(pow2(this.maxLive + mixer.rate / 10));
    if (opts.rate !== mixer.rate) {
      const sync = createResamplerSync(opts.rate, mixer.rate);
      if (sync) this.resampler = sync;
      else {
        this.pendingIn = [];
        createResampler(opts.rate, mixer.rate).then(
          (r) => {
            if (this.finished) return r.destroy();
            this.resampler = r;
            const pend = this.pendingIn ?? [];
            this.pendingIn = null;
            for (const p of pend) this.write(p);
          },
          (err: Error) => this.finish('error', `resampler: ${err.message}`),
        );
      }
    }
  }

  /** Queues samples (copied: writers may reuse their buffers). */
  write(samples: Int16Array): void {
    if (this.finished || this.ending) return;
    if (this.pendingIn) {
      this.pendingIn.push(samples.slice());
      return;
    }
    const r = this.resampler;
    if (!r) return this.push(samples, samples.length);
    const need = r.maxOut(samples.length);
    if (this.scratch.length < need) this.scratch = new Int16Array(pow2(need));
    this.push(this.scratch, r.convert(samples, this.scratch));
  }

  private push(src: Int16Array, n: number): void {
    if (n <= 0) return;
    if (this.queued + n > this.ring.length) this.grow(this.queued + n);
    const ring = this.ring;
    const cap = ring.length;
    const w = (this.head + this.queued) % cap;
    const first = Math.min(n, cap - w);
    for (let i = 0; i < first; i++) ring[w + i] = src[i]!;
    for (let i = first; i < n; i++) ring[i - first] = src[i]!;
    this.queued += n;
    // Over the cap: down to the cap, or to half of a stream's own cap (a burst after a stall must not stay in the latency)
    if (this.live && this.queued > this.maxLive) this.skip(this.queued - this.keepLive);
  }

  private grow(need: number): void {
    const next = new Int16Array(pow2(need));
    const cap = this.ring.length;
    for (let i = 0; i < this.queued; i++) next[i] = this.ring[(this.head + i) % cap]!;
    this.ring = next;
    this.head = 0;
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
    this.ring = EMPTY;
    this.head = 0;
    this.queued = 0;
    this.resampler?.destroy();
    this.resampler = undefined;
    this.mixer.remove(this);
    this.onEnd?.(reason, error);
  }

  get drained(): boolean {
    return this.ending && this.queued === 0 && this.pendingIn === null;
  }

  /** Ended by its writer with at most n samples left: it drains within a frame of n samples. */
  drainsWithin(n: number): boolean {
    return this.ending && this.queued <= n && this.pendingIn === null;
  }

  /** gain ramp of the current frame (mixRamp) */
  rampFrom = 0;
  rampTo = 0;

  mixRamp(acc: Float64Array, from: number, n: number): number {
    return this.mixInto(acc, from, n, this.rampFrom, this.rampTo);
  }

  /** Adds up to n samples into acc[from..] with a gain ramp g0 -> g1; returns samples read. */
  mixInto(acc: Float64Array, from: number, n: number, g0: number, g1: number): number {
    const total = Math.min(n, this.queued);
    if (total <= 0) return 0;
    const ring = this.ring;
    const cap = ring.length;
    const step = (g1 - g0) / total;
    let r = this.head;
    if (step === 0) {
      if (g0 === 1) {
        for (let i = 0; i < total; i++) {
          acc[from + i]! += ring[r]!;
          if (++r === cap) r = 0;
        }
      } else if (g0 !== 0) {
        for (let i = 0; i < total; i++) {
          acc[from + i]! += ring[r]! * g0;
          if (++r === cap) r = 0;
        }
      }
    } else {
      for (let i = 0; i < total; i++) {
        acc[from + i]! += ring[r]! * (g0 + step * i);
        if (++r === cap) r = 0;
      }
    }
    this.skip(total);
    return total;
  }

  skip(n: number): void {
    const k = Math.min(n, this.queued);
    if (k <= 0) return;
    this.head = (this.head + k) % this.ring.length;
    this.queued -= k;
  }
}

function pow2(n: number): number {
  let c = 256;
  while (c < n) c *= 2;
  return c;
}

export interface MixerOptions extends ArbiterOptions {
  rate: number;
  frameMs?: number;
  /**
   * While something plays and no start is pending, frames of this length (ms, default 20): a call's 20 ms
   * packets, microphone frames and playout then share one wake-up per packet instead of two (call_cpu_pct),
   * and a page or announcement costs half the wake-ups (mixer_cpu_pct). A stream other than a call
   * that is open but not started yet, or has nothing queued, or ends within the frame, or a start announced
   * with holdShortFrames(), brings back frameMs from the next frame on.
   */
  callFrameMs?: number;
  /**
   * How long the mixer stays on the clock writing silence after the last stream ended and the last
   * frame listener left (ms, default 1000; at least the device buffer, so its last sound plays out).
   */
  idleAfterMs?: number;
  /** time for a full-scale gain change when ducking, muting or resuming */
  fadeMs?: number;
  /** volume of everything but the emergency channel (zone, time of day, ambient) */
  volume?: number;
  /** the emergency channel plays at its own volume, not the kiosk's */
  emergencyVolume?: number;
  sink?: Sink;
  /** the media clock it runs on (default: the process's; tests pass one on a fake time source) */
  clock?: MediaClock;
}

/** A mixed frame and its nominal start t0; the instant it went to the device is Mixer.writtenAt. */
export type FrameListener = (frame: Int16Array, t0: number) => void;

export class Mixer implements AudioOutput {
  readonly rate: number;
  readonly frameMs: number;
  readonly frameSamples: number;
  readonly callFrameMs: number;
  readonly callFrameSamples: number;
  /** rules, fades and volumes change live with the config */
  arbiter: Arbiter;
  fadeMs: number;
  volume: number;
  emergencyVolume: number;
  private sink: Sink;
  private readonly clock: MediaClock;
  private streams: MixerStream[] = [];
  private seq = 0;
  /** on the process's media clock while started (one timer for the mixer and every call) */
  private task?: ClockTask;
  private removeTask?: () => void;
  private nextT0 = 0;
  private readonly acc: Float64Array;
  private readonly out: Int16Array;
  private readonly outBytes: Buffer;
  /** the short frame's views of out (when call frames are longer) */
  private readonly outShort: Int16Array;
  private readonly outShortBytes: Buffer;
  /** frames mixed at the long (call) frame length (status, tests) */
  callFramesMixed = 0;
  /** start() called and stop() not: the mixer runs whenever it has streams or frame listeners */
  private running = false;
  /** where the timeline stood when the clock task was last dropped (the device holds audio up to there) */
  private idleFrom = -Infinity;
  /** times the mixer left the clock because nothing played (status, tests) */
  idleStops = 0;
  /** starts announced ahead (PaService preparing audio): short frames meanwhile */
  private shortHolds = 0;
  readonly idleAfterMs: number;
  /** timeline instant up to which the mixer last had streams or listeners */
  private busyUntil = -Infinity;
  private readonly present: MixerStream[] = [];
  private readonly startedNow: MixerStream[] = [];
  /** copied on change, so the per-frame loop iterates a plain array */
  private frameListeners: FrameListener[] = [];
  framesMixed = 0;
  resyncs = 0;
  /** performance.now() when the latest frame was handed to the device */
  writtenAt = 0;

  constructor(opts: MixerOptions) {
    this.rate = opts.rate;
    this.frameMs = opts.frameMs ?? 10;
    this.frameSamples = (this.rate * this.frameMs) / 1000;
    if (!Number.isInteger(this.frameSamples)) throw new Error(`frame of ${this.frameMs} ms is not a whole number of samples at ${this.rate} Hz`);
    this.callFrameMs = Math.max(this.frameMs, opts.callFrameMs ?? 20);
    this.callFrameSamples = (this.rate * this.callFrameMs) / 1000;
    if (!Number.isInteger(this.callFrameSamples) || this.callFrameMs % this.frameMs !== 0) throw new Error(`call frame of ${this.callFrameMs} ms is not a whole number of ${this.frameMs} ms frames at ${this.rate} Hz`);
    this.arbiter = new Arbiter(opts);
    this.fadeMs = opts.fadeMs ?? 250;
    this.volume = opts.volume ?? 1;
    this.emergencyVolume = opts.emergencyVolume ?? 1;
    this.idleAfterMs = opts.idleAfterMs ?? 1000;
    this.sink = opts.sink ?? new NullSink();
    this.clock = opts.clock ?? mediaClock;
    this.acc = new Float64Array(this.callFrameSamples);
    this.out = new Int16Array(this.callFrameSamples);
    this.outBytes = Buffer.from(this.out.buffer, this.out.byteOffset, this.out.byteLength);
    this.outShort = this.out.subarray(0, this.frameSamples);
    this.outShortBytes = Buffer.from(this.out.buffer, this.out.byteOffset, this.frameSamples * 2);
  }

  get sinkKind(): Sink['kind'] {
    return this.sink.kind;
  }

  setSink(sink: Sink): void {
    const old = this.sink;
    this.sink = sink;
    if (old !== sink) old.close();
  }

  /** Starts mixing: from now on the mixer is on the media clock whenever it has streams or frame listeners. */
  start(): this {
    this.running = true;
    this.wake();
    return this;
  }

  /** on the media clock now (false while idle or stopped) */
  get awake(): boolean {
    return this.task !== undefined;
  }

  /** Back on the clock, if started and there is something to mix or someone listening. */
  private wake(): void {
    if (!this.running || this.task) return;
    if (this.streams.length === 0 && this.frameListeners.length === 0) return;
    const now = this.clock.now();
    // On the clock's grid when other tasks already set it (a mixer started after a call or a tone):
    // off the grid, the 20 ms call frames would never line up with the calls' tasks. While the device
    // still holds frames written before the mixer went idle, the timeline goes on after them (a frame
    // mixed for an earlier instant would really play later, and synchronised starts would be off).
    this.nextT0 = this.clock.alignUp(Math.max(now, this.idleFrom), this.frameMs);
    this.busyUntil = this.nextT0;
    this.task = { order: ORDER.mixer, due: this.nextT0, tick: (t) => this.loop(t) };
    this.removeTask = this.clock.add(this.task);
  }

  /** Off the clock: nothing plays and nobody listens. */
  private sleep(): void {
    this.idleFrom = this.nextT0;
    this.removeTask?.();
    this.task = this.removeTask = undefined;
    this.idleStops++;
  }

  stop(): void {
    this.running = false;
    this.removeTask?.();
    this.task = this.removeTask = undefined;
    for (const s of [...this.streams]) s.finish('stopped');
    this.sink.close();
  }

  openChannel(opts: StreamOptions): MixerStream {
    const s = new MixerStream(this, opts, ++this.seq);
    this.streams.push(s);
    this.wake();
    return s;
  }

  /**
   * Announces a start to come (audio being made ready): short frames until the returned release is
   * called, so the stream, once opened, waits for at most one short frame. Releasing twice is harmless.
   */
  holdShortFrames(): () => void {
    this.shortHolds++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.shortHolds--;
    };
  }

  remove(s: MixerStream): void {
    const i = this.streams.indexOf(s);
    if (i >= 0) this.streams.splice(i, 1);
  }

  /** Streams playing or waiting now (for status and the ambient-noise meter). */
  active(): MixerStream[] {
    return [...this.streams];
  }

  /** Every mixed frame as handed to the device (a reused buffer: copy what you keep). */
  onFrame(l: FrameListener): () => void {
    this.frameListeners = [...this.frameListeners, l];
    this.wake();
    return () => {
      this.frameListeners = this.frameListeners.filter((x) => x !== l);
    };
  }

  /** Mixes every frame due by `now`; returns when the next one is due. */
  private loop(now: number): number {
    if (now - this.nextT0 > 200) {
      // the process stalled (GC, suspend): start a fresh timeline rather than burst, on the clock's grid
      // again (the calls' tasks share the mixer's wake-ups only while both are on it)
      this.resyncs++;
      this.nextT0 = this.clock.alignUp(now, this.frameMs);
    }
    while (this.nextT0 <= now) {
      const busy = this.streams.length > 0 || this.frameListeners.length > 0;
      if (this.callFrameAt(this.nextT0)) {
        this.mixFrame(this.nextT0, this.callFrameSamples);
        this.callFramesMixed++;
        this.nextT0 += this.callFrameMs;
      } else {
        this.mixFrame(this.nextT0);
        this.nextT0 += this.frameMs;
      }
      if (busy) this.busyUntil = this.nextT0;
    }
    if (this.streams.length === 0 && this.frameListeners.length === 0 && this.nextT0 - this.busyUntil >= this.idleAfterMs) this.sleep();
    return this.nextT0;
  }

  /**
   * A frame at t0 may be a long one: something plays (a call, or audio queued in another stream), no start is pending
   * (every stream but calls has started, and no start was announced with holdShortFrames), no stream but a call ends
   * in it, and t0 is on the clock's grid of the call frame, where a
   * call's send, playout and microphone tasks are due (rtp-stream.ts aligns them there), so they all
   * run in one wake-up. Streams present when a frame is mixed start on their exact sample whatever its
   * length; short frames only shorten the wait of a stream opened after its frame was written.
   */
  private callFrameAt(t0: number): boolean {
    const streams = this.streams;
    // nothing open (the idle hang-over, or only frame listeners): short frames, so the next start waits at most 10 ms
    if (this.callFrameMs === this.frameMs || this.shortHolds > 0 || streams.length === 0) return false;
    let playing = false;
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i]!;
      // a call is clocked (its playout feeds the mixer every 20 ms, on this grid): it plays while it is open
      if (s.channel === 'call') {
        playing = true;
        continue;
      }
      if (!s.started) return false; // a start pending
      // Its end falls in this frame: a long frame would hand the device up to 20 ms of silence after it, and
      // whatever comes next (the next page, a repeat) would wait behind that; short frames leave at most 10 ms.
      if (s.drainsWithin(this.callFrameSamples)) return false;
      if (s.queued > 0) playing = true;
    }
    // Open but with nothing queued (a live page between its packets or after its last one, before it is
    // ended): nothing plays, and the next page's first packet must not wait behind 20 ms of silence.
    if (!playing) return false;
    return Math.abs(this.clock.alignUp(t0, this.callFrameMs) - t0) < 0.01;
  }

  /**
   * Mixes the frame starting at t0 (performance.now() time) and hands it to the
   * sink. The returned frame is the mixer's own buffer, valid until the next frame.
   * N: frameSamples, or callFrameSamples while only calls play.
   */
  mixFrame(t0: number, N = this.frameSamples): Int16Array {
    const long = N === this.callFrameSamples && N !== this.frameSamples;
    if (!long) N = this.frameSamples;
    const acc = this.acc;
    acc.fill(0, 0, N);
    const msPerSample = 1000 / this.rate;
    const present = this.present;
    let count = 0;
    for (let i = 0; i < this.streams.length; i++) {
      const s = this.streams[i]!;
      if (s.drained) continue;
      let from = 0;
      if (s.startAt !== undefined && !s.started) {
        from = Math.round((s.startAt - t0) / msPerSample);
        if (from >= N) continue; // not yet its time
        if (from < 0) from = 0; // late: start at once
      }
      s.from = from;
      present[count++] = s;
    }
    this.arbiter.decideInto(present, count);
    const startedNow = this.startedNow;
    let started = 0;
    const maxStep = (N / this.rate) * (1000 / this.fadeMs);
    for (let i = 0; i < count; i++) {
      const s = present[i]!;
      present[i] = undefined as unknown as MixerStream; // hold no reference past this frame
      const d = s.decision;
      if (d.stop) {
        s.finish('preempted', `preempted by a higher channel`);
        continue;
      }
      if (!d.active) {
        if (s.live) s.skip(N);
        // held (paused, or waiting in its channel): it fades back in when its turn comes, no click
        if (s.gain !== undefined) s.gain = 0;
        continue;
      }
      const own = s.channel === 'emergency' ? s.volume * this.emergencyVolume : s.volume * this.volume;
      const target = own * d.gain;
      if (s.queued === 0) {
        if (s.gain !== undefined) s.gain = moveToward(s.gain, target, maxStep);
        continue;
      }
      const from = s.from;
      // the ramp goes through the stream's fields, not arguments: a fractional gain passed to a call would be boxed every frame
      s.rampFrom = s.gain ?? target; // nothing played yet: start at the right level, no fade-in
      s.rampTo = moveToward(s.rampFrom, target, maxStep);
      const n = s.mixRamp(acc, from, N - from);
      s.gain = s.rampTo;
      if (s.drained) s.endedAt = t0 + (from + n) * msPerSample;
      if (!s.started && n > 0) {
        s.started = true;
        startedNow[started++] = s;
      }
    }
    const frame = long || this.callFrameSamples === this.frameSamples ? this.out : this.outShort;
    for (let i = 0; i < N; i++) {
      const v = Math.round(acc[i]!);
      frame[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.sink.write(frame === this.out ? this.outBytes : this.outShortBytes);
    const writtenAt = (this.writtenAt = this.clock.now());
    this.framesMixed++;
    const listeners = this.frameListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!(frame, t0);
    for (let i = 0; i < started; i++) {
      const s = startedNow[i]!;
      startedNow[i] = undefined as unknown as MixerStream;
      s.onStart?.({ at: t0 + s.from * msPerSample, writtenAt, frameT0: t0 });
    }
    for (let i = this.streams.length - 1; i >= 0; i--) {
      const s = this.streams[i];
      if (s?.drained) s.finish('done');
    }
    return frame;
  }
}

function moveToward(g: number, target: number, maxStep: number): number {
  if (Math.abs(target - g) <= maxStep) return target;
  return g + Math.sign(target - g) * maxStep;
}
