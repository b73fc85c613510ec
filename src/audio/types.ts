// The audio contract between capabilities. The PA issue builds the real
// mixer behind AudioOutput; the intercom writes call audio into the "call"
// channel and reads the microphone through AudioInput. Samples are signed
// 16-bit mono PCM; each writer states its own rate and the mixer resamples.

/** Arbiter channels, highest priority first. */
export const CHANNELS = ['emergency', 'page', 'call', 'announcement', 'music'] as const;
export type ChannelName = (typeof CHANNELS)[number];

export interface AudioChannel {
  readonly id: string;
  readonly channel: ChannelName;
  /** Queues samples for playout at the channel's rate. */
  write(samples: Int16Array): void;
  /** Ends the stream: queued samples still play, then the channel goes away. */
  end(): void;
  /** Drops queued samples and closes now. */
  close(): void;
}

export interface AudioOutput {
  openChannel(opts: { channel: ChannelName; rate: number; id?: string; volume?: number }): AudioChannel;
  /** Output rate of the device (8000, 16000 or 48000). */
  readonly rate: number;
}

/**
 * A microphone frame: the samples (a buffer the source may reuse as soon as the
 * listener returns: copy what you keep) and, when the source knows it, the
 * performance.now() instant just after its last sample was captured.
 */
export type FrameTimeListener = (samples: Int16Array, at?: number) => void;

export interface AudioInput {
  readonly rate: number;
  /** Receives 20 ms frames while started; returns an unsubscribe function. */
  onFrame(listener: FrameTimeListener): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}
