// The audio capability of a kiosk: one mixer (the AudioOutput every other
// capability writes to), its sink, the PA service, scheduled announcements,
// paging groups and background music. The mixer exists at once and runs on a
// null sink until the real device has been probed, so construction never
// blocks or endangers the emergency path; an unusable device raises an audio
// fault and the kiosk carries on silent.
import path from 'node:path';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { KioskConfig } from '../config/schema/kiosk.js';
import { Mixer } from './mixer.js';
import { AlsaSink, DirectAlsaSink, FileSink, NullSink, probeDirectAlsa, probeSpeaker, type Sink } from './sinks.js';
import { MessageLibrary, findAudioDir, type Lang } from './messages.js';
import { ClipCache, hubHttpBase } from './clips.js';
import { HubClock } from './hub-clock.js';
import { PaService } from './pa.js';
import { Scheduler } from './schedule.js';
import { RtpPager } from './rtp-page.js';
import { MusicPlayer } from './music.js';
import { VolumeControl } from './volume.js';
import type { AudioInput, ChannelName } from './types.js';
import { leaseInput } from './shared-input.js';

export interface AudioEngineOptions {
  config: KioskConfig;
  /** relative file names in the config resolve here */
  configDir: string;
  /** the kiosk's store folder (clip cache lives under it) */
  dataDir: string;
  bus: Bus;
  log: Logger;
  audioDir?: string;
  /** for tests: the schedule's clock */
  now?: () => number;
}

/** The announcement volume of a config: base x zone x time of day x ambient noise. */
export function volumeFor(config: KioskConfig): VolumeControl {
  const v = config.pa.volume;
  return new VolumeControl({ base: config.audio.volume, zone: config.zone, zones: v?.zones, times: v?.times, adaptive: v?.adaptive, timezone: config.site.timezone });
}

/** Mixer rules of a config (what a higher channel does to a lower one, fades, emergency volume). */
export function mixerRulesFor(config: KioskConfig) {
  const pa = config.pa;
  return {
    rules: pa.rules?.map((r) => ({ over: r.over as ChannelName, under: r.under as ChannelName, action: r.action })),
    duckLevel: pa.duckLevel,
    fadeMs: pa.fadeMs,
    emergencyVolume: pa.emergencyVolume,
  };
}

export class AudioEngine {
  readonly mixer: Mixer;
  readonly pa: PaService;
  readonly clock: HubClock;
  readonly clips: ClipCache;
  readonly library: MessageLibrary;
  // The parts below are replaced when a new config changes them (src/audio/reconfigure.ts).
  volume: VolumeControl;
  pager: RtpPager;
  scheduler: Scheduler;
  music?: MusicPlayer;
  private volumeTimer?: NodeJS.Timeout;
  private micOff?: () => void;
  /** who holds the microphone now (set by the audio capability; GET /pa shows it) */
  microphoneUsers?: () => { handsFree: string[]; raw: string[] };
  fault?: string;
  /** the last PA events, newest last (local status page, tests) */
  readonly recent: { event: string; at: string; [k: string]: unknown }[] = [];
  /** the hub instance the link is on (hub.backupUrls): relative clip URLs are fetched from it */
  connectedHub?: string;
  /** settles when the real device is in use or the fallback chosen */
  ready: Promise<void> = Promise.resolve();

  constructor(private readonly o: AudioEngineOptions) {
    const { config, bus, log } = o;
    const pa = config.pa;
    this.volume = volumeFor(config);
    this.mixer = new Mixer({
      rate: config.audio.output.rate,
      frameMs: config.audio.output.frameMs,
      ...mixerRulesFor(config),
      volume: this.volume.current(),
    }).start();
    this.clock = new HubClock(bus);
    for (const ev of ['pa.started', 'pa.ended'] as const) {
      bus.on(ev, (p) => {
        this.recent.push({ event: ev, at: new Date().toISOString(), ...p });
        if (this.recent.length > 50) this.recent.shift();
      });
    }
    this.library = new MessageLibrary(o.audioDir ?? findAudioDir(), this.mixer.rate);
    this.clips = new ClipCache(path.join(o.dataDir, 'clips'), { baseUrl: hubHttpBase(config.hub?.url), token: config.hub?.token, pins: config.hub?.pins });
    // A PA command names its clip relative to the instance that sent it: the one the link is on.
    bus.on('hub.link', (e) => {
      if (!e.connected || !e.url) return;
      this.connectedHub = e.url;
      this.clips.updateSource({ baseUrl: hubHttpBase(e.url) });
    });
    const languages = (pa.languages ?? ['zh-CN', 'en']) as Lang[];
    this.pa = new PaService({ mixer: this.mixer, bus, log, library: this.library, clips: this.clips, clock: this.clock, chime: pa.chime, languages });
    this.scheduler = this.schedulerFor(config);
    this.pager = this.pagerFor(config);
    this.music = this.musicFor(config);
  }

  schedulerFor(config: KioskConfig): Scheduler {
    const { bus, log } = this.o;
    return new Scheduler(
      config.pa.schedule.map((s) => ({ ...s, channel: s.channel as ChannelName | undefined })),
      (p) => bus.emit('pa.play', p),
      log,
      { timezone: config.site.timezone, now: this.o.now },
    );
  }

  pagerFor(config: KioskConfig): RtpPager {
    return new RtpPager(config.pa.multicast, this.mixer, this.o.bus, this.o.log, { hubPages: config.pa.hubPages, zone: config.zone });
  }

  musicFor(config: KioskConfig): MusicPlayer | undefined {
    const m = config.pa.music;
    if (!m?.playlist.length) return undefined;
    return new MusicPlayer(
      m.playlist.map((f) => path.resolve(this.o.configDir, f)),
      this.mixer,
      this.o.log,
      { volume: m.volume, shuffle: m.shuffle },
    );
  }

