// What the kiosk remembers about configs from the hub, across restarts, in
// config-trial.json next to its store (crash-safe like the rest of it):
//   trial    the config running on probation: not yet last-known-good. Its
//            health window resumes after a planned restart or a clean stop;
//            after any other stop (crash, power cut, watchdog) the kiosk
//            starts on the last-known-good instead.
//   history  the versions pushed here, with the fingerprint of each document,
//            so a version that comes again is recognised: the same document is
//            acknowledged again, another document is refused, a version that
//            failed its health window here is refused with its reason.
import path from 'node:path';
import { SafeJsonFile } from '../store/safe-json-file.js';
import type { Logger } from '../core/log.js';

export interface Baseline {
  /** fault codes active before the change: they do not count against it */
  faults: string[];
  /** state before the change of each capability it touches */
  capabilities: Record<string, string>;
}

export interface Trial {
  version: number;
  fingerprint: string;
  /** when the config was applied (ISO) */
  appliedAt: string;
  windowS: number;
  baseline: Baseline;
  /** set just before a restart or a clean stop: the next start resumes the window */
  planned?: 'restart' | 'stop';
}

export type HistoryState = 'trial' | 'good' | 'rolled-back' | 'superseded';
export interface HistoryEntry {
  version: number;
  fingerprint: string;
  state: HistoryState;
  reason?: string;
  at: string;
}

interface TrialDoc {
  trial?: Trial;
  history: HistoryEntry[];
}

const HISTORY_MAX = 50;

export class ConfigTrialStore {
  private readonly file: SafeJsonFile<TrialDoc>;
  private doc: TrialDoc = { history: [] };

  constructor(dir: string, private readonly log?: Logger) {
    this.file = new SafeJsonFile<TrialDoc>(path.join(dir, 'config-trial.json'), (r) =>
      this.log?.error({ store: r }, 'config trial file was unreadable; recovered from the newest good copy'),
    );
    const data = this.file.readSync();
    if (data && Array.isArray(data.history)) this.doc = data;
  }

  get trial(): Trial | undefined {
    return this.doc.trial;
  }

  entry(version: number): HistoryEntry | undefined {
    return this.doc.history.findLast((h) => h.version === version);
  }

  /** Starts the probation of a version; an earlier trial still running is superseded. */
  begin(trial: Trial): Promise<boolean> {
    const prev = this.doc.trial;
    if (prev && prev.version !== trial.version) this.mark(prev.version, 'superseded', `replaced by version ${trial.version}`);
    this.doc.trial = trial;
    this.doc.history = this.doc.history.filter((h) => h.version !== trial.version);
    this.doc.history.push({ version: trial.version, fingerprint: trial.fingerprint, state: 'trial', at: trial.appliedAt });
    if (this.doc.history.length > HISTORY_MAX) this.doc.history.splice(0, this.doc.history.length - HISTORY_MAX);
    return this.save();
  }

  /** The trial's outcome: it ends. */
  end(state: Exclude<HistoryState, 'trial'>, reason?: string): Promise<boolean> {
    const t = this.doc.trial;
    if (t) this.mark(t.version, state, reason);
    this.doc.trial = undefined;
    return this.save();
  }

  /** A planned restart or clean stop: the next start resumes the window. */
  plan(planned: 'restart' | 'stop'): Promise<boolean> {
    if (!this.doc.trial) return Promise.resolve(true);
    if (this.doc.trial.planned === 'restart') return this.save();
    this.doc.trial.planned = planned;
    return this.save();
  }

  /** Running again after a planned stop: a crash from now on counts against the trial. */
  resumed(): Promise<boolean> {
    if (this.doc.trial) delete this.doc.trial.planned;
    return this.save();
  }

  private mark(version: number, state: HistoryState, reason?: string): void {
    const e = this.entry(version);
    if (!e) return;
    e.state = state;
    e.at = new Date().toISOString();
    if (reason) e.reason = reason;
  }

  private save(): Promise<boolean> {
    return this.file.write(this.doc).then(
      () => true,
      (err: Error) => {
        this.log?.error({ err: err.message }, 'config trial state not saved; continuing in memory');
        return false;
      },
    );
  }
}
