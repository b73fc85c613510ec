// The priority arbiter: given the streams present in a frame, decides for
// each one whether it plays, at what share of its volume, or waits. Rules say
// what a higher channel does to a lower one; the strongest rule from any
// present higher channel wins. Within one channel, streams queue: the first
// (highest priority, then oldest) plays, the rest wait (live ones keep being
// consumed silently so they stay current; stored ones hold their place).
import { CHANNELS, type ChannelName } from './types.js';

export type RuleAction = 'mix' | 'duck' | 'mute' | 'pause' | 'stop';
export interface Rule {
  over: ChannelName;
  under: ChannelName;
  action: RuleAction;
}

export interface ArbiterOptions {
  rules?: Rule[];
  /** gain of a ducked stream (share of its own volume) */
  duckLevel?: number;
}

/** Defaults after the paging systems in the field notes (Zenitel, Barix). */
export const DEFAULT_RULES: Rule[] = [
  // an evacuation broadcast silences the call, which stays up underneath
  { over: 'emergency', under: 'call', action: 'mute' },
  // a live page is mixed into a running call (Zenitel "HIGH" priority)
  { over: 'page', under: 'call', action: 'mix' },
  // an emergency pre-empts information and music; they hold their place and carry on afterwards
  { over: 'emergency', under: 'announcement', action: 'pause' },
  { over: 'emergency', under: 'music', action: 'pause' },
];
const STRENGTH: Record<RuleAction, number> = { mix: 0, duck: 1, mute: 2, pause: 3, stop: 4 };

export interface ArbiterStream {
  channel: ChannelName;
  priority: number;
  seq: number;
}

export interface Decision {
  /** multiplier of the stream's own volume (0 while muted or waiting) */
  gain: number;
  /** false: the stream waits its turn in its channel */
  active: boolean;
  /** true: a rule stops this stream outright */
  stop: boolean;
}

export class Arbiter {
  private readonly table = new Map<string, RuleAction>();
  readonly duckLevel: number;

  constructor(opts: ArbiterOptions = {}) {
    this.duckLevel = opts.duckLevel ?? 0.2;
    for (const r of [...DEFAULT_RULES, ...(opts.rules ?? [])]) this.table.set(`${r.over}>${r.under}`, r.action);
  }

  /** What `over` does to `under` (lower channels duck unless a rule says otherwise). */
  action(over: ChannelName, under: ChannelName): RuleAction {
    return this.table.get(`${over}>${under}`) ?? 'duck';
  }

  decide<S extends ArbiterStream>(present: S[]): Map<S, Decision> {
    const out = new Map<S, Decision>();
    const rank = (c: ChannelName) => CHANNELS.indexOf(c);
    const heads = new Map<ChannelName, S>();
    for (const s of present) {
      const h = heads.get(s.channel);
      if (!h || s.priority > h.priority || (s.priority === h.priority && s.seq < h.seq)) heads.set(s.channel, s);
    }
    for (const s of present) {
      if (heads.get(s.channel) !== s) {
        out.set(s, { gain: 0, active: false, stop: false });
        continue;
      }
      let strongest: RuleAction = 'mix';
      for (const c of heads.keys()) {
        if (rank(c) >= rank(s.channel)) continue;
        const a = this.action(c, s.channel);
        if (STRENGTH[a] > STRENGTH[strongest]) strongest = a;
      }
      out.set(s, {
        gain: strongest === 'mix' ? 1 : strongest === 'duck' ? this.duckLevel : 0,
        // paused: waits like a queued stream (a stored one holds its place, a live one is consumed silently)
        active: strongest !== 'pause',
        stop: strongest === 'stop',
      });
    }
    return out;
  }
}
