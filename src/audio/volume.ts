// The kiosk's announcement volume: base x zone x time of day x ambient noise.
// Ambient noise is measured from the microphone only while nothing plays (the
// kiosk must not turn itself up by hearing its own speaker), smoothed, and
// mapped into the configured [min, max] range.

export interface VolumeConfig {
  base: number;
  zone: string;
  zones?: Record<string, number>;
  times?: { from: string; to: string; volume: number }[];
  adaptive?: { min: number; max: number; quietDbfs?: number; loudDbfs?: number };
  timezone?: string;
}

export class VolumeControl {
  /** smoothed ambient level, dBFS; undefined until measured */
  ambientDbfs?: number;
  /**
   * Made at the first time-of-day rule only: the first Intl formatter of a process reads ICU's locale and
   * time-zone data, about 7 MB of resident memory a kiosk without time-of-day volumes does not need (idle_rss_mb).
   */
  private fmt?: Intl.DateTimeFormat;

  constructor(
    private readonly cfg: VolumeConfig,
    private readonly now: () => number = Date.now,
  ) {
    // with time-of-day rules a bad time zone still fails here, at start, not at the first PA
    if (cfg.times?.length) this.formatter();
  }

  private formatter(): Intl.DateTimeFormat {
    return (this.fmt ??= new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: this.cfg.timezone }));
  }

  /** One microphone frame, taken while the kiosk is silent. */
  feed(samples: Int16Array): void {
    if (!samples.length) return;
    let sum = 0;
    for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
    const rms = Math.sqrt(sum / samples.length) / 32768;
    const db = 20 * Math.log10(Math.max(rms, 1e-6));
    // slow attack and release: one passing train or shout should not swing the volume
    this.ambientDbfs = this.ambientDbfs === undefined ? db : this.ambientDbfs + (db - this.ambientDbfs) * 0.02;
  }

  timeFactor(): number {
    if (!this.cfg.times?.length) return 1;
    const hm = this.formatter().format(new Date(this.now())); // "HH:MM"
    let f = 1;
    for (const t of this.cfg.times ?? []) {
      const inside = t.from <= t.to ? hm >= t.from && hm < t.to : hm >= t.from || hm < t.to;
      if (inside) f = t.volume;
    }
    return f;
  }

  adaptiveFactor(): number {
    const a = this.cfg.adaptive;
    if (!a) return 1;
    if (this.ambientDbfs === undefined) return a.max; // unknown surroundings: be heard
    const quiet = a.quietDbfs ?? -60;
    const loud = a.loudDbfs ?? -25;
    const x = Math.min(1, Math.max(0, (this.ambientDbfs - quiet) / (loud - quiet)));
    return a.min + (a.max - a.min) * x;
  }

  current(): number {
    const zone = this.cfg.zones?.[this.cfg.zone] ?? 1;
    return Math.min(1, this.cfg.base * zone * this.timeFactor() * this.adaptiveFactor());
  }
}
