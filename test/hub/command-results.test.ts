// Answers to a command as kiosks send them: stored once committed, counted in
// the summary, and cleaned as every kiosk message is (a NUL or a lone
// surrogate sent as a \u escape does not reach the database; the hub skips
// that walk for results whose frame holds no escape at all).
import { strict as assert } from 'node:assert';
import { lightKiosk } from '../helpers/light-kiosk.js';
import { consoleLogin } from '../helpers/console.js';
import pino from 'pino';
import { DEMO_TOKEN, engines, startHub, type TestHub } from './harness.js';
import { openStorage, type HubStorage } from '../../src/hub/storage/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const engine of engines()) {
  describe(`hub: command results from kiosks (${engine.name})`, function () {
    this.timeout(60_000);
    let t: TestHub;
    let url: string | undefined;
    before(async () => {
      url = await engine.fresh();
      t = await startHub({ databaseUrl: url });
    });
    after(() => t?.stop());

    it('counts the first answer of each kiosk the command was sent to, once, whichever instance stores it', async () => {
      // On PostgreSQL a second storage on the same database stands for a second hub instance (its own pool).
      const a = t.hub.storage;
      const b: HubStorage = url ? await openStorage({ url, dataDir: t.dataDir, log: pino({ level: 'silent' }) }) : a;
      try {
        for (let round = 0; round < 20; round++) {
          const id = `cmd-pending-${round}`;
          await a.createCommand({ id, command: 'pa.play', args: {}, by: 'admin', role: 'admin', kiosks: ['k1', 'k2', 'k3', 'k4'] });
          assert.deepEqual((await b.pendingCommand(id, ['k1', 'k2', 'k9']))!.kiosks.sort(), ['k1', 'k2']);
          // k9 was not sent the command; k1 answers through both instances at once (ok through one, failed through
          // the other), k2 twice in one batch (the first counts), k3 twice through the same instance one after the other.
          await Promise.all([
            a.commandResults([{ id, kiosk: 'k1', ok: true }, { id, kiosk: 'k9', ok: true }, { id, kiosk: 'k3', ok: true }]),
            b.commandResults([{ id, kiosk: 'k1', ok: false, error: 'busy' }, { id, kiosk: 'k2', ok: false, error: 'first' }, { id, kiosk: 'k2', ok: true }]),
          ]);
          await a.commandResults([{ id, kiosk: 'k3', ok: false, error: 'late' }, { id, kiosk: 'k9', ok: false }]);
          const s = (await a.commandSummary(id))!;
          const full = (await b.getCommand(id))!;
          assert.equal(s.ok + s.failed, 3, `round ${round}: k1, k2, k3 count once each`);
          assert.equal(s.pending, 1, `round ${round}: k4 has not answered`);
          assert.equal(full.results['k9'], undefined, 'an answer from a kiosk the command was not sent to is not a result');
          assert.deepEqual(full.results['k2'], { ok: false, error: 'first' });
          assert.deepEqual(full.results['k3'], { ok: true });
          assert.equal(full.results['k4'], null);
          // The answer that counted is the one the command's results show, whichever instance won.
          const k1 = full.results['k1']!;
          assert.ok(k1, 'k1 answered');
          assert.deepEqual([s.ok, s.failed], k1.ok ? [2, 1] : [1, 2], `round ${round}: counters and results agree on k1's first answer`);
          assert.deepEqual((await a.pendingCommand(id, ['k1', 'k2', 'k3', 'k4', 'k9']))!.kiosks, ['k4']);
        }
        // An answer to a command that does not exist is dropped (nothing to count, no error).
        await a.commandResults([{ id: 'cmd-none', kiosk: 'k1', ok: true }]);
        assert.equal(await a.commandSummary('cmd-none'), undefined);
      } finally {
        if (b !== a) await b.close();
      }
    });

    it('stores plain and escaped results, cleaned, and counts each kiosk once', async () => {
      const ids = ['conc-north', 'conc-south'];
      const ks = ids.map((id) => lightKiosk(t.wsUrl, id, DEMO_TOKEN(id)));
      for (const k of ks) k.autoAnswer = false;
      await Promise.all(ks.map((k) => k.welcomed));
      const admin = await consoleLogin(t.base, 'admin', 'admin-demo');
      const r = await admin.post('/api/commands', { kiosks: ids, command: 'pa.play', args: { channel: 'announcement', message: 'drill' } });
      assert.equal(r.status, 202);
      const c = (await r.json()) as { id: string; sent: string[] };
      assert.deepEqual(c.sent.sort(), [...ids].sort());
      await Promise.all(ks.map((k) => k.next('command')));
      const [north, south] = ks as [(typeof ks)[0], (typeof ks)[0]];
      // No backslash in the frame: stored as sent.
      north.ws.send(JSON.stringify({ type: 'command-result', id: c.id, ok: false, error: 'speaker busy: ü 中' }));
      // Escapes for a NUL and a lone surrogate: cleaned before storing; a repeated answer does not count.
      south.ws.send(`{"type":"command-result","id":"${c.id}","ok":false,"error":"bad\\u0000 \\ud800 end"}`);
      south.ws.send(JSON.stringify({ type: 'command-result', id: c.id, ok: true }));
      let s: { ok: number; failed: number; pending: number } | undefined;
      for (let i = 0; i < 200; i++) {
        s = await admin.json(`/api/commands/${c.id}/summary`);
        if (s!.pending === 0) break;
        await sleep(20);
      }
      assert.deepEqual({ ok: s!.ok, failed: s!.failed, pending: s!.pending }, { ok: 0, failed: 2, pending: 0 });
      await sleep(100); // the repeated answer is stored too, and still does not count
      const full = await admin.json<{ results: Record<string, { ok: boolean; error?: string } | null> }>(`/api/commands/${c.id}`);
      assert.deepEqual(full.results['conc-north'], { ok: false, error: 'speaker busy: ü 中' });
      assert.deepEqual(full.results['conc-south'], { ok: false, error: 'bad \uFFFD end' });
      const again = await admin.json<{ ok: number; failed: number }>(`/api/commands/${c.id}/summary`);
      assert.deepEqual([again.ok, again.failed], [0, 2]);
      for (const k of ks) k.ws.close();
    });

    it('commands reach a kiosk in the order they were published, whichever read of them finishes first', async () => {
      const k = lightKiosk(t.wsUrl, 'conc-north', DEMO_TOKEN('conc-north'));
      await k.welcomed;
      // The first command's read is slow (a busy pooled connection): the second's finishes first.
      const storage = t.hub.storage;
      const read = storage.pendingCommand.bind(storage);
      let calls = 0;
      storage.pendingCommand = async (id, kiosks) => {
        const slow = calls++ === 0;
        const r = await read(id, kiosks);
        if (slow) await sleep(300);
        return r;
      };
      try {
        const admin = await consoleLogin(t.base, 'admin', 'admin-demo');
        // The first as another instance publishes it (this one reads it back: the slow read); the second through
        // this instance's API (sent from what it stored, no read): it still waits for the first.
        const drill = { id: 'cmd-drill-from-elsewhere' };
        await storage.createCommand({ id: drill.id, command: 'drill.mode', args: { active: true }, by: 'admin', role: 'admin', kiosks: ['conc-north'] });
        await t.hub.ctx!.bus.publish({ t: 'command', id: drill.id });
        const view = (await (await admin.post('/api/commands', { kiosks: ['conc-north'], command: 'incident.mode', args: { active: true, kind: 'incident' } })).json()) as { id: string };
        const first = await k.next('command');
        const second = await k.next('command');
        assert.deepEqual([first.id, second.id], [drill.id, view.id], 'the DRILL banner must come before the incident view');
        assert.equal(calls, 1, 'only the command from elsewhere is read back');
        // Two through this instance's API: in the order they were published.
        const a = (await (await admin.post('/api/commands', { kiosks: ['conc-north'], command: 'drill.mode', args: { active: false } })).json()) as { id: string };
        const b = (await (await admin.post('/api/commands', { kiosks: ['conc-north'], command: 'incident.mode', args: { active: false } })).json()) as { id: string };
        assert.deepEqual([(await k.next('command')).id, (await k.next('command')).id], [a.id, b.id]);
      } finally {
        storage.pendingCommand = read;
        k.ws.close();
      }
    });
  });
}
