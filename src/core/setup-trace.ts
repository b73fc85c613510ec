// Call set-up stage marks, for the intercom benchmark: with HELPPOINT_SETUP_TRACE=1
// the kiosk notes when each stage of an outgoing call's set-up happened (the
// trigger's HTTP request, the button press, the alarm decision, the journal
// write and its fdatasync, the INVITE, the 200, the ACK, the first RTP packet)
// and prints them as one log line per call once the call is set up. Times are
// process.hrtime (CLOCK_MONOTONIC), the clock every process on the machine
// shares, so the benchmark can subtract its own trigger time from them.
// Off (the default) a mark is one boolean test.

export type SetupStage =
  | 'http'
  | 'press'
  | 'alarm'
  | 'journal-written'
  | 'journal-synced'
  | 'offer'
  | 'invite-sent'
  | 'answer-received'
  | 'rtp-first-sent'
  | 'ack-sent';

export const SETUP_TRACE_ENV = 'HELPPOINT_SETUP_TRACE';

const on = process.env[SETUP_TRACE_ENV] === '1';
let marks: Partial<Record<SetupStage, number>> = {};
let timer: NodeJS.Timeout | undefined;
let lastHttp = 0;
let sink: ((marks: Partial<Record<SetupStage, number>>) => void) | undefined;

/** Milliseconds on CLOCK_MONOTONIC (the clock of process.hrtime in every process). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const setupTrace = {
  enabled: on,
  /** Where a call's marks go once it is set up (the kiosk's log). */
  onCall(fn: (marks: Partial<Record<SetupStage, number>>) => void): void {
    sink = fn;
  },
  /**
   * The first mark of a stage per call wins. 'http' notes when the latest local request arrived; 'press' (an
   * emergency press) starts a new call's set of marks with it.
   */
  mark(stage: SetupStage): void {
    if (!on) return;
    const now = monotonicMs();
    if (stage === 'http') return void (lastHttp = now);
    if (stage === 'press') {
      marks = { http: lastHttp };
      clearTimeout(timer);
      // Printed after the set-up, off its path.
      timer = setTimeout(() => sink?.(marks), 300);
    }
    marks[stage] ??= now;
  },
};
