// The SIP secret kept with a desk's seat (migration 301, desk.sip.rpc): what
// every hub instance reads to know what the SIP server must hold for a desk.
// On PGlite and PostgreSQL.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { openStorage, type HubStorage } from '../../src/hub/storage/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { engines } from '../hub/harness.js';

for (const engine of engines()) {
  describe(`desk seat SIP secret (${engine.name})`, function () {
    this.timeout(60_000);
    let s: HubStorage;
    before(async () => {
      s = await openStorage({ url: await engine.fresh(), dataDir: tmpDir('hp-seatsecret-'), log: pino({ level: 'silent' }) });
      for (const id of ['sa', 'sb']) await s.createSession({ idSha256: id, user: `u-${id}`, role: 'dispatcher', csrf: 'x', ttlS: 3600 });
    });
    after(async () => s?.close());

    it('is recorded only for the session holding the desk, listed while that session lives, and cleared when another session takes the desk', async () => {
      assert.equal((await s.desk.takeSeat(['d1'], 'u-sa', 'sa'))?.desk, 'd1');
      let live = await s.desk.liveSipSecrets();
      assert.equal(live.get('d1')?.secret, null, 'taken, nothing handed out yet');
      assert.ok(live.get('d1')!.ageMs >= 0 && live.get('d1')!.ageMs < 10_000, JSON.stringify(live.get('d1')));
      assert.equal(await s.desk.setSipSecret('d1', 'sb', 'not-yours'), false);
      assert.equal(await s.desk.setSipSecret('d1', 'sa', 'secret-a'), true);
      assert.equal((await s.desk.liveSipSecrets()).get('d1')?.secret, 'secret-a');
      assert.equal((await s.desk.liveSipSecrets('d1')).size, 1);
      assert.equal((await s.desk.liveSipSecrets('d2')).size, 0);

      // The session is revoked: the desk is no longer held by a live session (the check locks it).
      await s.revokeSession('sa');
      assert.equal((await s.desk.liveSipSecrets()).has('d1'), false);
      // Another session takes it: the old secret does not come along.
      assert.equal((await s.desk.takeSeat(['d1'], 'u-sb', 'sb'))?.desk, 'd1');
      live = await s.desk.liveSipSecrets();
      assert.equal(live.get('d1')?.secret, null);
      assert.equal(await s.desk.setSipSecret('d1', 'sa', 'stale'), false, 'the old session cannot record one any more');
      assert.equal(await s.desk.releaseSeat('sb'), 'd1');
      assert.equal((await s.desk.liveSipSecrets()).size, 0);
    });
  });
}
