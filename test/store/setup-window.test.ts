// The set-up window of an alarm call (src/core/setup-window.ts): work deferred
// while it is open runs once it closes (or once its bound passes), and the
// event journal's records that wait for it are all written afterwards, in
// order, none lost; a dying process's synchronous write and close() do not wait.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SetupWindow } from '../../src/core/setup-window.js';
import { EventJournal, readJournal } from '../../src/store/event-journal.js';
import { tmpDir, sleep, until } from '../helpers/tmp.js';

const onDisk = (dir: string) =>
  readdirSync(path.join(dir, 'journal'))
    .filter((f) => f.startsWith('seg-'))
    .map((f) => readFileSync(path.join(dir, 'journal', f), 'utf8'))
    .join('');

describe('setup window: deferred work during an alarm call set-up', () => {
  it('runs deferred work at once without a window, after the window closes otherwise, and only after the last of two', async () => {
    const w = new SetupWindow(10_000);
    const ran: string[] = [];
    w.afterSetup(() => ran.push('now'));
    assert.deepEqual(ran, ['now']);
    const end1 = w.begin();
    const end2 = w.begin();
    w.afterSetup(() => ran.push('a'));
    w.afterSetup(() => ran.push('b'));
    await sleep(20);
    assert.deepEqual(ran, ['now'], 'nothing runs while a window is open');
    end1();
    end1(); // closing twice counts once
    await sleep(20);
    assert.deepEqual(ran, ['now'], 'the second window is still open');
    end2();
    await until(() => ran.length === 3, 1000);
    assert.deepEqual(ran, ['now', 'a', 'b'], 'in the order deferred');
    assert.equal(w.active, false);
  });

  it('drain() runs what waits at once, in order, with the window still open (a stop or a crash); a failing task does not stop the rest', async () => {
    const w = new SetupWindow(10_000);
    const ran: string[] = [];
    const end = w.begin();
    w.afterSetup(() => ran.push('log line'));
    w.afterSetup(() => {
      throw new Error('broken');
    });
    w.afterSetup(() => ran.push('journal batch'));
    w.drain();
    assert.deepEqual(ran, ['log line', 'journal batch']);
    assert.equal(w.active, true);
    end();
    await sleep(20);
    assert.deepEqual(ran, ['log line', 'journal batch'], 'nothing runs twice');
  });

  it('closes itself after its bound when nobody closes it', async () => {
    const w = new SetupWindow(50);
    const t0 = Date.now();
    w.begin();
    let at = 0;
    w.afterSetup(() => (at = Date.now()));
    await until(() => at > 0, 2000);
    assert.ok(at - t0 >= 45, `ran after the bound (${at - t0} ms)`);
    assert.equal(w.stats.timedOut, 1);
  });

  it('the event journal writes nothing while a window is open, then every record in order; flushed() waits for it', async () => {
    const dir = tmpDir('hp-setupwin-');
    const w = new SetupWindow(10_000);
    const j = new EventJournal(dir, 'k').open();
    j.deferDuring(w);
    const before = j.record('test.n', { i: 0 }).id;
    assert.equal(await j.flushed(), true);
    const end = w.begin();
    const ids = Array.from({ length: 5 }, (_, i) => j.record('test.n', { i: i + 1 }).id);
    let flushed = false;
    void j.flushed().then(() => (flushed = true));
    await sleep(50);
    const text = onDisk(dir);
    assert.ok(text.includes(`"${before}"`), 'the record before the window is on disk');
    for (const id of ids) assert.ok(!text.includes(`"${id}"`), `${id} waits for the window`);
    assert.equal(flushed, false, 'flushed() waits for the deferred batch');
    assert.deepEqual(j.pending().map((e) => e.id), [before, ...ids], 'the outbox has them at once');
    end();
    await until(() => flushed, 2000);
    const after = readJournal(dir);
    assert.deepEqual(after.pending.map((e) => e.id), [before, ...ids], 'all on disk, in order');
    await j.close();
  });

  it('a batch recorded just before the window opens (the press\'s own event) waits for it too, and close() writes it without waiting', async () => {
    const dir = tmpDir('hp-setupwin-');
    const w = new SetupWindow(10_000);
    const j = new EventJournal(dir, 'k').open();
    j.deferDuring(w);
    const press = j.record('button.press', { button: 'emergency' }).id; // its drain is one turn away
    w.begin(); // opened in the same turn, as the intercom does on the press
    await sleep(30);
    assert.ok(!onDisk(dir).includes(`"${press}"`), 'deferred');
    const t0 = Date.now();
    // close(): the kiosk stopping during a set-up still writes everything (bounded by the window at worst)
    const last = j.recordSync('kiosk.stopping', {}).id;
    assert.ok(onDisk(dir).includes(`"${last}"`) && onDisk(dir).includes(`"${press}"`), 'recordSync writes everything at once');
    await j.close();
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(readJournal(dir).pending.map((e) => e.id), [press, last]);
  });

  it('a window that opens while a batch is being written: the batch completes, the rest waits, nothing repeats', async () => {
    const dir = tmpDir('hp-setupwin-');
    const w = new SetupWindow(10_000);
    const j = new EventJournal(dir, 'k').open();
    j.deferDuring(w);
    const first = Array.from({ length: 200 }, (_, i) => j.record('test.n', { i, pad: 'x'.repeat(200) }).id);
    await new Promise((r) => setImmediate(r)); // the drain has started writing
    const end = w.begin();
    const second = Array.from({ length: 3 }, (_, i) => j.record('test.m', { i }).id);
    await sleep(50);
    const text = onDisk(dir);
    for (const id of second) assert.ok(!text.includes(`"${id}"`), `${id} waits for the window`);
    end();
    assert.equal(await j.flushed(), true);
    const ids = readJournal(dir).pending.map((e) => e.id);
    assert.deepEqual(ids, [...first, ...second]);
    await j.close();
  });
});
