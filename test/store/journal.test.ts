// The event journal: appends survive SIGKILL and power-cut damage, the outbox
// stays in order and at least once, a full outbox drops ordinary events before
// alarm records and says so, and a disk that refuses writes costs a fault,
// never an exception or a lost event.
import { strict as assert } from 'node:assert';
import { appendFileSync, readdirSync, readFileSync, writeFileSync, mkdirSync, statSync, rmSync } from 'node:fs';
import { execFileSync, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventJournal, readJournal, type JournalProblems } from '../../src/store/event-journal.js';
import { KioskStore } from '../../src/store/kiosk-store.js';
import { tmpDir, sleep, until } from '../helpers/tmp.js';

const writer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'journal-writer.ts');
const segFiles = (dir: string) => readdirSync(path.join(dir, 'journal')).filter((f) => f.startsWith('seg-'));
const lastSeg = (dir: string) => path.join(dir, 'journal', segFiles(dir).sort().at(-1)!);

describe('store: event journal', () => {
  it('keeps events, the outbox and acknowledgements across a reopen, with a new boot number', async () => {
    const dir = tmpDir('hp-journal-');
    const a = new EventJournal(dir, 'k').open();
    const ids = Array.from({ length: 10 }, (_, i) => a.record('test.n', { i, big: 10n }).id);
    a.record('local.only', {}, { outbox: false });
    assert.equal(await a.acknowledge(ids.slice(0, 4)), true);
    await a.close();
    const b = new EventJournal(dir, 'k').open();
    assert.equal(b.boot, a.boot + 1);
    assert.deepEqual(b.pending().map((e) => e.id), ids.slice(4));
    assert.deepEqual(b.pending()[0]!.data, { i: 4, big: '10' }, 'bigint stored as a string');
    assert.equal(b.recent().length, 11);
    const next = b.record('test.n', {});
    assert.ok(!ids.includes(next.id), 'ids never repeat across boots');
    await b.close();
  });

  it('drops a torn last line, keeps every earlier record and appends after it cleanly', async () => {
    const dir = tmpDir('hp-journal-');
    const a = new EventJournal(dir, 'k').open();
    const ids = Array.from({ length: 5 }, (_, i) => a.record('test.n', { i }).id);
    await a.close();
    // a power cut in the middle of an append: half a line, no newline
    appendFileSync(lastSeg(dir), '{"e":{"id":"k:1:99","seq":99,"at":"2026-01-01T00:00:00.000Z","type":"test.n","da');
    const b = new EventJournal(dir, 'k').open();
    assert.equal(b.recovery.tornTail, true);
    assert.deepEqual(b.pending().map((e) => e.id), ids);
    const more = b.record('test.n', { after: true });
    await b.close();
    assert.doesNotMatch(readFileSync(lastSeg(dir), 'utf8'), /"da\{|"da\n/, 'the torn line was cut off');
    const c = readJournal(dir);
    assert.deepEqual(c.pending.map((e) => e.id), [...ids, more.id]);
  });

  it('skips a damaged line in the middle and keeps the lines after it', async () => {
    const dir = tmpDir('hp-journal-');
    const a = new EventJournal(dir, 'k').open();
    a.record('test.n', { i: 1 });
    await a.flushed();
    appendFileSync(lastSeg(dir), '\u0000\u0000garbage\n');
    a.record('test.n', { i: 2 });
    await a.close();
    const b = new EventJournal(dir, 'k').open();
    assert.equal(b.recovery.badLines, 1);
    assert.deepEqual(b.pending().map((e) => e.data), [{ i: 1 }, { i: 2 }]);
    await b.close();
  });

  it('compacts: old segments go, the state stays, and appends do not re-serialise the log', async () => {
    const dir = tmpDir('hp-journal-');
    const a = new EventJournal(dir, 'k', { logMax: 50, compactMinLines: 100 }).open();
    const ids: string[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 30; i++) ids.push(a.record('test.n', { round, i }).id);
      await a.acknowledge(a.pending(20).map((e) => e.id));
      await a.flushed();
    }
    await until(async () => (await a.flushed()) && segFiles(dir).length === 1, 5000, 'compaction to one segment');
    const pending = a.pending().map((e) => e.id);
    await a.close();
    const snaps = readdirSync(path.join(dir, 'journal')).filter((f) => f.startsWith('snap-'));
    assert.equal(snaps.length, 1, `one snapshot: ${readdirSync(path.join(dir, 'journal'))}`);
    const b = new EventJournal(dir, 'k', { logMax: 50 }).open();
    assert.deepEqual(b.pending().map((e) => e.id), pending);
    assert.equal(pending.length, 20 * 30 - 20 * 20);
    assert.deepEqual(pending, ids.filter((id) => pending.includes(id)), 'in record order');
    assert.equal(b.recent().length, 50);
    await b.close();
  });

  it('a full outbox drops the oldest ordinary events first, alarm records last, and reports it until delivered', async () => {
    const dir = tmpDir('hp-journal-');
    const problems: JournalProblems[] = [];
    const j = new EventJournal(dir, 'k', { outboxMax: 10 }).open();
    j.onProblems((p) => problems.push(p));
    const alarms = [
      j.record('alarm.state', { state: 'raised' }).id,
      j.record('call.state', { kind: 'emergency', state: 'calling' }).id,
    ];
    const ordinary = Array.from({ length: 8 }, (_, i) => j.record('button.press', { i }).id);
    assert.equal(problems.at(-1)!.dropped, undefined, 'nothing dropped at exactly full');
    const info = j.record('call.state', { kind: 'information', state: 'calling' }).id; // ordinary too
    assert.deepEqual(j.pending().map((e) => e.id), [...alarms, ...ordinary.slice(1), info], 'oldest ordinary event dropped, alarms kept');
    assert.equal(problems.at(-1)!.dropped?.count, 1);
    for (let i = 0; i < 12; i++) j.record('alarm.state', { state: 'calling', attempt: i });
    const left = j.pending();
    assert.equal(left.length, 10);
    assert.ok(left.every((e) => e.type === 'alarm.state'), 'with only alarm records left, the oldest of them go');
    assert.equal(problems.at(-1)!.dropped!.alarm > 0, true);
    await j.close();
    const k = new EventJournal(dir, 'k', { outboxMax: 10 }).open();
    assert.deepEqual(k.pending().map((e) => e.id), left.map((e) => e.id), 'drops are durable');
    await k.close();
    // delivery empties the outbox: the loss was reported and is over
    const dir2 = tmpDir('hp-journal-');
    const m = new EventJournal(dir2, 'k', { outboxMax: 2 }).open();
    const seen: JournalProblems[] = [];
    m.onProblems((p) => seen.push(p));
    for (let i = 0; i < 3; i++) m.record('n', { i });
    assert.ok(seen.at(-1)!.dropped);
    await m.acknowledge(m.pending().map((e) => e.id));
    assert.equal(seen.at(-1)!.dropped, undefined);
    await m.close();
  });

  it('imports the events.json / outbox.json of earlier firmware', async () => {
    const dir = tmpDir('hp-journal-');
    const ev = (seq: number) => ({ id: `k:3:${seq}`, seq, at: new Date().toISOString(), type: 'test.n', data: { seq } });
    writeFileSync(path.join(dir, 'events.json'), JSON.stringify({ boot: 3, seq: 3, events: [ev(1), ev(2), ev(3)] }));
    writeFileSync(path.join(dir, 'outbox.json'), JSON.stringify({ items: [ev(2), ev(3)] }));
    const s = new KioskStore(dir, 'k').open();
    assert.equal(s.journal.boot, 4);
    assert.deepEqual(s.pending().map((e) => e.id), ['k:3:2', 'k:3:3']);
    await s.close();
  });

  it('a data folder that cannot be written: records in memory, reports it, never throws', async () => {
    const base = tmpDir('hp-journal-');
    writeFileSync(path.join(base, 'file'), 'not a folder');
    const dir = path.join(base, 'file', 'data'); // ENOTDIR, even for root
    const s = new KioskStore(dir, 'k').open();
    const faults: (string | undefined)[] = [];
    s.onFault((d) => faults.push(d));
    assert.match(faults.at(-1) ?? '', /event journal not written/);
    const e = s.record('call.requested', { kind: 'emergency' });
    assert.equal(s.pending()[0]!.id, e.id);
    assert.equal(await s.flushed(), false);
    s.recordSync('process.crash', { message: 'x' }); // the guard's path: no throw either
    assert.equal(await s.saveConfig({ id: 'k' } as never), false);
    assert.match(faults.at(-1) ?? '', /config\.json not written/);
    assert.equal(await s.acknowledge([e.id]), false);
    assert.equal(s.pendingCount(), 1);
    await s.close();
  });

  describe('on a disk that fills up', function () {
    this.timeout(30_000);
    let mnt: string;
    before(() => {
      mnt = tmpDir('hp-full-');
      // a small tmpfs: a real ENOSPC from the kernel (the tests run as root, as CI does)
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    });
    after(() => {
      execFileSync('umount', ['-l', mnt]);
    });

    it('raises the fault, keeps recording in memory and writes everything once space is back', async () => {
      const dir = path.join(mnt, 'data');
      mkdirSync(dir);
      const s = new KioskStore(dir, 'k', undefined, { retryMs: 200 }).open();
      const faults: (string | undefined)[] = [];
      s.onFault((d) => faults.push(d));
      assert.equal(faults.at(-1), undefined);
      const filler = path.join(mnt, 'filler');
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k', 'count=1000'], { stdio: 'ignore' });
      } catch {
        /* stops at ENOSPC, as intended */
      }
      const ids: string[] = [];
      for (let i = 0; i < 400; i++) ids.push(s.record('test.n', { i, pad: 'y'.repeat(300) }).id);
      await until(() => /event journal not written.*(ENOSPC|no space)/i.test(faults.at(-1) ?? ''), 5000, 'store fault');
      for (let i = 0; i < 10; i++) ids.push(s.record('alarm.state', { i }).id); // still accepted, in memory
      assert.deepEqual(s.pending().map((e) => e.id), ids);
      rmSync(filler);
      await until(() => faults.at(-1) === undefined, 5000, 'fault cleared once writes work');
      await s.close();
      assert.deepEqual(readJournal(dir).pending.map((e) => e.id), ids, 'nothing recorded during the outage was lost');
    });
  });

  it('SIGKILL during appends, acknowledgements and compactions: nothing durable is lost, nothing repeats, order kept', async function () {
    this.timeout(240_000);
    const dir = tmpDir('hp-journal-kill-');
    const durable: string[] = []; // ids of events whose flush completed, in record order
    const acked = new Set<string>(); // acknowledgements that reached the disk
    const issued = new Set<string>(); // acknowledgements asked for (they may have reached the disk)
    for (let run = 0; run < 15; run++) {
      const child = fork(writer, [dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let boot = 0;
      let lastSeq = 0;
      child.on('message', (m: { boot?: number; seq?: number; acked?: string[]; issued?: string[] }) => {
        if (m.boot) boot = m.boot;
        m.issued?.forEach((id) => issued.add(id));
        if (m.seq) {
          lastSeq = m.seq;
          m.acked?.forEach((id) => acked.add(id));
        }
      });
      await until(() => lastSeq > 0, 20_000, 'writer running');
      await sleep(50 + Math.random() * 400);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      for (let s = 1; s <= lastSeq; s++) durable.push(`k:${boot}:${s}`);
      const j = readJournal(dir);
      const ids = j.events.map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, `run ${run}: an event read twice`);
      const have = new Set(ids);
      const missing = durable.filter((id) => !have.has(id));
      assert.deepEqual(missing.slice(0, 5), [], `run ${run}: ${missing.length} durable events lost`);
      const pending = new Set(j.pending.map((e) => e.id));
      const lostFromOutbox = durable.filter((id) => !issued.has(id) && !pending.has(id));
      assert.deepEqual(lostFromOutbox.slice(0, 5), [], `run ${run}: unacknowledged events left the outbox`);
      const ackLost = [...acked].filter((id) => pending.has(id));
      assert.deepEqual(ackLost.slice(0, 5), [], `run ${run}: durable acknowledgements forgotten`);
      // record order: by boot, then seq
      const key = (id: string) => id.split(':').slice(1).map(Number) as [number, number];
      const sorted = [...j.pending].sort((a, b) => key(a.id)[0] - key(b.id)[0] || key(a.id)[1] - key(b.id)[1]);
      assert.deepEqual(j.pending.map((e) => e.id), sorted.map((e) => e.id), `run ${run}: outbox out of order`);
    }
    assert.ok(durable.length > 1000, `only ${durable.length} events written`);
    const sizes = readdirSync(path.join(dir, 'journal')).map((f) => statSync(path.join(dir, 'journal', f)).size);
    assert.ok(sizes.length <= 4, `compaction keeps the folder small: ${sizes.length} files`);
  });
});
