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
import type { AudioInput, FrameTimeListener } from '../audio/types.js';
import type { FrameListener } from '../audio/mixer.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { loadDsp } from './native.js';
import { EchoReference } from './reference.js';
import { VoiceProcessor } from './voice.js';

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

export class HandsFreeInput implements AudioInput {
  readonly rate: number;
  private readonly listeners = new Set<FrameTimeListener>();
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
    /** the microphone before echo cancelling (supervision's acoustic loop listens here) */
    readonly raw: AudioInput,
    private readonly speaker: SpeakerTap | undefined,
    private readonly cfg: HandsFreeConfig,
    private readonly onStatus: (s: HandsFreeStatus) => void = () => {},
  ) {
    this.rate = raw.rate;
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

  /** started (and not stopped since): the raw microphone runs for it */
  get started(): boolean {
    return !!this.offRaw;
  }

  async start(): Promise<void> {
    if (this.offRaw) return;
    this.check();
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
    await this.raw.start();
  }

  async stop(): Promise<void> {
    this.offRaw?.();
    this.offRaw = undefined;
    this.offSpeaker?.();
    this.offSpeaker = undefined;
    await this.raw.stop();
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
