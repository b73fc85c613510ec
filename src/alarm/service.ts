// What other capabilities may ask of the alarm (ctx.services.alarm): the hub
// link's dispatcher commands and the screen's view of the open alarm.
import type { AlarmState } from './events.js';

export interface AlarmService {
  /** Acknowledges the open alarm; rejects with the reason when refused (no open alarm, another alarmId). */
  ack(alarmId: string | undefined, by: string, reason?: string): Promise<void>;
  /** Resets (closes) the open alarm; rejects with the reason when refused. */
  reset(alarmId: string | undefined, by: string, reason?: string): Promise<void>;
  /** The open alarm's latest state, if any. */
  current(): AlarmState | undefined;
}

/** A request the alarm does not act on; the reason is an event and a log line. */
export class AlarmRefused extends Error {
  constructor(
    readonly source: string,
    reason: string,
  ) {
    super(reason);
  }
}
