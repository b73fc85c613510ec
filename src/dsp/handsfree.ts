// The hands-free microphone: an AudioInput in front of the raw microphone
// that the call media reads instead of it. In "aec" mode each 20 ms frame
// goes through the echo canceller, with the reference taken from what the
// mixer handed to the loudspeaker (EchoReference), then residual echo and
// noise suppression and gain (VoiceProcessor). In "half-duplex" mode the
// microphone is muted while the loudspeaker carries sound (and for a
// hangover after). "off" passes the microphone through.
//
// The addon is loaded on first use, or by check() right after start-up so a
// missing addon is a fault before the first emergency call, not during it.
// Without the addon the microphone passes through unprocessed and the status
// says why. Frames handed to listeners are reused buffers: a listener copies
// what it keeps.
//
// The chain (the raw microphone, the canceller and its far-end reference tap
// on the mixer, which keeps the mixer on its clock) runs only while a user
// holds a lease (acquire): a call takes one when its media starts and lets go
// when it ends, so an idle kiosk after a call costs what it cost before its
// first call. The raw microphone is itself leased (SharedInput): users that
// need the microphone while idle (adaptive PA volume, supervision's acoustic
// loop) lease the raw one and do not wake the canceller.
import type { AudioInput, FrameTimeListener } from '../audio/types.js';
import type { FrameListener } from '../audio/mixer.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { loadDsp } from './native.js';
import { EchoReference } from './reference.js';
import { VoiceProcessor } from './voice.js';
import { Leases, SharedInput, isLeased, type InputLease, type LeasedInput } from '../audio/shared-input.js';

export type HandsFreeConfig = KioskConfig['audio']['handsFree'];

/** What the hands-free path needs from the mixer: its rate, its frame lengths and the frames it plays. */
export interface SpeakerTap {
  readonly rate: number;
  readonly frameMs: number;
  /** the longer frame the mixer uses while only calls play (absent: frameMs only) */
  readonly callFrameMs?: number;
  onFrame(l: FrameListener): () => void;
}

export interface HandsFreeStatus {
  mode: HandsFreeConfig['mode'];
  /** what really runs: the configured mode, or 'off' when the addon is missing */
  running: 'aec' | 'half-duplex' | 'off';
  noiseSuppression: boolean;
  agc: boolean;
  /** why something configured is not running */
  problem?: string;
}

const FRAME_MS = 20;

export class HandsFreeInput implements LeasedInput {
  readonly rate: number;
  /** the microphone before echo cancelling, leased (supervision's acoustic loop and adaptive volume listen here) */
  readonly raw: LeasedInput;
  private readonly listeners = new Set<FrameTimeListener>();
  private readonly leases: Leases;
  private rawLease?: InputLease;
  private offRaw?: () => void;
  private offSpeaker?: () => void;
  private voice?: VoiceProcessor;
  private reference?: EchoReference;
  private built = false;
  private readonly N: number;
  private readonly frame: Int16Array;
  private readonly ref: Int16Array;
  private readonly out: Int16Array;
  private fill = 0;
  private muteUntil = -Infinity;
  private halfDuplex = false;
  private thresholdPower = 0;
  status: HandsFreeStatus;
  /** frames processed, and of them frames muted by half-duplex (status, tests) */
  frames = 0;
  mutedFrames = 0;

  constructor(
    raw: AudioInput,
    private readonly speaker: SpeakerTap | undefined,
    private readonly cfg: HandsFreeConfig,
    private readonly onStatus: (s: HandsFreeStatus) => void = () => {},
  ) {
    this.raw = isLeased(raw) ? raw : new SharedInput(raw);
    this.rate = raw.rate;
    this.leases = new Leases(
      () => this.up(),
      () => this.down(),
    );
    this.N = Math.round((raw.rate * FRAME_MS) / 1000);
    this.frame = new Int16Array(this.N);
    this.ref = new Int16Array(this.N);
    this.out = new Int16Array(this.N);
    this.status = { mode: cfg.mode, running: cfg.mode, noiseSuppression: false, agc: false };
  }

