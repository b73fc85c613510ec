/** libspeexdsp's acoustic echo canceller (MDF): one instance per audio path. */
export class EchoCanceller {
  /** frameSize and tailSamples in samples at rate Hz */
  constructor(frameSize: number, tailSamples: number, rate: number);
  readonly frameSize: number;
  /** out = mic minus the echo of ref; all three hold frameSize samples */
  cancel(mic: Int16Array, ref: Int16Array, out: Int16Array): void;
  reset(): void;
  close(): void;
}

export interface PreprocessorOptions {
  denoise?: boolean;
  /** maximum noise attenuation, negative dB (default -15) */
  noiseSuppressDb?: number;
  agc?: boolean;
  /** AGC target level, in 16-bit sample units RMS (default 8000) */
  agcLevel?: number;
  /** most gain the AGC may apply, dB (default 20) */
  agcMaxGainDb?: number;
  vad?: boolean;
  /** residual echo suppression with this canceller's estimate */
  echo?: EchoCanceller;
  /** residual echo attenuation, negative dB (default -40) */
  echoSuppressDb?: number;
  /** residual echo attenuation while the near end talks, negative dB (default -15) */
  echoSuppressActiveDb?: number;
}

/** libspeexdsp's preprocessor: noise suppression, AGC, residual echo suppression, VAD. */
export class Preprocessor {
  constructor(frameSize: number, rate: number, options?: PreprocessorOptions);
  /** false on a fixed-point libspeexdsp, which has no AGC */
  readonly agcAvailable: boolean;
  readonly gainDb: number;
  /** processes frame in place; returns 1 when speech is detected */
  run(frame: Int16Array): number;
  close(): void;
}

/** libspeexdsp's resampler, mono, streaming. */
export class Resampler {
  /** quality 0..10 (3 is speex's VoIP setting) */
  constructor(inRate: number, outRate: number, quality?: number);
  readonly inputLatency: number;
  readonly outputLatency: number;
  /** converts all of input into output; returns the samples written */
  process(input: Int16Array, output: Int16Array): number;
  skipZeros(): void;
  reset(): void;
  close(): void;
}

/** Mono 16-bit ALSA playback, written from the calling thread without blocking (libasound loaded at first use). */
export class AlsaOutput {
  /** latencyMs: the device buffer; throws when libasound or the device cannot be opened */
  constructor(device: string, rate: number, latencyMs: number);
  /** hands the samples to the device at once; returns how many it took (0: its buffer is full, the frame is dropped) */
  write(samples: Int16Array): number;
  /** samples waiting in the device buffer */
  queued(): number;
  close(): void;
}

export const binaryPath: string;
export function installStatus(): { ok: boolean; source?: 'prebuilt' | 'source'; reason?: string; at?: string } | undefined;

/**
 * The kernel thread ids of libuv's worker pool: `count` jobs (the pool's size) wait, up to timeoutMs, until all run
 * at once, so each sits on a different worker. Repeated ids mean they did not all meet in time (the pool was busy).
 */
export function threadPoolIds(count: number, timeoutMs: number): Promise<number[]>;
