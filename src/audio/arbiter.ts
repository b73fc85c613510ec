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

const RANK = Object.fromEntries(CHANNELS.map((c, i) => [c, i])) as Record<ChannelName, number>;

/** An arbiter stream that carries its own decision object, filled in place every frame. */
export interface DecidedStream extends ArbiterStream {
  readonly decision: Decision;
}

export class Arbiter {
  /** action of channel rank `over` on channel rank `under`, precomputed (no string keys per frame) */
  private readonly matrix: RuleAction[][];
  private readonly heads: (ArbiterStream | undefined)[] = new Array(CHANNELS.length).fill(undefined);
  readonly duckLevel: number;

  constructor(opts: ArbiterOptions = {}) {
    this.duckLevel = opts.duckLevel ?? 0.2;
    this.matrix = CHANNELS.map(() => CHANNELS.map((): RuleAction => 'duck'));
    for (const r of [...DEFAULT_RULES, ...(opts.rules ?? [])]) this.matrix[RANK[r.over]]![RANK[r.under]] = r.action;
  }

  /** What `over` does to `under` (lower channels duck unless a rule says otherwise). */
  action(over: ChannelName, under: ChannelName): RuleAction {
    return this.matrix[RANK[over]]![RANK[under]]!;
  }

  /** Decides for present[0..count) in place (each stream's `decision`); allocates nothing. */
  decideInto(present: readonly DecidedStream[], count = present.length): void {
    const heads = this.heads;
    heads.fill(undefined);
    for (let i = 0; i < count; i++) {
      const s = present[i]!;
      const r = RANK[s.channel];
      const h = heads[r];
      if (!h || s.priority > h.priority || (s.priority === h.priority && s.seq < h.seq)) heads[r] = s;
    }
    for (let i = 0; i < count; i++) {
      const s = present[i]!;
      const d = s.decision;
      const r = RANK[s.channel];
      if (heads[r] !== s) {
        d.gain = 0;
        d.active = false;
        d.stop = false;
        continue;
      }
      let strongest: RuleAction = 'mix';
      for (let c = 0; c < r; c++) {
        if (!heads[c]) continue;
        const a = this.matrix[c]![r]!;
        if (STRENGTH[a] > STRENGTH[strongest]) strongest = a;
      }
      d.gain = strongest === 'mix' ? 1 : strongest === 'duck' ? this.duckLevel : 0;
      // paused: waits like a queued stream (a stored one holds its place, a live one is consumed silently)
      d.active = strongest !== 'pause';
      d.stop = strongest === 'stop';
    }
  }

  /** The same decisions as a map (allocates: for tests and status, not the mixing loop). */
  decide<S extends ArbiterStream>(present: S[]): Map<S, Decision> {
    const wrapped = present.map((s) => ({ channel: s.channel, priority: s.priority, seq: s.seq, decision: { gain: 0, active: false, stop: false } }));
    this.decideInto(wrapped);
    return new Map(present.map((s, i) => [s, wrapped[i]!.decision]));
  }
}
