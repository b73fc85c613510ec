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
  | 'announce'
  | 'announced'
  | 'offer'
  | 'invite-sent'
  | 'answer-received'
  | 'rtp-first-sent'
  | 'ack-sent';

export const SETUP_TRACE_ENV = 'HELPPOINT_SETUP_TRACE';
/**
 * Diagnosis only (with the trace on): also note every callback the event loop ran around a set-up (async_hooks:
 * start, duration, resource type and, for timers, the callback's name) and the process's context switches
 * (getrusage) at the press and at the first RTP packet. It costs a hook per callback and per promise, so it
 * changes the figures it explains; the benchmark never sets it.
 */
export const SETUP_LOOP_ENV = 'HELPPOINT_SETUP_LOOP';

const on = process.env[SETUP_TRACE_ENV] === '1';
let marks: Partial<Record<SetupStage, number>> = {};
let timer: NodeJS.Timeout | undefined;
let lastHttp = 0;
let sink: ((marks: Partial<Record<SetupStage, number>>, gc: number[][], diag?: { loop: (number | string)[][]; csw: Record<string, [number, number]> }) => void) | undefined;
/** garbage collections since the press: [start, duration] in CLOCK_MONOTONIC ms, and V8's kind (1 scavenge, 2 mark-compact, 4 incremental, 8 weak callbacks) */
let gcs: number[][] = [];
/** callbacks the event loop ran: [start, duration, type, name] (CLOCK_MONOTONIC ms), a ring */
let loop: (number | string)[][] = [];
/** context switches at the press and at the first RTP packet sent: [voluntary, involuntary] */
let csw: Record<string, [number, number]> = {};
const loopOn = on && process.env[SETUP_LOOP_ENV] === '1';
if (loopOn) {
  void import('node:async_hooks').then(({ createHook }) => {
    const labels = new Map<number, string>();
    const started = new Map<number, number>();
    createHook({
      init(id, type, _trigger, resource) {
        if (type === 'PROMISE') return;
        const r = resource as { _onTimeout?: { name?: string }; callback?: { name?: string }; constructor?: { name?: string } };
        const fn = r._onTimeout?.name || r.callback?.name || '';
        labels.set(id, fn ? `${type}:${fn}` : type);
      },
      before(id) {
        if (labels.has(id)) started.set(id, monotonicMs());
      },
      after(id) {
        const t = started.get(id);
        if (t === undefined) return;
        started.delete(id);
        if (loop.length > 4000) loop = loop.slice(-1000);
        loop.push([t, monotonicMs() - t, labels.get(id)!]);
      },
      destroy(id) {
        labels.delete(id);
        started.delete(id);
      },
    }).enable();
  });
}
function switches(): [number, number] {
  const u = process.resourceUsage();
  return [u.voluntaryContextSwitches, u.involuntaryContextSwitches];
}

if (on) {
  // performance.now() and process.hrtime share CLOCK_MONOTONIC: one offset converts GC entries to marks' time.
  const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  void import('node:perf_hooks').then(({ PerformanceObserver }) => {
    new PerformanceObserver((list) => {
      if (gcs.length > 1000) gcs = gcs.slice(-100);
      for (const e of list.getEntries()) gcs.push([e.startTime + offset, e.duration, (e as { detail?: { kind?: number } }).detail?.kind ?? 0]);
    }).observe({ entryTypes: ['gc'] });
  });
}

/** Milliseconds on CLOCK_MONOTONIC (the clock of process.hrtime in every process). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const setupTrace = {
  enabled: on,
  /** Where a call's marks go once it is set up (the kiosk's log). */
  onCall(fn: (marks: Partial<Record<SetupStage, number>>, gc: number[][], diag?: { loop: (number | string)[][]; csw: Record<string, [number, number]> }) => void): void {
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
      const from = now;
      gcs = gcs.filter(([t, d]) => t + d! >= lastHttp);
      clearTimeout(timer);
      if (loopOn) csw = { press: switches() };
      // Printed after the set-up, off its path.
      timer = setTimeout(() => {
        const since = Math.min(from, lastHttp) - 30;
        const diag = loopOn ? { loop: loop.filter(([t]) => (t as number) >= since), csw: { ...csw, printed: switches() } } : undefined;
        sink?.(marks, gcs.filter(([t, d]) => t! + d! >= Math.min(from, lastHttp)), diag);
      }, 300);
    }
    if (loopOn && stage === 'rtp-first-sent' && !marks[stage]) csw['rtp-first-sent'] = switches();
    marks[stage] ??= now;
  },
};