  /** Opens the configured output (probing ALSA off-process) and puts the mixer on it; an unusable one is a fault and silence. */
  openOutput(out: KioskConfig['audio']['output']): Promise<void> {
    const faultBefore = this.fault;
    return this.chooseSink(out).then((sink) => {
      sink.onError = (err) => {
        this.raise(`audio output failed: ${err.message}`);
        this.mixer.setSink(new NullSink());
      };
      this.mixer.setSink(sink);
      this.o.log.info({ sink: sink.kind, rate: this.mixer.rate }, 'audio output open');
      // A device that works again (a new config) ends the fault the old one raised.
      if (faultBefore && this.fault === faultBefore && this.outputFaults.has(faultBefore)) {
        this.fault = undefined;
        this.o.bus.emit('audio.fault', { active: false, reason: `audio output open (${sink.kind})` });
      }
    }).catch((err: Error) => {
      // never an unhandled rejection (the process guard would end the kiosk): a fault, and no output
      this.raise(`audio output could not be opened: ${err.message}`);
    });
  }

  /** Chooses the sink (probing ALSA off-process), then starts the PA sources. */
  start(): Promise<void> {
    const { config, log } = this.o;
    this.ready = this.openOutput(config.audio.output);
    // bundled messages are loaded into memory shortly after start-up, off the start-up path
    const preload = setTimeout(() => {
      void this.library.preload((config.pa.languages ?? ['zh-CN', 'en']) as Lang[]).catch((err: Error) => {
        log.error({ err: err.message }, 'bundled messages unavailable');
        this.raise(err.message, false);
      });
    }, 1000);
    preload.unref();
    this.scheduler.start();
    this.music?.start();
    // volume follows the time of day and the surroundings; a minute is fine-grained enough for both
    this.volumeTimer = setInterval(() => (this.mixer.volume = this.volume.current()), 1000);
    this.volumeTimer.unref();
    return this.pager.start();
  }

  private async chooseSink(out: KioskConfig['audio']['output']): Promise<Sink> {
    if (out.sink === 'null') return new NullSink();
    if (out.sink === 'file') {
      if (!out.file) {
        this.raise('audio.output.file is not set for the file sink');
        return new NullSink();
      }
      try {
        return new FileSink(path.resolve(this.o.configDir, out.file), this.mixer.rate);
      } catch (err) {
        this.raise(`cannot open audio file ${out.file}: ${(err as Error).message}`);
        return new NullSink();
      }
    }
    // The addon's direct writes first (no thread-pool trip per frame); `speaker` when they do not work here.
    const direct = await probeDirectAlsa(out.device, this.mixer.rate);
    if (!direct) {
      try {
        return new DirectAlsaSink(out.device, this.mixer.rate);
      } catch (err) {
        this.o.log.warn({ err }, 'direct ALSA output failed after its probe; trying the speaker module');
      }
    } else this.o.log.info({ reason: direct }, 'direct ALSA output unavailable; using the speaker module');
    const why = await probeSpeaker(out.device, this.mixer.rate);
    if (why) {
      this.raise(why);
      return new NullSink();
    }
    try {
      return new AlsaSink(out.device, this.mixer.rate, this.mixer.frameSamples);
    } catch (err) {
      this.raise(`ALSA output: ${(err as Error).message}`);
      return new NullSink();
    }
  }

  /**
   * Ambient noise from the microphone, measured only while the kiosk is silent. Adaptive volume
   * samples the microphone while idle, so it holds a lease on it all the time it is attached (the
   * raw microphone: ambient noise is measured before noise suppression and gain, and the echo
   * canceller need not run for it). A microphone that fails to start raises the audio fault through
   * the microphone's own error report; the promise returned settles once it runs or failed.
   */
  attachMicrophone(input: AudioInput): Promise<void> {
    this.detachMicrophone();
    const off = input.onFrame((samples) => {
      if (this.mixer.active().length === 0) this.volume.feed(samples);
    });
    const lease = leaseInput(input, 'adaptive-volume', true);
    this.micOff = () => {
      off();
      void lease.release();
    };
    return lease.ready.catch(() => {});
  }

  /** Stops measuring ambient noise (adaptive volume switched off) and lets go of the microphone. */
  detachMicrophone(): void {
    this.micOff?.();
    this.micOff = undefined;
  }

  /** faults raised by the output (not the microphone or paging): a working output clears them */
  private readonly outputFaults = new Set<string>();

  private raise(reason: string, output = true): void {
    this.fault = reason;
    if (output) this.outputFaults.add(reason);
    this.o.log.error({ reason }, 'audio fault');
    this.o.bus.emit('audio.fault', { active: true, reason });
  }

  status() {
    return {
      sink: this.mixer.sinkKind,
      rate: this.mixer.rate,
      volume: Math.round(this.mixer.volume * 1000) / 1000,
      // on the media clock now (false while nothing plays: the idle mixer does not wake), and how often it went idle
      mixer: { awake: this.mixer.awake, idleStops: this.mixer.idleStops },
      ambientDbfs: this.volume.ambientDbfs,
      // the leases on the microphone: empty on an idle kiosk unless adaptive volume samples it
      ...(this.microphoneUsers ? { microphone: this.microphoneUsers() } : {}),
      fault: this.fault,
      streams: this.mixer.active().map((s) => ({ id: s.id, channel: s.channel, started: s.started })),
      announcements: this.pa.list(),
      recent: this.recent,
    };
  }

  stop(): void {
    clearInterval(this.volumeTimer);
    this.micOff?.();
    this.scheduler.stop();
    this.music?.stop();
    this.pager.stop();
    this.pa.close();
    this.mixer.stop();
  }
}
