// The microphone's processing chain for hands-free talk, one frame at a time:
// echo cancelling (speex MDF: mic minus the adaptive estimate of the echo of
// the reference, i.e. what the loudspeaker was given), then the speex
// preprocessor on the result: residual echo suppression (fed by the
// canceller's own estimate), noise suppression and automatic gain.
// All buffers are the caller's; a frame allocates nothing.
import type { Dsp } from './native.js';

export interface VoiceOptions {
  rate: number;
  /** samples per frame (20 ms at rate is what the microphone delivers) */
  frameSamples: number;
  /** echo canceller on (needs a reference) */
  aec: boolean;
  /** echo tail the canceller models, ms */
  tailMs: number;
  denoise: boolean;
  /** maximum noise attenuation, negative dB */
  noiseSuppressDb: number;
  agc: boolean;
  /** AGC target, dBFS RMS */
  agcLevelDbfs: number;
  /** AGC's largest gain, dB */
  agcMaxGainDb: number;
  /** residual echo attenuation, negative dB: far end only / both talking */
  echoSuppressDb: number;
  echoSuppressActiveDb: number;
}

export const VOICE_DEFAULTS = {
  aec: true,
  tailMs: 128,
  denoise: true,
  noiseSuppressDb: -15,
  agc: true,
  agcLevelDbfs: -18,
  agcMaxGainDb: 20,
  echoSuppressDb: -40,
  echoSuppressActiveDb: -15,
} as const;

export class VoiceProcessor {
  private readonly ec?: InstanceType<Dsp['EchoCanceller']>;
  private readonly pp?: InstanceType<Dsp['Preprocessor']>;
  readonly agcAvailable: boolean;

  constructor(
    dsp: Dsp,
    readonly o: VoiceOptions,
  ) {
    if (o.aec) this.ec = new dsp.EchoCanceller(o.frameSamples, Math.round((o.tailMs * o.rate) / 1000), o.rate);
    const needPre = o.denoise || o.agc || o.aec;
    if (needPre) {
      this.pp = new dsp.Preprocessor(o.frameSamples, o.rate, {
        denoise: o.denoise,
        noiseSuppressDb: o.noiseSuppressDb,
        agc: o.agc,
        agcLevel: 32767 * Math.pow(10, o.agcLevelDbfs / 20),
        agcMaxGainDb: o.agcMaxGainDb,
        echo: this.ec,
        echoSuppressDb: o.echoSuppressDb,
        echoSuppressActiveDb: o.echoSuppressActiveDb,
      });
    }
    this.agcAvailable = !o.agc || (this.pp?.agcAvailable ?? false);
  }

  /** out = the cleaned microphone frame; ref is what the speaker played for the same instant (ignored without AEC). */
  process(mic: Int16Array, ref: Int16Array | undefined, out: Int16Array): void {
    if (this.ec && ref) this.ec.cancel(mic, ref, out);
    else out.set(mic);
    this.pp?.run(out);
  }

  close(): void {
    this.pp?.close();
    this.ec?.close();
  }
}
