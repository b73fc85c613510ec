// Background music: a playlist of WAV files looped on the "music" channel,
// fed a second at a time so a long playlist never sits in memory as PCM and
// the stream can duck under announcements and carry on.
import { readFileSync } from 'node:fs';
import type { Logger } from '../core/log.js';
import type { Mixer, MixerStream } from './mixer.js';
import { parseWav } from './wav.js';
import { resampleAll } from './resample.js';

export class MusicPlayer {
  private stream?: MixerStream;
  private timer?: NodeJS.Timeout;
  private index = -1;
  private current?: Int16Array;
  private pos = 0;
  private failures = 0;

  constructor(
    private readonly files: string[],
    private readonly mixer: Mixer,
    private readonly log: Logger,
    private readonly opts: { volume?: number; shuffle?: boolean } = {},
  ) {}

  start(): void {
    if (!this.files.length) return;
    this.stream = this.mixer.openChannel({ channel: 'music', rate: this.mixer.rate, id: 'music', volume: this.opts.volume ?? 0.3, live: false });
    this.timer = setInterval(() => void this.feed(), 250);
    this.timer.unref();
    void this.feed();
  }

  private async feed(): Promise<void> {
    const s = this.stream;
    if (!s || s.queued > this.mixer.rate / 2) return;
    if (!this.current || this.pos >= this.current.length) {
      if (this.failures >= this.files.length) return; // nothing playable: stay quiet, said once
      this.index = this.opts.shuffle ? Math.floor(Math.random() * this.files.length) : (this.index + 1) % this.files.length;
      const f = this.files[this.index]!;
      try {
        const pcm = parseWav(readFileSync(f));
        this.current = await resampleAll(pcm.samples, pcm.rate, this.mixer.rate);
        this.pos = 0;
        this.failures = 0;
      } catch (err) {
        this.failures++;
        this.current = undefined;
        this.log.warn({ file: f, err: (err as Error).message }, 'music file skipped');
        return;
      }
    }
    const n = Math.min(this.mixer.rate, this.current.length - this.pos);
    s.write(this.current.subarray(this.pos, this.pos + n));
    this.pos += n;
  }

  stop(): void {
    clearInterval(this.timer);
    this.stream?.close();
    this.stream = undefined;
  }
}
