// The hub's write-behind batcher (src/hub/batcher.ts): items queued while a
// write is in flight go together in the next one; add() queues an item
// without a promise (a fan-out's answers) and reports a failed write per item.
import { strict as assert } from 'node:assert';
import { Batcher } from '../../src/hub/batcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hub batcher', () => {
  it('add(): items arriving while a write is in flight coalesce into the next write', async () => {
    const writes: number[][] = [];
    let release!: () => void;
    const b = new Batcher<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await new Promise<void>((r) => (release = r));
    });
    const failed: Error[] = [];
    b.add(1, (e) => failed.push(e));
    await sleep(5); // the first write is in flight
    for (let i = 2; i <= 50; i++) b.add(i, (e) => failed.push(e));
    assert.equal(writes.length, 1);
    release();
    await b.drain();
    assert.deepEqual(writes, [[1], Array.from({ length: 49 }, (_, i) => i + 2)]);
    assert.deepEqual(failed, []);
  });

  it('add(): with split, a failed group is written item by item and only the bad item hears its error', async () => {
    const stored: number[] = [];
    const b = new Batcher<number>(
      async (items) => {
        if (items.includes(3)) throw new Error('bad item 3');
        stored.push(...items);
      },
      { split: true },
    );
    const failed: [number, string][] = [];
    for (let i = 1; i <= 5; i++) b.add(i, (e) => failed.push([i, e.message]));
    await b.drain();
    assert.deepEqual(stored.sort(), [1, 2, 4, 5]);
    assert.deepEqual(failed, [[3, 'bad item 3']]);
  });
});