  onFrame(listener: FrameTimeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Builds the processing chain now (loads the addon if this mode needs it) and reports what runs. */
  check(): HandsFreeStatus {
    if (this.built) return this.status;
    this.built = true;
    const c = this.cfg;
    const wantsDsp = c.mode === 'aec' || (c.mode === 'half-duplex' && (c.noiseSuppression || c.agc));
    let running: HandsFreeStatus['running'] = c.mode;
    let problem: string | undefined;
    if (c.mode === 'aec' && !this.speaker) {
      running = 'off';
      problem = 'echo cancelling needs the audio output (mixer), which did not start';
    }
    if (wantsDsp && !problem) {
      const { dsp, reason } = loadDsp();
      if (!dsp) {
        problem = `${c.mode === 'aec' ? 'echo cancelling' : 'noise suppression and gain'} unavailable: ${reason}`;
        if (c.mode === 'aec') running = 'off';
      } else {
        try {
          const aec = running === 'aec';
          if (aec) this.reference = new EchoReference(this.rate, this.speaker!.rate, dsp, 1000, (this.speaker!.rate * Math.max(this.speaker!.frameMs, this.speaker!.callFrameMs ?? 0)) / 1000);
          this.voice = new VoiceProcessor(dsp, {
            rate: this.rate,
            frameSamples: this.N,
            aec,
            tailMs: c.tailMs,
            denoise: c.noiseSuppression,
            noiseSuppressDb: c.noiseSuppressDb,
            agc: c.agc,
            agcLevelDbfs: c.agcLevelDbfs,
            agcMaxGainDb: c.agcMaxGainDb,
            echoSuppressDb: c.echoSuppressDb,
            echoSuppressActiveDb: c.echoSuppressActiveDb,
          });
          if (c.agc && !this.voice.agcAvailable) problem = 'automatic gain unavailable: libspeexdsp is a fixed-point build';
        } catch (err) {
          problem = `hands-free processing could not start: ${(err as Error).message}`;
          if (c.mode === 'aec') running = 'off';
          this.reference?.close();
          this.reference = undefined;
          this.voice = undefined;
        }
      }
    }
    this.halfDuplex = running === 'half-duplex' && !!this.speaker;
    if (running === 'half-duplex' && !this.speaker) problem ??= 'half-duplex needs the audio output (mixer), which did not start';
    this.thresholdPower = Math.pow(10, c.halfDuplexThresholdDbfs / 10) * 32768 * 32768;
    this.status = {
      mode: c.mode,
      running,
      noiseSuppression: !!this.voice && c.noiseSuppression,
      agc: !!this.voice && c.agc && this.voice.agcAvailable,
      ...(problem ? { problem } : {}),
    };
    this.onStatus(this.status);
    return this.status;
  }

  /** started for a lease (or starting): the raw microphone runs for it */
  get started(): boolean {
    return this.leases.active;
  }

  /** The chain runs from the first lease taken to the last one released (see the file's head). */
  acquire(user: string): InputLease {
    return this.leases.acquire(user);
  }

  users(): string[] {
    return this.leases.users();
  }

  /** For a single owner that does not name itself: one lease of its own. */
  start(): Promise<void> {
    return this.leases.startOwner();
  }

  stop(): Promise<void> {
    return this.leases.stopOwner();
  }

  /** First lease: the reference tap on the mixer, then the raw microphone. */
  private async up(): Promise<void> {
    this.check();
    this.fill = 0;
    this.muteUntil = -Infinity;
    // the previous call's loudspeaker audio is no reference for this one (the canceller's filter is kept: same room)
    this.reference?.reset();
    if (this.speaker && (this.reference || this.halfDuplex)) {
      const hangover = this.cfg.halfDuplexHangoverMs;
      this.offSpeaker = this.speaker.onFrame((f, t0) => {
        if (this.reference) this.reference.push(f, t0);
        if (this.halfDuplex) {
          let p = 0;
          for (let i = 0; i < f.length; i++) p += f[i]! * f[i]!;
          if (f.length && p / f.length > this.thresholdPower) this.muteUntil = t0 + (f.length * 1000) / this.speaker!.rate + hangover;
        }
      });
    }
    this.offRaw = this.raw.onFrame((s, at) => this.input(s, at ?? performance.now()));
    const lease = this.raw.acquire('hands-free');
    this.rawLease = lease;
    try {
      await lease.ready;
    } catch (err) {
      await this.down();
      throw err;
    }
  }

  /** Last lease released: nothing of the chain runs (the mixer may leave its clock). */
  private async down(): Promise<void> {
    this.offRaw?.();
    this.offRaw = undefined;
    this.offSpeaker?.();
    this.offSpeaker = undefined;
    const lease = this.rawLease;
    this.rawLease = undefined;
    await lease?.release();
  }

  /** Raw microphone samples, cut into 20 ms frames; `at` is the instant just after the last sample. */
  private input(s: Int16Array, at: number): void {
    const N = this.N;
    let i = 0;
    while (i < s.length) {
      const take = Math.min(N - this.fill, s.length - i);
      const f = this.frame;
      for (let k = 0; k < take; k++) f[this.fill + k] = s[i + k]!;
      this.fill += take;
      i += take;
      if (this.fill === N) {
        this.fill = 0;
        this.process(at - ((s.length - i) * 1000) / this.rate);
      }
    }
  }

  private process(endT: number): void {
    this.frames++;
    const out = this.out;
    if (this.halfDuplex && endT - FRAME_MS < this.muteUntil) {
      out.fill(0);
      this.mutedFrames++;
    } else if (this.voice) {
      if (this.reference) this.reference.read(endT - this.cfg.delayMs, this.ref);
      this.voice.process(this.frame, this.reference ? this.ref : undefined, out);
    } else out.set(this.frame);
    for (const l of this.listeners) l(out, endT);
  }

  close(): void {
    void this.stop();
    this.voice?.close();
    this.reference?.close();
  }
}
