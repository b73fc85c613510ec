// Migration 009 (command_pending) on a database that already holds commands:
// its backfill must leave exactly the kiosks that have not answered as
// pending, so answers arriving after the upgrade count once (a kiosk that had
// answered before does not count again, one that had not still counts), and
// the stored progress of the older commands is what it was.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import pino from 'pino';
import type { Db } from '../../src/hub/storage/db.js';
import { migrate } from '../../src/hub/storage/migrate.js';
import { openStorage } from '../../src/hub/storage/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { engines } from './harness.js';

const log = pino({ level: 'silent' });

async function openRaw(url: string | undefined, dataDir: string): Promise<Db> {
  // The same folder openStorage uses for PGlite, opened without the ready-made template (which holds every migration).
  return url ? (await import('../../src/hub/storage/postgres.js')).openPostgres(url, log) : (await import('../../src/hub/storage/pglite.js')).openPglite(path.join(dataDir, 'pglite'));
}

for (const engine of engines()) {
  describe(`migration 009 backfills command_pending (${engine.name})`, function () {
    this.timeout(60_000);

    it('keeps the kiosks that have not answered pending, and answers after the upgrade count once', async () => {
      const url = await engine.fresh();
      const dataDir = tmpDir('hp-migr009-');
      const raw = await openRaw(url, dataDir);
      try {
        const applied = await migrate(raw, { until: '008_config_pending.sql' });
        assert.ok(applied.includes('008_config_pending.sql') && !applied.some((f) => f >= '009'), `applied ${applied.join(', ')}`);
        const add = (id: string, kiosks: string[]) => raw.query("insert into commands (id, command, args, created_by, role, kiosks) values ($1, 'pa.play', '{}', 'test', 'dispatcher', $2)", [id, kiosks]);
        await add('c1', ['k1', 'k2', 'k3']);
        await add('c2', ['k4']);
        await add('c3', []);
        // Answers stored by the version before: k1 answered c1 (twice: the first counts), k9 answered without being sent it, c2 is done.
        await raw.query("select command_answers_add('c1', array['k1','k9'], array[true,true], array[null,null]::text[])");
        await raw.query("select command_answers_add('c1', array['k1'], array[false], array['late repeat'])");
        await raw.query("select command_answers_add('c2', array['k4'], array[false], array['busy'])");
        const before = await raw.query<{ id: string; answered_ok: number; answered_failed: number }>('select id, answered_ok, answered_failed from commands order by id');
        assert.deepEqual(before.map((r) => [r.id, r.answered_ok, r.answered_failed]), [['c1', 1, 0], ['c2', 0, 1], ['c3', 0, 0]]);

        assert.ok((await migrate(raw)).includes('009_command_pending.sql'));
        const pending = await raw.query<{ command_id: string; kiosk: string }>('select command_id, kiosk from command_pending order by command_id, kiosk');
        assert.deepEqual(pending.map((r) => `${r.command_id}/${r.kiosk}`), ['c1/k2', 'c1/k3']);
        const after = await raw.query<{ id: string; answered_ok: number; answered_failed: number }>('select id, answered_ok, answered_failed from commands order by id');
        assert.deepEqual(after, before, 'the upgrade changes no stored progress');
      } finally {
        await raw.close();
      }

      // The upgraded database through the hub's storage: k1 again does not count, k2 and k3 do, once each.
      const storage = await openStorage({ url, dataDir, log });
      try {
        await storage.migrate();
        await storage.db.query("select command_answers_add('c1', array['k1','k2'], array[true,false], array[null,'no audio']::text[])");
        await storage.db.query("select command_answers_add('c1', array['k3','k2'], array[true,true], array[null,null]::text[])");
        const c1 = (await storage.getCommand('c1'))!;
        assert.deepEqual(
          Object.fromEntries(Object.entries(c1.results).map(([k, r]) => [k, r ? r.ok : null])),
          { k1: true, k2: false, k3: true },
          'each kiosk by its first answer',
        );
        const [row] = await storage.db.query<{ answered_ok: number; answered_failed: number }>("select answered_ok, answered_failed from commands where id = 'c1'");
        assert.deepEqual(row, { answered_ok: 2, answered_failed: 1 });
        assert.equal((await storage.db.query("select 1 from command_pending where command_id = 'c1'")).length, 0);
      } finally {
        await storage.close();
      }
    });
  });
}
