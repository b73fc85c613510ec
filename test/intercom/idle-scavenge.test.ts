// The idle scavenge (src/intercom/idle-scavenge.ts): the young generation is
// emptied while the kiosk is idle, never while a call is active or being set up;
// the old generation gets a major GC while idle once it has grown by a set amount.
import { strict as assert } from 'node:assert';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { heapNow, IdleScavenger, nurseryFill } from '../../src/intercom/idle-scavenge.js';
import { sleep, until } from '../helpers/tmp.js';

/** Fills part of the young generation with garbage. */
function litter(): void {
  let keep = 0;
  for (let i = 0; i < 20_000; i++) keep += { i, s: `x${i}` }.s.length;
  assert.ok(keep > 0);
}

describe('idle scavenge between calls', () => {
  it('scavenges when idle and the nursery is over the threshold, and never while busy', async () => {
    const minor: number[] = [];
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === 1) minor.push(e.startTime);
    });
    obs.observe({ entryTypes: ['gc'] });
    try {
      let busy = true;
      const s = new IdleScavenger({ busy: () => busy, threshold: 0 });
      litter();
      assert.equal(s.check(), false, 'busy: nothing done');
      busy = false;
      litter();
      const before = minor.length;
      assert.equal(s.check(), true, 'idle: scavenged');
      await until(() => minor.length > before, 2000, 'a minor GC entry');
      assert.ok(nurseryFill() < 0.5, `the nursery is mostly empty after it (${nurseryFill().toFixed(2)})`);
      assert.equal(s.stats.scavenges, 1);
    } finally {
      obs.disconnect();
    }
  });

  it('checks a moment after a call ended, and leaves an emptier nursery than the threshold alone', async () => {
    const s = new IdleScavenger({ busy: () => false, afterCallMs: 20, threshold: 2 });
    s.callEnded();
    await sleep(80);
    assert.equal(s.stats.checks, 1, 'one check after the call');
    assert.equal(s.stats.scavenges, 0, 'a nursery under the threshold is left alone');
    s.stop();
  });

  describe('the old generation', () => {
    const MB = 1024 * 1024;
    /** major GC entries (perf_hooks) while fn runs and a moment after */
    async function majorsDuring(fn: () => void): Promise<number> {
      let n = 0;
      const obs = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (((e as { detail?: { kind?: number } }).detail?.kind ?? 0) & constants.NODE_PERFORMANCE_GC_MAJOR) n++;
      });
      obs.observe({ entryTypes: ['gc'] });
      try {
        fn();
        await sleep(50);
        return n;
      } finally {
        obs.disconnect();
      }
    }

    /** Objects held until the old generation is `bytes` over `from` (arrays this long are allocated there; V8 may collect meanwhile). */
    function grow(from: number, bytes: number): unknown[] {
      const held: unknown[] = [];
      while (heapNow().old - from < bytes && held.length < 200) held.push(Array.from({ length: 100_000 }, (_, i) => ({ i })));
      assert.ok(heapNow().old - from >= bytes, 'the old generation grew');
      return held;
    }

    it('gets a major GC when idle once it grew by majorGrowthBytes, never while busy, and not again without new growth', async () => {
      let busy = false;
      // threshold 2: no scavenge gets in the way of what is counted
      const s = new IdleScavenger({ busy: () => busy, threshold: 2, majorGrowthBytes: 2 * MB });
      assert.equal(s.check(), false, 'the first idle check only notes the size');
      const held = grow(heapNow().old, 3 * MB);
      busy = true;
      assert.equal(s.check(), false, 'busy: nothing done');
      assert.equal(s.stats.majors, 0);
      busy = false;
      assert.ok((await majorsDuring(() => assert.equal(s.check(), true, 'idle and grown: collected'))) >= 1, 'a major GC entry');
      assert.equal(s.stats.majors, 1);
      assert.equal(s.check(), false, 'what it kept is the new base: no second major GC without new growth');
      assert.equal(s.stats.majors, 1);
      assert.ok(held.length > 0);
    });

    it('never gets a major GC with majorGrowthBytes 0 (HELPPOINT_IDLE_MAJOR_GC=off)', async () => {
      const s = new IdleScavenger({ busy: () => false, threshold: 2, majorGrowthBytes: 0 });
      s.check();
      const held = grow(heapNow().old, 3 * MB);
      assert.equal(s.check(), false);
      assert.equal(s.stats.majors, 0);
      assert.ok(held.length > 0);
    });
  });
});
