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

/**
 * An IPv4 UDP socket read by polling (one call's RTP, read on the media clock's tick): nothing of it runs between
 * the caller's calls. Errors that are answers (a port in use, nothing to read) come back as negative errno values.
 */
export class UdpSocket {
  constructor();
  /** 0, or -errno (e.g. -EADDRINUSE) */
  bind(host: string, port: number): number;
  /** the bound port, or -errno */
  localPort(): number;
  /** where send() goes */
  setPeer(host: string, port: number): void;
  /** sends bytes[0, length) to the peer without blocking: the length sent, or -errno (-EAGAIN: dropped) */
  send(bytes: Uint8Array, length: number): number;
  sendTo(bytes: Uint8Array, length: number, host: string, port: number): number;
  /**
   * Reads one waiting packet into buffer without blocking: its length, -EAGAIN when none waits, -EMSGSIZE when it was
   * longer than buffer, or another -errno. meta: [source IPv4 address as a 32-bit number, source port, age in ms
   * (now minus the kernel's arrival time)].
   */
  recv(buffer: Uint8Array, meta: Float64Array): number;
  close(): void;
}

/**
 * A one-shot libuv timer calling `callback` (through MakeCallback: microtasks run after it, a throw is an uncaught
 * exception): the media clock's wake-up without setTimeout's bookkeeping. Keeps the process alive while armed.
 */
export class MediaTimer {
  constructor(callback: () => void);
  /** fires once, ms (whole, at least 1) from now; an armed time is replaced */
  start(ms: number): void;
  stop(): void;
  close(): void;
}
