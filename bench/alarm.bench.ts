// alarm: the figures of issue 10. Each part lives in its own function so the
// alarm controller's figures (alarm_resume_ms, resend_after_drop_ms) and the
// journal's can be merged without touching each other.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { EventJournal } from '../src/store/event-journal.js';
import { tmpDir } from '../test/helpers/tmp.js';
import { percentile } from './stats.js';
import type { Report } from './run.js';

/**
 * event_record_p99_us: recording one event (the synchronous part on the main
 * thread: serialise, keep, queue for the next batch) with 100,000 events in
 * the journal, all waiting for the hub (the outbox is full, so each record
 * also drops the oldest ordinary event). The batched write and fsync run in
 * libuv's pool; what they still cost the main thread shows in the event-loop
 * figures next to it.
 */
async function journalFigures(report: Report): Promise<void> {
  const FILL = 100_000;
  const MEASURE = 20_000;
  const dir = path.join(tmpDir('hp-bench-journal-'), 'data');
  let j = new EventJournal(dir, 'bench').open();
  const payload = (i: number) => ({ button: 'emergency', edgeNs: BigInt(i) * 1000n, at: new Date().toISOString(), note: 'x'.repeat(120) });
  for (let i = 0; i < FILL; i++) {
    j.record(i % 50 === 0 ? 'alarm.state' : 'button.press', payload(i));
    if (i % 1000 === 999) await j.flushed();
  }
  await j.close();
  const t0 = performance.now();
  j = new EventJournal(dir, 'bench').open();
  const openMs = performance.now() - t0;
  if (j.pendingCount() !== FILL) throw new Error(`reopened with ${j.pendingCount()} pending`);

  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const recordUs: number[] = [];
  const durableMs: number[] = [];
  for (let i = 0; i < MEASURE; i++) {
    const data = payload(i);
    const a = process.hrtime.bigint();
    j.record('button.press', data);
    recordUs.push(Number(process.hrtime.bigint() - a) / 1000);
    if (i % 20 === 19) {
      const at = performance.now();
      void j.flushed().then(() => durableMs.push(performance.now() - at));
      await new Promise((r) => setImmediate(r));
    }
  }
  await j.flushed();
  h.disable();
  const loopMaxMs = h.max / 1e6;
  h.reset();
  h.enable();
  const c0 = performance.now();
  await j.compactNow();
  const compactMs = performance.now() - c0;
  h.disable();
  await j.close();

  const n = `${FILL} events waiting in the journal (outbox full), ${MEASURE} records`;
  report('event_record_p99_us', percentile(recordUs, 99), 'us', `${n}; synchronous part of record(); median ${percentile(recordUs, 50).toFixed(1)} us`);
  report('event_durable_p99_ms', percentile(durableMs, 99), 'ms', `record -> written and fdatasync'd (batched), ${durableMs.length} batches of 20; median ${percentile(durableMs, 50).toFixed(2)} ms`);
  report('event_record_loop_delay_max_ms', loopMaxMs, 'ms', 'largest event-loop delay while recording (batch writes and their callbacks included)');
  report('journal_compact_loop_delay_max_ms', h.max / 1e6, 'ms', `largest event-loop delay during a compaction of ${FILL} events (took ${compactMs.toFixed(0)} ms in all)`);
  report('journal_open_ms', openMs, 'ms', `reading a journal of ${FILL} waiting events at start-up (synchronous)`);
}

export async function run(report: Report): Promise<void> {
  await journalFigures(report);
}
