// Reboots of kiosk boards in the hub's storage (migration 202, storage.reboots):
// boot ids stored in batches, at most one open reboot per kiosk, a reboot is
// back only on another boot id reported after the ask, and a reboot past its
// deadline is taken as not back by exactly one of two instances at once.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { engines, startHub, type TestHub } from './harness.js';
import { openStorage, type HubStorage } from '../../src/hub/storage/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const engine of engines()) {
  describe(`hub: reboot records (${engine.name})`, function () {
    this.timeout(60_000);
    let t: TestHub;
    let url: string | undefined;
    before(async () => {
      url = await engine.fresh();
      t = await startHub({ databaseUrl: url });
      // Only this test's storages sweep deadlines: the hub's own sweeper would take the rows first.
      t.hub.ctx!.facilities.reboots.stop();
    });
    after(() => t?.stop());

    const ask = (s: HubStorage, commandId: string, kiosk: string, bootBefore: string, timeoutS = 600) =>
      s.db.transaction(async (tx) => {
        await s.reboots.create(tx, { commandId, kiosk, by: 'hub:facilities', bootBefore, timeoutS });
        await s.createCommand({ id: commandId, command: 'kiosk.reboot', args: { by: 'hub:facilities' }, by: 'facilities', role: 'facilities', kiosks: [kiosk] }, tx);
      });

    it('boot ids in one batch; back only on another boot id seen after the ask; one open reboot per kiosk', async () => {
      const s = t.hub.storage;
      const before = Date.now() - 1000;
      assert.deepEqual(await s.reboots.bootsSeen([{ kiosk: 'plat-1', bootId: 'p1-a', seenAt: before }, { kiosk: 'plat-2', bootId: 'p2-a', seenAt: before }]), []);
      assert.equal(await s.reboots.bootId('plat-1'), 'p1-a');
      assert.equal(await s.reboots.bootId('plat-2'), 'p2-a');

      await ask(s, 'cmd-rb-1', 'plat-1', 'p1-a');
      // a second ask while one is open fails, and changes nothing
      await assert.rejects(ask(s, 'cmd-rb-2', 'plat-1', 'p1-a'));
      assert.equal((await s.getCommand('cmd-rb-2')), undefined);
      assert.equal((await s.reboots.open('plat-1'))!.commandId, 'cmd-rb-1');

      // the same boot, or another one in a heartbeat read before the ask: not back
      assert.deepEqual(await s.reboots.bootsSeen([{ kiosk: 'plat-1', bootId: 'p1-a', seenAt: Date.now() + 1000 }]), []);
      assert.deepEqual(await s.reboots.bootsSeen([{ kiosk: 'plat-1', bootId: 'p1-x', seenAt: before }]), []);
      assert.equal((await s.reboots.get('cmd-rb-1'))!.state, 'asked');
      // the kiosk's ok: rebooting; a second ok changes nothing
      assert.equal(await s.reboots.handed('cmd-rb-1', 'plat-1'), true);
      assert.equal(await s.reboots.handed('cmd-rb-1', 'plat-1'), false);
      // another kiosk's answer does not touch it
      assert.equal(await s.reboots.handed('cmd-rb-1', 'plat-2'), false);
      assert.equal(await s.reboots.answered('cmd-rb-1', 'plat-2', 'refused', 'x'), false);
      const back = await s.reboots.bootsSeen([{ kiosk: 'plat-1', bootId: 'p1-b', seenAt: Date.now() + 1000 }]);
      assert.deepEqual(back, [{ commandId: 'cmd-rb-1', kiosk: 'plat-1' }]);
      const r = (await s.reboots.get('cmd-rb-1'))!;
      assert.deepEqual([r.state, r.bootBefore, r.bootAfter], ['back', 'p1-a', 'p1-b']);
      assert.ok(r.handedAt && r.endedAt);
      assert.equal(await s.reboots.bootId('plat-1'), 'p1-b');
      // ended: a new ask is taken, and answers to the old one change nothing
      assert.equal(await s.reboots.answered('cmd-rb-1', 'plat-1', 'failed', 'late'), false);
      await ask(s, 'cmd-rb-3', 'plat-1', 'p1-b');
      assert.equal(await s.reboots.answered('cmd-rb-3', 'plat-1', 'refused', 'reboot refused: an alarm is open'), true);
      const list = await s.reboots.list('plat-1');
      assert.deepEqual(list.map((x) => [x.commandId, x.state]), [['cmd-rb-3', 'refused'], ['cmd-rb-1', 'back']]);
      assert.equal((await s.reboots.latest(['plat-1', 'plat-2'])).get('plat-1')!.commandId, 'cmd-rb-3');
      assert.equal((await s.reboots.latest(['plat-1', 'plat-2'])).has('plat-2'), false);
    });

    it('past the deadline: not back, taken by one instance only', async () => {
      const a = t.hub.storage;
      // On PostgreSQL a second storage on the same database stands for a second hub instance.
      const b: HubStorage = url ? await openStorage({ url, dataDir: t.dataDir, log: pino({ level: 'silent' }) }) : a;
      try {
        await ask(a, 'cmd-rb-late-1', 'plat-3', 'p3-a', 1);
        await ask(a, 'cmd-rb-late-2', 'conc-north', 'cn-a', 1);
        assert.equal(await a.reboots.handed('cmd-rb-late-2', 'conc-north'), true);
        assert.deepEqual(await a.reboots.expire(), []);
        await sleep(1300);
        const [x, y] = await Promise.all([a.reboots.expire(), b.reboots.expire()]);
        const all = [...x, ...y].sort((p, q) => p.commandId.localeCompare(q.commandId));
        assert.deepEqual(all, [
          { commandId: 'cmd-rb-late-1', kiosk: 'plat-3', error: 'no answer, and not back within 1 s' },
          { commandId: 'cmd-rb-late-2', kiosk: 'conc-north', error: 'not back within 1 s' },
        ]);
        assert.equal((await a.reboots.get('cmd-rb-late-2'))!.state, 'not-back');
        // a boot id after the deadline does not revive it
        assert.deepEqual(await a.reboots.bootsSeen([{ kiosk: 'conc-north', bootId: 'cn-b', seenAt: Date.now() }]), []);
      } finally {
        if (b !== a) await b.close();
      }
    });
  });
}
