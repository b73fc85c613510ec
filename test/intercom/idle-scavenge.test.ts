// The idle scavenge (src/intercom/idle-scavenge.ts): the young generation is
// emptied while the kiosk is idle, never while a call is active or being set up.
import { strict as assert } from 'node:assert';
import { PerformanceObserver } from 'node:perf_hooks';
import { IdleScavenger, nurseryFill } from '../../src/intercom/idle-scavenge.js';
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
});
