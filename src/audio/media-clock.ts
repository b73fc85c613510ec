// One real-time clock for all of a process's audio: the mixer's frames, each
// call's RTP send and playout, and the clocked microphone sources run from a
// single timer instead of one each. A call used to wake the process about 250
// times a second (mixer every 10 ms, plus send, playout and microphone every
// 20 ms, each on its own phase); on the shared clock the call's tasks are
// aligned to the mixer's grid and run in the same wake-up as its frames; while
// calls are all that plays the mixer takes 20 ms frames on the same 20 ms grid
// (mixer.ts callFrameMs), so a kiosk in a call wakes 50 times a second for the
// clock, half as often as when idle (call_cpu_pct).
//
// Each task keeps its own drift-free schedule: the clock calls tick(now) once
// its due time has come and the task returns its next due time (it may catch
// up on several periods in one tick, as before). Tasks due in the same wake-up
// run in `order`: microphone before send (the freshest frame goes out at
// once), playout before the mixer (a received frame is mixed in the same
// wake-up).
import { dspOrUndefined } from '../dsp/native.js';

export interface ClockTask {
  /** lower runs first within a wake-up: ORDER.input < send < receive (a polled RTP socket) < play < mixer */
  readonly order: number;
  /** performance.now() instant the task is next due */
  due: number;
  /** runs the task for everything due up to `now`; returns its next due instant */
  tick(now: number): number;
}

export const ORDER = { input: 0, send: 1, receive: 2, play: 3, mixer: 4 } as const;

/** Tasks due this close after a wake-up run in it (timers fire on whole milliseconds). */
const EARLY_MS = 0.5;

/** Where a clock reads the time and sets its timer: the process's own, or a test's fake one. */
export interface TimeSource {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /**
   * Optional: arms again, `ms` from now, the timer whose callback is running now and was set for the same `ms`.
   * Node's timeout.refresh() reuses the Timeout: no new object and async id per wake-up (a third of an idle
   * 20 ms wake-up's instructions).
   */
  rearmTimer?(handle: unknown): void;
}

const NODE_TIME: TimeSource = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  rearmTimer: (h) => void (h as NodeJS.Timeout).refresh(),
};

/**
 * The process's time source: the addon's MediaTimer (a bare libuv timer, about a third cheaper per wake-up than
 * setTimeout, see native/dsp/src/media-timer.cc) when it loads, else setTimeout. Chosen at the first timer, so a
 * process that plays nothing never loads the addon for it; HELPPOINT_MEDIA_TIMER=node keeps setTimeout (A/B).
 */
function processTime(): TimeSource {
  let chosen: TimeSource | undefined;
  const choose = (): TimeSource => {
    if (chosen) return chosen;
    const Timer = process.env.HELPPOINT_MEDIA_TIMER === 'node' ? undefined : dspOrUndefined()?.MediaTimer;
    if (!Timer) return (chosen = NODE_TIME);
    // One native timer serves the clock: it has at most one armed at a time (arm() clears the old one first).
    let fire: (() => void) | undefined;
    const timer = new Timer(() => fire?.());
    return (chosen = {
      now: () => performance.now(),
      setTimer: (fn, ms) => {
        fire = fn;
        timer.start(ms);
        return timer;
      },
      clearTimer: () => timer.stop(),
    });
  };
  return {
    now: () => performance.now(),
    setTimer: (fn, ms) => choose().setTimer(fn, ms),
    clearTimer: (h) => choose().clearTimer(h),
    get rearmTimer() {
      return choose().rearmTimer;
    },
  };
}

export class MediaClock {
  private tasks: ClockTask[] = [];
  private timer?: unknown;
  /** the delay the timer was set for (ms) */
  private timerMs = 0;
  /** the timer whose callback (wake) runs now, and its delay: arm() may reuse it for the same delay */
  private firing?: unknown;
  private firingMs = 0;
  private armedAt = Infinity;
  /** the grid tasks align to: set by the first task, kept while any task runs */
  private epoch?: number;
  wakeups = 0;

  constructor(private readonly time: TimeSource = processTime()) {}

  /** 'native' when the clock's timers are the addon's MediaTimer, 'node' for setTimeout; undefined before the first */
  get timerKind(): 'native' | 'node' | undefined {
    const h = this.timer ?? this.firing ?? this.lastTimer;
    if (h === undefined) return undefined;
    return typeof (h as { refresh?: unknown }).refresh === 'function' ? 'node' : 'native';
  }
  private lastTimer?: unknown;

  /** Tasks on the clock now: a closed call or stopped source must leave none behind (tests check it). */
  get taskCount(): number {
    return this.tasks.length;
  }

  /** The clock's time (performance.now() for the process's clock). */
  now(): number {
    return this.time.now();
  }

  /** Adds a task (first run at task.due); returns its removal. */
  add(task: ClockTask): () => void {
    if (this.epoch === undefined) this.epoch = task.due;
    let i = this.tasks.length;
    while (i > 0 && this.tasks[i - 1]!.order > task.order) i--;
    this.tasks = [...this.tasks.slice(0, i), task, ...this.tasks.slice(i)];
    this.arm();
    return () => this.remove(task);
  }

  /** Moves a task's next due instant (its schedule changed, e.g. playout started). */
  reschedule(task: ClockTask, due: number): void {
    task.due = due;
    if (this.tasks.includes(task)) this.arm();
  }

  private remove(task: ClockTask): void {
    if (!this.tasks.includes(task)) return;
    this.tasks = this.tasks.filter((t) => t !== task);
    if (this.tasks.length === 0) {
      if (this.timer !== undefined) this.time.clearTimer(this.timer);
      this.timer = undefined;
      this.armedAt = Infinity;
      this.epoch = undefined;
    }
  }

  /**
   * The first instant at or after t on the clock's grid of `step` ms (the
   * grid starts at the first task's first due time, normally the mixer's
   * start): a task on that grid shares the mixer's wake-ups.
   */
  alignUp(t: number, step: number): number {
    if (this.epoch === undefined) return t;
    return this.epoch + Math.ceil((t - this.epoch - EARLY_MS) / step) * step;
  }

  private arm(): void {
    let next = Infinity;
    for (const t of this.tasks) if (t.due < next) next = t.due;
    if (next === Infinity || next >= this.armedAt) return;
    if (this.timer !== undefined) this.time.clearTimer(this.timer);
    this.armedAt = next;
    // whole milliseconds, at least 1: a zero-delay timer re-armed from a timer
    // callback could hold the timers phase and starve the process's other timers.
    // Kept referenced: running audio keeps the process alive, like a server.
    const ms = Math.max(1, Math.ceil(next - this.time.now()));
    if (this.firing !== undefined && ms === this.firingMs && this.time.rearmTimer) {
      this.time.rearmTimer(this.firing);
      this.timer = this.firing;
    } else this.timer = this.time.setTimer(this.wake, ms);
    this.lastTimer = this.timer;
    this.timerMs = ms;
    this.firing = undefined; // armed once per wake-up at most
  }

  private readonly wake = (): void => {
    this.firing = this.timer;
    this.firingMs = this.timerMs;
    this.timer = undefined;
    this.armedAt = Infinity;
    this.wakeups++;
    const now = this.time.now() + EARLY_MS;
    const tasks = this.tasks; // a task added or removed meanwhile takes effect from the next wake-up
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      if (t.due <= now && this.tasks.includes(t)) t.due = t.tick(now);
    }
    this.arm();
    this.firing = undefined;
  };
}

/** The process's clock (kiosk, hub page gateway, tests: each process has one). */
export const mediaClock = new MediaClock();
