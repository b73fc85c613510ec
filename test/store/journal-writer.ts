// Child process for the SIGKILL test: records events as fast as it can into a
// journal with small compaction thresholds, acknowledges the oldest ones now
// and then, and tells the parent (IPC) what is durable: the highest seq whose
// flush completed and the ids whose acknowledgement is on disk.
import { EventJournal } from '../../src/store/event-journal.js';

// mocha loads this file when a whole folder is run: do nothing unless forked by the test.
if (process.send) await main(process.argv[2]!);

async function main(dir: string): Promise<never> {
  const j = new EventJournal(dir, 'k', { logMax: 1_000_000, compactMinLines: 400 }).open();
  process.send!({ boot: j.boot });
  let i = 0;
  for (;;) {
    for (let k = 0; k < 20; k++) j.record(k % 7 === 0 ? 'alarm.state' : 'test.n', { i: i++, pad: 'x'.repeat(200) });
    const ev = j.record('test.n', { i: i++ });
    let acked: string[] = [];
    if (i % 100 < 21) acked = j.pending(30).map((e) => e.id);
    // Told before the acknowledgement may reach the disk, and written to the IPC pipe before it starts: process.send
    // only queues, and a kill right after the acknowledgement would lose a message still queued (the parent would
    // then see events leave the outbox that nobody acknowledged: a failure of the test, not of the journal).
    if (acked.length) await new Promise<void>((r) => process.send!({ issued: acked }, undefined, {}, () => r()));
    const ackDone = acked.length ? j.acknowledge(acked) : Promise.resolve(true);
    const [ok, ackOk] = await Promise.all([j.flushed(), ackDone]);
    if (ok && ackOk) process.send!({ seq: ev.seq, acked });
    await new Promise((r) => setImmediate(r));
  }
}
