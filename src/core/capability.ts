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

export interface Capability<Ctx, Event extends string = string, Section extends string = string> {
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
}

/** Health of a capability that tracks one optional failure reason. */
export function healthOf(started: boolean, failure?: string): CapabilityHealth {
  if (!started) return { state: failure ? 'failed' : 'stopped', ...(failure ? { detail: failure } : {}) };
  return failure ? { state: 'degraded', detail: failure } : { state: 'running' };
}
