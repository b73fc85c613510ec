// Public address: turns `pa.play` / `pa.stop` into streams on the mixer and
// reports `pa.started` (with the text, for the screen) and `pa.ended`. The
// audio is made ready first (bundled message from memory, clip from the cache
// or the hub), then one stream carries chime + message, so the arbiter treats
// them as one announcement. A failing command ends with a clear error and
// touches nothing else.
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { PaPlay } from './events.js';
import type { Mixer, MixerStream, EndReason } from './mixer.js';
import { concat, type MessageLibrary, type Lang } from './messages.js';
import type { LocalText } from '../display/events.js';
import type { ClipCache } from './clips.js';
import { resampleAll } from './resample.js';
import { HubClock } from './hub-clock.js';
import { checkPaPlay } from './pa-play.js';

export interface PaOptions {
  mixer: Mixer;
  bus: Bus;
  log: Logger;
  library: MessageLibrary;
  clips: ClipCache;
  clock: HubClock;
  /** chime before announcements unless a command says otherwise */
  chime: boolean;
  languages: readonly Lang[];
}

/** The bundled message spoken before every drill announcement (audio/messages.json). */
export const DRILL_PREFIX = 'drill-prefix';

interface Job {
  play: PaPlay;
  stream?: MixerStream;
  timer?: NodeJS.Timeout;
  started: boolean;
  done: boolean;
  round: number;
  audio?: Int16Array;
  /** short mixer frames while its first stream is on its way (Mixer.holdShortFrames) */
  releaseShort?: () => void;
}

export class PaService {
  private readonly jobs = new Map<string, Job>();
  private readonly offs: (() => void)[] = [];

  constructor(private readonly o: PaOptions) {
    this.offs.push(o.bus.on('pa.play', (p) => void this.play(p)));
    this.offs.push(o.bus.on('pa.stop', (e) => this.stop(e.id)));
  }

  /** New defaults from the config (chime, languages): announcements started from now on use them. */
  setDefaults(d: { chime: boolean; languages: readonly Lang[] }): void {
    this.o.chime = d.chime;
    this.o.languages = d.languages;
  }

  /** Ids of announcements playing, waiting or between repeats. */
  list(): { id: string; channel: string; started: boolean }[] {
    return [...this.jobs.values()].map((j) => ({ id: j.play.id, channel: j.play.channel, started: j.started }));
  }

  async play(input: PaPlay): Promise<void> {
    const checked = checkPaPlay(input);
    if (!checked.ok) {
      const id = typeof input?.id === 'string' ? input.id : '?';
      this.o.log.warn({ id, error: checked.error }, 'PA command rejected');
      this.o.bus.emit('pa.ended', { id, channel: String(input?.channel ?? '?'), reason: 'error', error: checked.error });
      return;
    }
    const play = checked.play;
    if (this.jobs.has(play.id)) {
      const error = `an announcement with id "${play.id}" is already playing`;
      this.o.bus.emit('pa.ended', { id: play.id, channel: play.channel, reason: 'error', error });
      return;
    }
    // while the audio is made ready the mixer keeps short frames: the stream, once opened, waits at most 10 ms
    const job: Job = { play, started: false, done: false, round: 0, releaseShort: this.o.mixer.holdShortFrames() };
    this.jobs.set(play.id, job);
    try {
      job.audio = await this.audioFor(play);
    } catch (err) {
      return this.end(job, 'error', (err as Error).message);
    }
    if (job.done) return; // stopped while the clip was on its way
    this.startRound(job);
  }

  stop(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    if (job.stream) job.stream.finish('stopped');
    else this.end(job, 'stopped');
    return true;
  }

  close(): void {
    for (const off of this.offs) off();
    for (const id of [...this.jobs.keys()]) this.stop(id);
  }

  private async audioFor(play: PaPlay): Promise<Int16Array> {
    const { library, clips, mixer } = this.o;
    const chime = play.chime ?? this.o.chime;
    let body: Int16Array;
    if (play.message) {
      body = await library.message(play.message, this.o.languages);
    } else {
      const pcm = await clips.get(play.clip!.sha256, play.clip!.url);
      body = await resampleAll(pcm.samples, pcm.rate, mixer.rate);
    }
    const parts: Int16Array[] = [];
    if (chime) parts.push(await library.chime());
    // A drill says so before anything else, in every language ("这是演习。This is a drill.").
    if (play.drill) parts.push(await library.message(DRILL_PREFIX, this.o.languages));
    parts.push(body);
    return parts.length === 1 ? body : concat(parts);
  }

  /** The words for the screen; a drill's say DRILL first. */
  private textFor(play: PaPlay): LocalText | undefined {
    const text = play.text ?? (play.message ? this.o.library.texts[play.message] : undefined);
    if (!play.drill) return text;
    const d = this.o.library.texts[DRILL_PREFIX] ?? { en: 'This is a drill.', 'zh-CN': '这是演习。' };
    if (!text) return d;
    const zh = text['zh-CN'] ?? text.en;
    return { en: `${d.en} ${text.en}`, 'zh-CN': `${d['zh-CN'] ?? d.en}${zh}` };
  }

  private startRound(job: Job, next?: number): void {
    const { play } = job;
    const first = job.round === 0;
    const startAt = first && play.startAt !== undefined ? this.o.clock.toPerf(play.startAt) : next;
    const s = this.o.mixer.openChannel({ channel: play.channel, rate: this.o.mixer.rate, id: play.id, volume: play.volume, startAt, live: false });
    job.stream = s;
    job.releaseShort?.(); // the open stream itself keeps short frames until it starts
    job.releaseShort = undefined;
    s.onStart = (info) => {
      if (job.started) return;
      job.started = true;
      if (play.startAt !== undefined && first) {
        // Where a synchronised start really landed, on the host's monotonic clock (shared by every process on
        // the machine): zone_skew_max_ms compares kiosk processes by it. lateMs: how late its frame reached the device.
        const monoMinusPerf = Number(process.hrtime.bigint()) / 1e6 - performance.now();
        const lateMs = info.writtenAt - info.frameT0;
        this.o.log.info({ id: play.id, startMonoMs: info.at + lateMs + monoMinusPerf, lateMs, hubOffsetMs: this.o.clock.offsetMs }, 'pa synchronised start');
      }
      const text = this.textFor(play);
      this.o.bus.emit('pa.started', { id: play.id, channel: play.channel, ...(text ? { text } : {}) });
    };
    s.onEnd = (reason, error) => {
      job.stream = undefined;
      job.round++;
      const times = play.repeat?.times ?? 1;
      if (reason === 'done' && job.round < times && !job.done) {
        // the next round is placed on the output timeline: exact interval, and
        // kiosks that started together repeat together
        const next = (s.endedAt ?? performance.now()) + (play.repeat?.intervalS ?? 0) * 1000;
        job.timer = setTimeout(() => this.startRound(job, next), Math.max(0, next - performance.now() - 100));
        return;
      }
      this.end(job, reason, error);
    };
    s.write(job.audio!);
    s.end();
  }

  private end(job: Job, reason: EndReason, error?: string): void {
    if (job.done) return;
    job.done = true;
    job.releaseShort?.();
    clearTimeout(job.timer);
    this.jobs.delete(job.play.id);
    const r = reason === 'closed' ? 'stopped' : reason;
    if (r === 'error') this.o.log.warn({ id: job.play.id, error }, 'PA announcement failed');
    this.o.bus.emit('pa.ended', { id: job.play.id, channel: job.play.channel, reason: r, ...(error ? { error } : {}) });
  }
}
