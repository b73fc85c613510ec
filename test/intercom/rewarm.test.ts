// The call set-up path is warmed again after a major GC (src/intercom/rewarm.ts):
// a real major collection is seen, the re-warm waits while the kiosk is busy
// (a call, an open alarm), runs at most once per interval, and not after stop.
import { strict as assert } from 'node:assert';
import v8 from 'node:v8';
import vm from 'node:vm';
import { GcRewarm } from '../../src/intercom/rewarm.js';
import { loopbackCall } from '../../src/intercom/warm-up.js';
import { codecList } from '../../src/intercom/media/index.js';
import { sleep, until } from '../helpers/tmp.js';

/** A major GC now (V8's gc() reached as the warm-up's scavengeNow() reaches it). */
function majorGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

describe('call set-up path warmed again after a major GC', () => {
  it('a real major GC is seen and the in-process call runs again once idle', async () => {
    let runs = 0;
    const r = new GcRewarm({ run: async () => (runs++, loopbackCall(codecList(['PCMU']))), busy: () => false, delayMs: 50 });
    r.start();
    try {
      majorGc();
      await until(() => r.stats.runs === 1, 5000, 're-warm after the major GC');
      assert.ok(r.stats.majorGcs >= 1);
      assert.equal(runs, 1);
      assert.equal(r.stats.failed, 0);
    } finally {
      r.stop();
    }
  });

  it('waits while busy, then runs; at most once per interval; nothing after stop', async () => {
    let busy = true;
    let runs = 0;
    const r = new GcRewarm({ run: async () => void runs++, busy: () => busy, delayMs: 30, minIntervalMs: 400 });
    r.due();
    await sleep(150);
    assert.equal(runs, 0, 'not while a call or an alarm is on');
    busy = false;
    await until(() => runs === 1, 2000, 'run once idle');
    const t0 = performance.now();
    r.due();
    await until(() => runs === 2, 2000, 'the next one');
    assert.ok(performance.now() - t0 >= 300, 'not sooner than the interval after the last');
    r.due();
    r.stop();
    await sleep(500);
    assert.equal(runs, 2, 'nothing after stop');
  });
});
