// A command's progress (GET /api/commands/:id/summary) comes from counters kept
// with its answers. They must say what the answers say: each kiosk's first
// answer counts once, repeated answers and answers from kiosks the command was
// not sent to do not count, and batches stored at the same time (several
// writes in flight, several instances on PostgreSQL) neither lose nor double
// an answer. Checked against the answers themselves (getCommand).
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { openStorage, type HubStorage } from '../../src/hub/storage/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { engines } from './harness.js';

type Answer = { id: string; kiosk: string; ok: boolean; error?: string };

for (const engine of engines()) {
  describe(`command progress counters (${engine.name})`, function () {
    this.timeout(60_000);
    let a: HubStorage;
    let b: HubStorage;
    before(async () => {
      const url = await engine.fresh();
      const dataDir = tmpDir('hp-cmdprog-');
      a = await openStorage({ url, dataDir, log: pino({ level: 'silent' }) });
      // On PostgreSQL a second connection pool on the same database stands for a second hub instance.
      b = url ? await openStorage({ url, dataDir, log: pino({ level: 'silent' }) }) : a;
    });
    after(async () => {
      if (b && b !== a) await b.close();
      await a?.close();
    });

    const create = (id: string, kiosks: string[]) => a.createCommand({ id, command: 'pa.play', args: {}, by: 'test', role: 'dispatcher', kiosks });
    /** The summary as the answers themselves give it. */
    const fromAnswers = async (id: string) => {
      const c = (await a.getCommand(id))!;
      const rs = Object.values(c.results);
      const ok = rs.filter((r) => r?.ok).length;
      const failed = rs.filter((r) => r && !r.ok).length;
      return { total: rs.length, pending: rs.length - ok - failed, ok, failed };
    };

    it('counts first answers of the kiosks sent to, once each', async () => {
      await create('c1', ['k1', 'k2', 'k3']);
      assert.deepEqual(await a.commandSummary('c1'), { total: 3, pending: 3, ok: 0, failed: 0 });
      await a.commandResults([
        { id: 'c1', kiosk: 'k1', ok: true },
        { id: 'c1', kiosk: 'k2', ok: false, error: 'busy' },
        { id: 'c1', kiosk: 'k1', ok: false, error: 'again' }, // a repeat in the same batch
        { id: 'c1', kiosk: 'k9', ok: true }, // not sent to k9
      ]);
      assert.deepEqual(await a.commandSummary('c1'), { total: 3, pending: 1, ok: 1, failed: 1 });
      await a.commandResults([
        { id: 'c1', kiosk: 'k2', ok: true }, // a repeat in a later batch: the first answer stays
        { id: 'c1', kiosk: 'k3', ok: true },
      ]);
      assert.deepEqual(await a.commandSummary('c1'), { total: 3, pending: 0, ok: 2, failed: 1 });
      assert.deepEqual(await a.commandSummary('c1'), await fromAnswers('c1'));
      assert.deepEqual((await a.getCommand('c1'))!.results.k2, { ok: false, error: 'busy' });
    });

    it('a batch for several commands, one of them unknown, counts each known one', async () => {
      await create('c2', ['k1', 'k2']);
      await create('c3', ['k2']);
      await a.commandResults([
        { id: 'c3', kiosk: 'k2', ok: false, error: 'no' },
        { id: 'c2', kiosk: 'k2', ok: true },
        { id: 'nope', kiosk: 'k1', ok: true },
      ]);
      assert.deepEqual(await a.commandSummary('c2'), { total: 2, pending: 1, ok: 1, failed: 0 });
      assert.deepEqual(await a.commandSummary('c3'), { total: 1, pending: 0, ok: 0, failed: 1 });
      assert.equal(await a.commandSummary('nope'), undefined);
      assert.deepEqual(await a.commandSummary('c2'), await fromAnswers('c2'));
    });

    it('a batch of one command is one statement, its own transaction (the row lock held for it and its commit only)', async () => {
      await create('c5', ['k1', 'k2']);
      const db = a.db as { query: HubStorage['db']['query']; transaction: HubStorage['db']['transaction'] };
      const seen: string[] = [];
      const { query, transaction } = db;
      db.query = ((text: string, params?: unknown[]) => (seen.push(text), query.call(a.db, text, params))) as typeof db.query;
      db.transaction = ((fn: Parameters<typeof transaction>[0]) => (seen.push('transaction'), transaction.call(a.db, fn))) as typeof db.transaction;
      try {
        await a.commandResults([
          { id: 'c5', kiosk: 'k1', ok: true },
          { id: 'c5', kiosk: 'k2', ok: false, error: 'busy' },
        ]);
        await a.commandResults([{ id: 'unknown', kiosk: 'k1', ok: true }]); // nothing stored, no error
      } finally {
        db.query = query;
        db.transaction = transaction;
      }
      assert.equal(seen.length, 2, seen.join('\n'));
      assert.ok(seen.every((t) => t.startsWith('select command_answers_add(')), seen.join('\n'));
      assert.deepEqual(await a.commandSummary('c5'), { total: 2, pending: 0, ok: 1, failed: 1 });
      assert.deepEqual(await a.commandSummary('c5'), await fromAnswers('c5'));
      assert.equal(await a.commandSummary('unknown'), undefined);
    });

    it('batches stored at once, with overlapping kiosks, from two instances: counts equal the answers', async () => {
      const kiosks = Array.from({ length: 400 }, (_, i) => `k${i}`);
      await create('c4', kiosks);
      // 24 batches of 60 random kiosks (some repeated, some foreign), half through each storage, all at once.
      let seed = 7;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const batches: Answer[][] = Array.from({ length: 24 }, () =>
        Array.from({ length: 60 }, () => {
          const i = Math.floor(rnd() * 440); // 400..439: not sent to
          return { id: 'c4', kiosk: `k${i}`, ok: rnd() < 0.8, ...(rnd() < 0.2 ? { error: 'x' } : {}) };
        }),
      );
      await Promise.all(batches.map((batch, i) => (i % 2 ? b : a).commandResults(batch)));
      const want = await fromAnswers('c4');
      assert.ok(want.ok + want.failed > 200, JSON.stringify(want));
      assert.deepEqual(await a.commandSummary('c4'), want);
      // Everything else answers: nothing pending, nothing counted twice.
      await a.commandResults(kiosks.map((kiosk) => ({ id: 'c4', kiosk, ok: true })));
      const all = await a.commandSummary('c4');
      assert.deepEqual(all, await fromAnswers('c4'));
      assert.equal(all!.pending, 0);
      assert.equal(all!.ok + all!.failed, 400);
    });
  });
}
