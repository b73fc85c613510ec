// The alarm journal's order and timing: an append on an idle journal issues its
// write() in the caller's turn (the intercom then builds the INVITE while the
// thread pool writes), and appends made back to back land in order.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AlarmJournal, type AlarmRecord } from '../../src/alarm/journal.js';

const rec = (alarmId: string, seq: number, state: AlarmRecord['state'] = 'calling'): AlarmRecord =>
  ({ alarmId, state, kind: 'emergency', source: 'button', raisedAt: '2026-12-01T00:00:00.000Z', at: '2026-12-01T00:00:00.000Z', seq }) as AlarmRecord;

describe('alarm journal: when its writes leave', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hp-journal-'));
  });

  it('an append on an idle journal issues its write() before returning to the caller', async () => {
    const j = new AlarmJournal(dir);
    j.load();
    await j.append([rec('a', 1, 'raised')]); // opens the file
    // FileHandle's prototype, from any handle: its write() is what the journal calls.
    const probe = await fs.open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const write = proto.write;
    let issued = 0;
    proto.write = function (this: unknown, ...a: unknown[]) {
      issued++;
      return write.apply(this, a);
    };
    try {
      const done = j.append([rec('a', 2)]);
      assert.equal(issued, 1, 'the write waited for a later turn');
      await done;
      // Behind a running append the next one waits its turn.
      const first = j.append([rec('a', 3)]);
      const second = j.append([rec('a', 4)]);
      assert.equal(issued, 2);
      await Promise.all([first, second]);
      assert.equal(issued, 3);
    } finally {
      proto.write = write;
      await j.close();
    }
  });

  it('appends made back to back land in the order made, and a reload finds the latest', async () => {
    const j = new AlarmJournal(dir);
    j.load();
    await Promise.all(Array.from({ length: 20 }, (_, i) => j.append([rec('b', i + 1)])));
    await j.close();
    const seqs = readFileSync(j.file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as AlarmRecord).seq);
    assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
    const again = new AlarmJournal(dir).load();
    assert.equal(again.open?.seq, 20);
  });
});
