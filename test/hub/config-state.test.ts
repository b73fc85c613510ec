// "How many kiosks acknowledged their newest config version" (GET
// /api/config/status) counts a state kept on each kiosk's row (migration 006).
// It must say what the versions themselves say: checked after each step
// against the status of each kiosk's newest version that is not superseded.
// Likewise each kiosk's pending version kept on its row (migration 008),
// which acks and the senders of pending versions start from.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { MIGRATIONS_DIR, splitSql } from '../../src/hub/storage/migrate.js';
import { openStorage, type HubStorage } from '../../src/hub/storage/index.js';
import { ConfigComposer } from '../../src/hub/config-compose.js';
import { tmpDir } from '../helpers/tmp.js';
import { engines } from './harness.js';

for (const engine of engines()) {
  describe(`kiosk config state (${engine.name})`, function () {
    this.timeout(60_000);
    let s: HubStorage;
    before(async () => {
      s = await openStorage({ url: await engine.fresh(), dataDir: tmpDir('hp-cfgstate-'), log: pino({ level: 'silent' }) });
      await s.provisionKiosks(['a', 'b', 'c', 'd'].map((id) => ({ id, zone: id === 'd' ? 'other' : 'z', location: {}, config: 'x.json' })));
    });
    after(async () => s?.close());

    /** The counts as the kiosks' newest versions give them (the query configStatus used before migration 006). */
    const fromVersions = async (zone?: string) => {
      const rows = await s.db.query<{ status: string | null; n: number }>(
        `select c.status, count(*)::int as n from kiosks k
         left join lateral (select status from kiosk_configs c where c.kiosk_id = k.id and c.status <> 'superseded' order by c.version desc limit 1) c on true
         where ($1::text is null or k.zone = $1) group by c.status`,
        [zone ?? null],
      );
      const n = (x: string) => rows.find((r) => r.status === x)?.n ?? 0;
      const total = rows.reduce((a, r) => a + r.n, 0);
      return { acked: n('acked'), refused: n('refused'), pending: total - n('acked') - n('refused') };
    };
    /** Each kiosk's pending version (kiosks.config_pending, migration 008) as the versions give it: at most one, the newest. */
    const pendingFromVersions = async () =>
      (await s.db.query<{ kiosk_id: string; version: number }>(`select kiosk_id, version from kiosk_configs where status = 'pending' order by kiosk_id, version`)).map((r) => `${r.kiosk_id}@${r.version}`);
    const check = async (zoneWant: { acked: number; pending: number; refused: number }) => {
      const pending = await pendingFromVersions();
      assert.deepEqual(new Set(pending.map((p) => p.split('@')[0])).size, pending.length, 'at most one pending version per kiosk');
      const onRows = (await s.db.query<{ id: string; config_pending: number }>('select id, config_pending from kiosks where config_pending is not null order by id')).map((r) => `${r.id}@${r.config_pending}`);
      assert.deepEqual(onRows, pending);
      assert.deepEqual((await s.pendingConfigs(['a', 'b', 'c', 'd'])).map((p) => `${p.kiosk}@${p.version}`).sort(), pending);
      assert.deepEqual(await s.configStatus('z'), zoneWant);
      assert.deepEqual(await s.configStatus('z'), await fromVersions('z'));
      assert.deepEqual(await s.configStatus(), await fromVersions());
      assert.deepEqual(await s.configStatus('other'), await fromVersions('other'));
    };
    const push = async (kiosks: string[]) =>
      new Map((await s.pushConfig({ by: 't', kiosks, layersOf: (k, cur) => ConfigComposer.refFor(k, cur) })).versions.map((v) => [v.kiosk, v.version]));

    it('follows pushes, acks, refusals, superseded versions and late answers', async () => {
      await check({ acked: 0, pending: 3, refused: 0 }); // no version yet counts as pending
      const v1 = await push(['a', 'b', 'c', 'd']);
      await check({ acked: 0, pending: 3, refused: 0 });
      await s.configResults([
        { kiosk: 'a', version: v1.get('a')!, ok: true },
        { kiosk: 'b', version: v1.get('b')!, ok: false, errors: ['bad'] },
        { kiosk: 'a', version: v1.get('a')!, ok: true }, // a repeated ack
      ]);
      await check({ acked: 1, pending: 1, refused: 1 });
      // A new push to b and c supersedes c's pending version: c's late ack of it leaves c pending.
      const v2 = await push(['b', 'c']);
      await s.configResults([{ kiosk: 'c', version: v1.get('c')!, ok: true }]);
      await check({ acked: 1, pending: 2, refused: 0 });
      await s.configResults([
        { kiosk: 'b', version: v2.get('b')!, ok: true },
        { kiosk: 'c', version: v2.get('c')!, ok: false },
        { kiosk: 'd', version: v1.get('d')!, ok: true },
      ]);
      await check({ acked: 2, pending: 0, refused: 1 });
      // An answer to an acked version again changes nothing.
      await s.configResults([{ kiosk: 'b', version: v2.get('b')!, ok: false }]);
      await check({ acked: 2, pending: 0, refused: 1 });
    });

    it('migration 008 names each pending version on its kiosk row (a hub upgraded with pushes pending)', async () => {
      const v = await push(['a', 'b']);
      // As before the migration: no column kept, and (older data) a second, older pending version of a.
      await s.db.query('update kiosks set config_pending = null');
      await s.db.query(`update kiosk_configs set status = 'pending' where kiosk_id = 'a' and version = $1`, [v.get('a')! - 1]);
      const file = readFileSync(path.join(MIGRATIONS_DIR, '008_config_pending.sql'), 'utf8');
      for (const stmt of splitSql(file).filter((q) => q.startsWith('update'))) await s.db.query(stmt);
      await check({ acked: 0, pending: 2, refused: 1 });
      assert.deepEqual((await s.pendingConfigs(['a', 'b'])).map((p) => p.version).sort(), [v.get('a')!, v.get('b')!].sort());
      await s.configResults([{ kiosk: 'a', version: v.get('a')!, ok: true }, { kiosk: 'b', version: v.get('b')!, ok: true }]);
      await check({ acked: 2, pending: 0, refused: 1 });
    });
  });
}
