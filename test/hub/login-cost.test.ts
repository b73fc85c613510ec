// The log-in's cost parts: password hashes wait in one FIFO queue with a
// bounded number running at once, log-in rate-limit counters asked for
// together are written by one statement (still counted as if one after the
// other), and a session with its audit record is one write.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { hashPassword, hashQueue, setHashConcurrency, verifyPassword } from '../../src/hub/passwords.js';
import { sqlRateLimitStore } from '../../src/hub/rate-limit-store.js';
import { openStorage, type HubStorage } from '../../src/hub/storage/index.js';
import { tmpDir } from '../helpers/tmp.js';

const cheap = { N: 1024, r: 8, p: 1 };

describe('log-in cost: hash queue, batched rate-limit counters, session write', function () {
  this.timeout(60_000);

  describe('hash queue', () => {
    afterEach(() => setHashConcurrency(undefined));

    it('runs at most the configured number of hashes at once', async () => {
      setHashConcurrency(2);
      const finished: number[] = [];
      let most = 0;
      const jobs = Array.from({ length: 7 }, (_, i) =>
        hashPassword(`pw${i}`, cheap).then((h) => {
          finished.push(i);
          return h;
        }),
      );
      const watch = setInterval(() => (most = Math.max(most, hashQueue().running)), 0);
      assert.deepEqual(hashQueue(), { slots: 2, running: 2, waiting: 5 }, 'two started at once, five wait');
      const hashes = await Promise.all(jobs);
      clearInterval(watch);
      assert.ok(most <= 2, `at most 2 at once, saw ${most}`);
      assert.deepEqual(hashQueue(), { slots: 2, running: 0, waiting: 0 });
      // a queued hash is the same hash: each verifies its own password only
      assert.equal(await verifyPassword('pw3', hashes[3]!), true);
      assert.equal(await verifyPassword('pw4', hashes[3]!), false);
      assert.equal(finished.length, 7);
    });

    it('starts waiting hashes in arrival order (one slot: they finish in that order)', async () => {
      // With two slots the finishing order also depends on how the threads are scheduled, so the
      // order is checked with one: each hash starts only when the one before it is done.
      setHashConcurrency(1);
      const finished: number[] = [];
      await Promise.all(Array.from({ length: 6 }, (_, i) => hashPassword(`pw${i}`, cheap).then(() => void finished.push(i))));
      assert.deepEqual(finished, [0, 1, 2, 3, 4, 5]);
    });

    it('a failed hash gives its slot back', async () => {
      setHashConcurrency(1);
      await assert.rejects(hashPassword('x', { N: 1000, r: 8, p: 1 })); // N not a power of two
      assert.deepEqual(hashQueue(), { slots: 1, running: 0, waiting: 0 });
      assert.match(await hashPassword('y', cheap), /^scrypt\$N=1024/);
    });

    it('more slots set later start waiting hashes at once', async () => {
      setHashConcurrency(1);
      const jobs = Array.from({ length: 4 }, (_, i) => hashPassword(`p${i}`, cheap));
      assert.equal(hashQueue().running, 1);
      setHashConcurrency(3);
      assert.deepEqual(hashQueue(), { slots: 3, running: 3, waiting: 1 });
      await Promise.all(jobs);
      assert.equal(hashQueue().running, 0);
    });
  });

  describe('storage', () => {
    let storage: HubStorage;
    before(async () => {
      storage = await openStorage({ dataDir: tmpDir('hp-login-cost-'), log: pino({ level: 'silent' }) });
    });
    after(async () => storage?.close());

    it('counts increments asked for in one turn in one statement, each caller seeing its own count', async () => {
      const Store = sqlRateLimitStore(storage.db);
      const store = new Store();
      let statements = 0;
      const query = storage.db.query.bind(storage.db);
      const counted = { query: (t: string, p?: unknown[]) => (statements++, query(t, p)) } as unknown as typeof storage.db;
      const batched = new (sqlRateLimitStore(counted))();
      const incr = (s: { incr: InstanceType<typeof Store>['incr'] }, key: string, win = 60_000) =>
        new Promise<{ current: number; ttl: number }>((resolve, reject) => s.incr(key, (err, r) => (err ? reject(err) : resolve(r!)), win));
      const first = await Promise.all([incr(batched, 'addr:a'), incr(batched, 'user:u'), incr(batched, 'addr:a'), incr(batched, 'addr:a')]);
      assert.equal(statements, 1, 'one statement for the four');
      assert.deepEqual(first.map((r) => r.current), [1, 1, 2, 3]);
      assert.ok(first.every((r) => r.ttl > 55_000 && r.ttl <= 60_000), JSON.stringify(first));
      // later turns go on counting, in another statement; the plain store sees the same counts
      assert.deepEqual((await Promise.all([incr(batched, 'addr:a'), incr(store, 'user:u')])).map((r) => r.current), [4, 2]);
      // a window that has run out starts again at 1
      await new Promise((r) => setTimeout(r, 30));
      assert.deepEqual((await Promise.all([incr(store, 'addr:a', 20), incr(store, 'addr:a', 20)])).map((r) => r.current), [1, 2]);
    });

    it('writes a session and its audit record in one statement, both or neither', async () => {
      const s = { idSha256: 'a'.repeat(64), user: 'admin', role: 'admin' as const, csrf: 'c', address: '127.0.0.9', ttlS: 60 };
      await storage.createSession(s, { user: 'admin', role: 'admin', action: 'login', target: 'admin', result: 'ok', address: '127.0.0.9' });
      assert.equal((await storage.getSession(s.idSha256))?.user, 'admin');
      const audit = await storage.listAudit({ action: 'login' });
      assert.deepEqual(
        audit.map((a) => [a.user, a.action, a.result, a.address]),
        [['admin', 'login', 'ok', '127.0.0.9']],
      );
      // the same session id again: the insert fails and no second audit record is left
      await assert.rejects(storage.createSession(s, { user: 'admin', role: 'admin', action: 'login', target: 'admin', result: 'ok' }));
      assert.equal((await storage.listAudit({ action: 'login' })).length, 1);
    });
  });
});
