// Scheduled announcements from config: cron patterns (croner) in the site's
// time zone, each firing a `pa.play` of a bundled message. The clock is
// injectable so tests can stand just before a minute boundary.
import { Cron } from 'croner';
import type { Logger } from '../core/log.js';
import type { PaPlay } from './events.js';
import type { ChannelName } from './types.js';

export interface ScheduleEntry {
  cron: string;
  message: string;
  repeat?: number;
  intervalS?: number;
  channel?: ChannelName;
  chime?: boolean;
}

export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly entries: ScheduleEntry[],
    private readonly emit: (p: PaPlay) => void,
    private readonly log: Logger,
    private readonly opts: { timezone?: string; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  start(): void {
    this.entries.forEach((e, i) => {
      let cron: Cron;
      try {
        cron = new Cron(e.cron, { timezone: this.opts.timezone, paused: true });
      } catch (err) {
        this.log.error({ index: i, cron: e.cron, err: (err as Error).message }, 'invalid schedule entry ignored');
        return;
      }
      this.arm(i, e, cron, this.now());
    });
  }

  private arm(i: number, e: ScheduleEntry, cron: Cron, from: number): void {
    if (this.stopped) return;
    const next = cron.nextRun(new Date(from))?.getTime();
    if (next === undefined) return;
    // long waits are re-armed: timers cap at about 24.8 days and clocks get corrected
    const wait = Math.min(next - this.now(), 3_600_000);
    const t = setTimeout(() => {
      if (this.now() + 5 < next) return this.arm(i, e, cron, from);
      const at = new Date(next).toISOString();
      this.log.info({ index: i, message: e.message, at }, 'scheduled announcement');
      this.emit({
        id: `schedule-${i}-${at}`,
        channel: e.channel ?? 'announcement',
        message: e.message,
        ...(e.chime !== undefined ? { chime: e.chime } : {}),
        ...(e.repeat && e.repeat > 1 ? { repeat: { times: e.repeat, intervalS: e.intervalS ?? 0 } } : {}),
      });
      this.arm(i, e, cron, next);
    }, Math.max(0, wait));
    t.unref();
    this.timers.push(t);
    if (this.timers.length > 256) this.timers.splice(0, 128);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }
}
