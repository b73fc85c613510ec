// The media clock's timer: re-armed in place (the process's clock: Node's timeout.refresh) when the next
// wake-up is as far away as the last one, a new timer otherwise; either way every task runs on its grid.
import { strict as assert } from 'node:assert';
import { mediaClock, MediaClock, ORDER, type ClockTask } from '../../src/audio/media-clock.js';
import { FakeTime } from './helpers.js';
import { dspOrUndefined } from '../../src/dsp/native.js';

/** FakeTime whose timers can be re-armed from their own callback, as Node's refresh() does. */
class RearmingTime extends FakeTime {
  sets = 0;
  rearms = 0;
  private readonly fns = new Map<unknown, { fn: () => void; ms: number }>();
  override setTimer(fn: () => void, ms: number): unknown {
    this.sets++;
    const h = super.setTimer(fn, ms);
    this.fns.set(h, { fn, ms });
    return h;
  }
  rearmTimer(h: unknown): void {
    this.rearms++;
    const { fn, ms } = this.fns.get(h)!;
    const again = super.setTimer(fn, ms); // the fake's timers are one-shot: the same callback and delay, from now
    this.fns.set(again, { fn, ms });
    this.alias.set(h, again);
  }
  /** a re-armed handle stands for the timer it became (clearTimer on it must clear that one) */
  private readonly alias = new Map<unknown, unknown>();
  override clearTimer(h: unknown): void {
    let x = h;
    while (this.alias.has(x)) x = this.alias.get(x);
    super.clearTimer(x);
  }
}

function gridTask(order: number, due: number, period: number, runs: number[]): ClockTask {
  const task: ClockTask = {
    order,
    due,
    tick: (now) => {
      let next = task.due;
      while (next <= now) {
        runs.push(next);
        next += period;
      }
      return next;
    },
  };
  return task;
}

describe('media clock timer', () => {
  it('re-arms its timer for a repeated delay and keeps every task on its grid', () => {
    const time = new RearmingTime(1000);
    const clock = new MediaClock(time);
    const a: number[] = [];
    const b: number[] = [];
    const offA = clock.add(gridTask(ORDER.send, 1020, 20, a));
    const offB = clock.add(gridTask(ORDER.mixer, 1020, 20, b));
    time.advance(1000);
    assert.deepEqual(a, Array.from({ length: 50 }, (_, i) => 1020 + 20 * i));
    assert.deepEqual(b, a);
    assert.equal(clock.wakeups, 50);
    assert.ok(time.rearms >= 48, `re-armed ${time.rearms} times, new timers ${time.sets}`);
    // a task with another period: new timers where the delay changes, still on time
    const c: number[] = [];
    const offC = clock.add(gridTask(ORDER.play, 2030, 30, c));
    time.advance(300);
    assert.deepEqual(c, Array.from({ length: 10 }, (_, i) => 2030 + 30 * i));
    assert.equal(a.at(-1), 2300);
    offA();
    offB();
    offC();
    const wakes = clock.wakeups;
    time.advance(200);
    assert.equal(clock.wakeups, wakes, 'no wake-up once every task is removed');
  });

  it('runs on a real timer: the addon\'s MediaTimer when it loads, else setTimeout re-armed in place', async () => {
    const runs: number[] = [];
    const start = mediaClock.now();
    const off = mediaClock.add(gridTask(ORDER.send, start + 20, 20, runs));
    assert.equal(mediaClock.timerKind, process.env.HELPPOINT_MEDIA_TIMER !== 'node' && dspOrUndefined()?.MediaTimer ? 'native' : 'node');
    await new Promise((r) => setTimeout(r, 230));
    off();
    assert.ok(runs.length >= 9 && runs.length <= 12, `${runs.length} ticks in 230 ms`);
    for (let i = 1; i < runs.length; i++) assert.ok(Math.abs(runs[i]! - runs[i - 1]! - 20) < 1e-6, `tick ${i} ${runs[i]! - runs[i - 1]!} ms after the one before`);
    const after = runs.length;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(runs.length, after, 'no tick once the last task is gone');
  });

  it('on the addon\'s MediaTimer: a task that throws reaches uncaughtException as from setTimeout (where the kiosk\'s process guard ends it)', async function () {
    if (!dspOrUndefined()?.MediaTimer || process.env.HELPPOINT_MEDIA_TIMER === 'node') this.skip();
    const clock = new MediaClock();
    const errors: string[] = [];
    // mocha's own handler would fail the test: ours alone while the task throws
    const mochaHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const onErr = (e: Error) => errors.push(e.message);
    process.on('uncaughtException', onErr);
    let offBad = () => {};
    try {
      let thrown = false;
      offBad = clock.add({
        order: ORDER.send,
        due: clock.now() + 20,
        tick: (now) => {
          if (!thrown) {
            thrown = true;
            throw new Error('task failed');
          }
          return now + 20;
        },
      });
      assert.equal(clock.timerKind, 'native');
      await new Promise((r) => setTimeout(r, 120));
    } finally {
      offBad();
      process.off('uncaughtException', onErr);
      for (const h of mochaHandlers) process.on('uncaughtException', h);
    }
    assert.deepEqual(errors, ['task failed']);
  });
});
