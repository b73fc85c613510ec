// The shape every capability has, on the kiosk and (later) the hub: start,
// stop, health, the config section it reads and the events it raises and
// handles. The program that assembles capabilities (src/kiosk/app.ts) runs
// each in its own try/catch with one typed context object; a capability never
// imports that program, and a failing one becomes a fault, never a dead
// process.
export type CapabilityState = 'stopped' | 'starting' | 'running' | 'degraded' | 'failed';

export interface CapabilityHealth {
  state: CapabilityState;
  /** why it is degraded or failed, in words a technician understands */
  detail?: string;
}

/**
 * How a running capability took a new config:
 * - 'applied': live, now;
 * - 'unchanged': nothing it uses changed;
 * - 'restart': it cannot take this change live; the process must restart (the
 *   new config is already persisted, so it comes back on it);
 * - 'deferred': it will apply the change by itself once something that must not
 *   be interrupted is over (a call in progress); `applied` settles then and
 *   rejects if applying failed.
 */
export type Reconfigured = 'applied' | 'unchanged' | 'restart' | { deferred: string; applied: Promise<void> };

/** A new config for a running capability: both whole configs, and which of its own sections differ. */
export interface ConfigChange<Config, Section extends string = string> {
  next: Config;
  prev: Config;
  /** the capability's own sections (its `config` list) whose value changed */
  sections: readonly Section[];
}

export interface Capability<Ctx, Event extends string = string, Section extends string = string, Config = unknown> {
  /** short name: logs, /health, faults */
  readonly name: string;
  /** the config section(s) it reads */
  readonly config: readonly Section[];
  /** events it emits on the bus */
  readonly raises: readonly Event[];
  /** events it acts on */
  readonly handles: readonly Event[];
  start(ctx: Ctx): Promise<void>;
  stop(): Promise<void>;
  health(): CapabilityHealth;
  /**
   * Takes a new config while running, given only its own sections' diff.
   * Throws when the change cannot be applied (the kiosk then rolls back).
   * Absent: every change to its sections needs a restart.
   */
  reconfigure?(change: ConfigChange<Config, Section>): Promise<Reconfigured>;
  /** Why it must not be interrupted now (a call in progress), else undefined: restarts wait for it. */
  busy?(): string | undefined;
}

/** Health of a capability that tracks one optional failure reason. */
export function healthOf(started: boolean, failure?: string): CapabilityHealth {
  if (!started) return { state: failure ? 'failed' : 'stopped', ...(failure ? { detail: failure } : {}) };
  return failure ? { state: 'degraded', detail: failure } : { state: 'running' };
}
