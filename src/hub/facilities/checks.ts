// Health checks a canary kiosk must pass before a rollout goes on to the rest.
// The kiosk's own verdict (config.healthy after its health window: applied,
// SIP registered where registrars are set, no new fault) is always required;
// the hub adds what it sees itself, and later areas plug in more (the test
// call of supervision), each off until that area switches it on.
import type { RolloutRow } from '../storage/facilities.js';
import type { KioskRow } from '../storage/storage.js';

export type Verdict = { state: 'pass' } | { state: 'pending'; detail: string } | { state: 'fail'; detail: string };

export interface CanaryCheck {
  /** short name shown in the console (e.g. 'test-call') */
  readonly name: string;
  /** whether this check runs for this rollout (a check that is off never holds a rollout back) */
  enabled(rollout: RolloutRow): boolean;
  /**
   * Judges one canary once the kiosk itself reported healthy; `since` is when
   * it acknowledged the config (ms). Called again while it answers pending.
   */
  judge(kiosk: KioskRow, rollout: RolloutRow, since: number): Promise<Verdict>;
}

/** Faults that are about the world, not the config (the kiosk's health window ignores them too). */
const PHYSICAL = new Set(['tamper', 'power', 'button-stuck']);

/** The hub's own view: the kiosk is online and shows no fault it did not have before the change. */
export function hubCheck(faultsBefore: { code: string }[] | null, online: boolean, k: KioskRow): Verdict {
  if (!online) return { state: 'pending', detail: 'offline (waiting for it to come back)' };
  const before = new Set((faultsBefore ?? []).map((f) => f.code));
  const added = k.faults.filter((f) => !before.has(f.code) && !PHYSICAL.has(f.code));
  if (added.length) return { state: 'fail', detail: `new fault: ${added.map((f) => `${f.code} (${f.detail})`).join('; ')}` };
  return { state: 'pass' };
}

/**
 * The test call: a call from the canary to a test answerer after the change.
 * Supervision provides the answerer; until it does this check is registered
 * but off, and the console says so.
 */
export const testCallCheck: CanaryCheck = {
  name: 'test-call',
  enabled: () => false,
  judge: async () => ({ state: 'fail', detail: 'no test answerer: the test-call check is not available yet' }),
};
