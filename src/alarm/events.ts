// The alarm's events: the contract with the hub and the desks (agreed between
// the work streams; see docs/alarm.md). One `alarm.state` per transition,
// recorded and sent to the hub like every recorded event.
export const ALARM_STATES = ['raised', 'calling', 'queued', 'talking', 'acknowledged', 'reset'] as const;
export type AlarmStateName = (typeof ALARM_STATES)[number];

export interface AlarmState {
  /** `<kioskId>-<base36 time>-<4 hex>`, stable for the alarm's whole life (across restarts) */
  alarmId: string;
  state: AlarmStateName;
  kind: 'emergency';
  /** medical, fire, security, upgrade, tamper ... */
  category?: string;
  /** button | screen | upgrade | input:<name> | hub | callback */
  source: string;
  /** ISO time the alarm was raised */
  raisedAt: string;
  /** ISO time of this transition */
  at: string;
  /** transition number within the alarm (1 = raised): the order of transitions, across restarts */
  seq: number;
  /** INVITE attempt number (1..) */
  attempt?: number;
  /** SIP URI of the desk being called / talking */
  target?: string;
  /** the intercom call of this attempt */
  callId?: string;
  /** who acknowledged / reset: 'dtmf' | 'info' | 'hub:<user>' | 'local' | 'talk-timeout' */
  by?: string;
  /** why this transition (desk hung up, media timeout, 486 Busy Here, queue wait over, ...) */
  reason?: string;
}

export interface AlarmEvents {
  'alarm.state': AlarmState;
  /** A request or command the alarm did not act on, and why (never silent). */
  'alarm.refused': { source: string; reason: string; alarmId?: string };
  /** An exception inside the alarm policy: logged, raised as a fault, retried after a short backoff. */
  'alarm.error': { alarmId?: string; where: string; error: string };
}
