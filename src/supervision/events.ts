// Supervision's events: the verdict of a test (recorded, sent to the hub; the
// contract agreed with the hub side, see docs/supervision.md) and the screen
// page's heartbeat.
export const CALL_STEPS = ['registered', 'invite', 'audio-out', 'audio-in', 'dtmf', 'cleared'] as const;
export const LOCAL_STEPS = ['acoustic-loop', 'lamps', 'relays', 'screen', 'storage', 'clock'] as const;
export type StepName = (typeof CALL_STEPS)[number] | (typeof LOCAL_STEPS)[number];

export interface SupervisionStep {
  step: StepName;
  ok: boolean;
  /** how long the step took */
  ms: number;
  /** what was seen, in words a technician understands ("skipped: invite failed", "not tested: ...") */
  detail: string;
}

export type TestTrigger = 'schedule' | 'hub' | 'local';

export interface SupervisionTest {
  /** `<kioskId>-t-<base36 time>-<4 hex>` */
  testId: string;
  trigger: TestTrigger;
  startedAt: string;
  /** when the verdict was reached */
  at: string;
  passed: boolean;
  /** the first failed step, or 'interrupted' (a real press ended the test call; not a fault) */
  failedStep?: string;
  steps: SupervisionStep[];
  intervalS: number;
  /** supervision.graceS: the hub raises the overdue alarm once the last pass is older than intervalS + graceS */
  graceS: number;
  /** ISO time of the next scheduled test; absent when the schedule is off */
  next?: string;
}

export interface SupervisionEvents {
  'supervision.test': SupervisionTest;
  /** a test began (not recorded: the verdict is) */
  'supervision.started': { testId: string; trigger: TestTrigger; startedAt: string };
  /** the screen page is alive (it pings every few seconds over /screen/ws) */
  'screen.heartbeat': { at: number };
}
