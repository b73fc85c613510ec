// Measuring audio in the page: the level and dominant frequency of a stream
// (AnalyserNode), and the moment a sound starts (an AudioWorklet that looks
// at every sample). The desk shows a level meter with it ("is the caller
// audible?"); tests and the desk benchmark measure the received audio with it.

/** Watches every sample; posts when the magnitude crosses the threshold after a quiet gap. */
const ONSET_WORKLET = `
class HelppointOnset extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.threshold = o.threshold;
    this.gapFrames = Math.round((o.gapMs / 1000) * sampleRate);
    this.armed = true;
    this.quiet = 0;
    this.port.onmessage = (e) => { if (e.data === 'stop') this.stopped = true; };
  }
  process(inputs) {
    if (this.stopped) return false;
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      const a = Math.abs(ch[i]);
      if (this.armed && a >= this.threshold) {
        this.armed = false;
        this.quiet = 0;
        this.port.postMessage({ contextTime: currentTime + i / sampleRate });
      } else if (!this.armed) {
        this.quiet = a < this.threshold / 2 ? this.quiet + 1 : 0;
        if (this.quiet >= this.gapFrames) this.armed = true;
      }
    }
    return true;
  }
}
registerProcessor('helppoint-onset', HelppointOnset);
`;

const workletLoaded = new WeakMap<AudioContext, Promise<void>>();

/** Loads the onset worklet into a context ahead of use (the first onset is then not missed). */
export function loadWorklet(ctx: AudioContext): Promise<void> {
  let p = workletLoaded.get(ctx);
  if (!p) {
    const url = URL.createObjectURL(new Blob([ONSET_WORKLET], { type: 'text/javascript' }));
    p = ctx.audioWorklet.addModule(url).finally(() => URL.revokeObjectURL(url));
    workletLoaded.set(ctx, p);
  }
  return p;
}

export interface Level {
  /** root mean square of the last analyser window, 0..1 (full scale sine: 0.707) */
  rms: number;
  /** the same in dB relative to full scale */
  dbfs: number;
  /** the strongest frequency in the window, in Hz (0 when silent) */
  frequencyHz: number;
}

export class AudioMeter {
  private readonly source: MediaStreamAudioSourceNode;
  private readonly analyser: AnalyserNode;
  private readonly sink: GainNode;
  private readonly watchers = new Set<AudioWorkletNode>();

  constructor(
    readonly ctx: AudioContext,
    readonly stream: MediaStream,
  ) {
    this.source = ctx.createMediaStreamSource(stream);
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 32768; // 0.68 s at 48 kHz: 1.5 Hz per bin
    this.analyser.smoothingTimeConstant = 0;
    // Nodes are pulled only when they lead to the destination: through a muted gain, so nothing is heard twice.
    this.sink = ctx.createGain();
    this.sink.gain.value = 0;
    this.source.connect(this.analyser);
    this.analyser.connect(this.sink);
    this.sink.connect(ctx.destination);
    void ctx.resume().catch(() => {});
  }

  level(): Level {
    const a = this.analyser;
    const wave = new Float32Array(a.fftSize);
    a.getFloatTimeDomainData(wave);
    let sum = 0;
    for (const x of wave) sum += x * x;
    const rms = Math.sqrt(sum / wave.length);
    const spectrum = new Float32Array(a.frequencyBinCount);
    a.getFloatFrequencyData(spectrum);
    let best = 1;
    for (let i = 2; i < spectrum.length - 1; i++) if (spectrum[i]! > spectrum[best]!) best = i;
    // Parabolic interpolation around the peak bin.
    const [l, c, r] = [spectrum[best - 1]!, spectrum[best]!, spectrum[best + 1]!];
    const den = l - 2 * c + r;
    const shift = den !== 0 && Number.isFinite(den) ? (0.5 * (l - r)) / den : 0;
    const binHz = this.ctx.sampleRate / a.fftSize;
    return { rms, dbfs: 20 * Math.log10(rms || 1e-12), frequencyHz: rms > 1e-5 ? (best + shift) * binHz : 0 };
  }

  /**
   * Calls back with performance.now() for each sound that starts: a sample at
   * or above `threshold` (0..1) after at least `gapMs` below half of it.
   * Resolution: one render quantum (128 samples) plus the message hop to the
   * page. Returns the function that stops watching.
   */
  async watchOnsets(threshold: number, onOnset: (at: number) => void, gapMs = 200): Promise<() => void> {
    await loadWorklet(this.ctx);
    const node = new AudioWorkletNode(this.ctx, 'helppoint-onset', { numberOfOutputs: 1, processorOptions: { threshold, gapMs } });
    node.port.onmessage = () => onOnset(performance.now());
    this.source.connect(node);
    node.connect(this.sink);
    this.watchers.add(node);
    return () => {
      node.port.postMessage('stop');
      node.disconnect();
      try {
        this.source.disconnect(node);
      } catch {
        /* already gone */
      }
      this.watchers.delete(node);
    };
  }

  /** performance.now() of the first sample at or above threshold. */
  async onset(threshold: number, timeoutMs = 10_000): Promise<number> {
    let found!: (at: number) => void;
    const first = new Promise<number>((r) => (found = r));
    const stop = await this.watchOnsets(threshold, (at) => found(at));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no sound above ${threshold} within ${timeoutMs} ms`)), timeoutMs)));
    try {
      return await Promise.race([first, late]);
    } finally {
      clearTimeout(timer);
      stop();
    }
  }

  close(): void {
    for (const w of this.watchers) w.disconnect();
    this.watchers.clear();
    this.source.disconnect();
    this.analyser.disconnect();
    this.sink.disconnect();
  }
}
