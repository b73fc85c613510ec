// Kiosk events at the hub: per-kiosk retention (a noisy kiosk cannot evict
// another's alarm records), filters (kiosk, zone, type, time), pagination,
// CSV and JSON export; alarms kept as one row per alarm whose state never goes back.
import { strict as assert } from 'node:assert';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { lightKiosk, type LightKiosk } from '../helpers/light-kiosk.js';
import { DEMO_TOKEN, engines, startHub, type TestHub } from './harness.js';

for (const engine of engines()) {
  describe(`hub events: retention, filters, pagination, export, alarms (${engine.name})`, function () {
    this.timeout(120_000);
    let t: TestHub;
    let admin: ConsoleSession;
    const kiosks: Record<string, LightKiosk> = {};
    const seqs: Record<string, number> = {};
    const send = async (id: string, events: { type: string; data?: unknown; at?: string }[]) => {
      const k = kiosks[id]!;
      for (let i = 0; i < events.length; i += 200) {
        const batch = events.slice(i, i + 200).map((e) => {
          const seq = (seqs[id] = (seqs[id] ?? 0) + 1);
          return { id: `${id}:1:${seq}`, seq, at: e.at ?? new Date().toISOString(), type: e.type, data: e.data ?? {} };
        });
        k.send({ type: 'events', batch });
        const ack = await k.next('events-ack');
        assert.equal((ack.ids as string[]).length, batch.length);
      }
    };

    before(async () => {
      t = await startHub({ databaseUrl: await engine.fresh(), patch: (c) => (c.events = { perKioskMax: 100 }) });
      admin = await consoleLogin(t.base, 'admin', 'admin-demo');
      for (const id of ['conc-north', 'plat-1']) {
        kiosks[id] = lightKiosk(t.wsUrl, id, DEMO_TOKEN(id));
        await kiosks[id]!.welcomed;
      }
    });
    after(async () => {
      for (const k of Object.values(kiosks)) k.ws.close();
      await t.stop();
    });

    it('keeps one row per alarm with its latest state, never going back', async () => {
      const alarmId = 'plat-1-mx1-abcd';
      const st = (state: string, at: string) => ({ type: 'alarm.state', at, data: { alarmId, state, kind: 'emergency', source: 'button', raisedAt: '2026-01-01T10:00:00.000Z', at } });
      await send('plat-1', [st('raised', '2026-01-01T10:00:00.000Z'), st('calling', '2026-01-01T10:00:01.000Z'), st('talking', '2026-01-01T10:00:05.000Z'), st('acknowledged', '2026-01-01T10:00:09.000Z')]);
      // A late copy of an earlier transition arrives after the acknowledgement: the row stays acknowledged.
      await send('plat-1', [st('calling', '2026-01-01T10:00:02.000Z')]);
      let alarms = await admin.json<{ alarmId: string; state: string; kiosk: string }[]>('/api/alarms?kiosk=plat-1');
      assert.deepEqual(alarms.map((a) => [a.alarmId, a.state]), [[alarmId, 'acknowledged']]);
      // A kiosk cannot touch another kiosk's alarm.
      await send('conc-north', [{ type: 'alarm.state', data: { alarmId, state: 'reset', at: '2026-01-01T11:00:00.000Z' } }]);
      alarms = await admin.json('/api/alarms?kiosk=plat-1');
      assert.equal(alarms[0]!.state, 'acknowledged');
      await send('plat-1', [st('reset', '2026-01-01T10:01:00.000Z')]);
      assert.equal((await admin.json<{ state: string }[]>('/api/alarms?kiosk=plat-1'))[0]!.state, 'reset');
      assert.equal((await admin.json<unknown[]>('/api/alarms?open=true')).length, 0);
    });

    it('filters by kiosk, zone, type and time, and pages with the after cursor', async () => {
      await send('conc-north', Array.from({ length: 30 }, (_, i) => ({ type: i % 3 ? 'button.press' : 'call.state', at: `2026-02-01T00:00:${String(i).padStart(2, '0')}.000Z` })));
      const calls = await admin.json<{ type: string; kiosk: string }[]>('/api/events?kiosk=conc-north&type=call.state');
      assert.equal(calls.length, 10);
      assert.ok(calls.every((e) => e.type === 'call.state' && e.kiosk === 'conc-north'));
      const zone = await admin.json<{ kiosk: string }[]>('/api/events?zone=platforms&limit=10000');
      assert.ok(zone.length > 0 && zone.every((e) => e.kiosk === 'plat-1'));
      const window = await admin.json<unknown[]>('/api/events?kiosk=conc-north&from=2026-02-01T00:00:10.000Z&to=2026-02-01T00:00:20.000Z');
      assert.equal(window.length, 10);
      // Pages of 7 cover the 30 events once each, in order.
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const r = await admin.get(`/api/events?kiosk=conc-north&from=2026-02-01T00:00:00.000Z&to=2026-03-01T00:00:00.000Z&limit=7&after=${after}`);
        const page = (await r.json()) as { serial: number }[];
        seen.push(...page.map((e) => e.serial));
        const next = r.headers.get('x-next-after');
        if (!next) break;
        after = Number(next);
      }
      assert.equal(seen.length, 30);
      assert.deepEqual([...seen].sort((a, b) => a - b), seen);
      assert.equal(new Set(seen).size, 30);
      assert.equal((await admin.get('/api/events?from=yesterday')).status, 400);
    });

    it('exports as CSV and JSON', async () => {
      const csv = await admin.get('/api/events/export?format=csv&kiosk=conc-north&type=call.state');
      assert.match(csv.headers.get('content-type')!, /text\/csv/);
      assert.match(csv.headers.get('content-disposition')!, /attachment; filename="events-.*\.csv"/);
      const lines = (await csv.text()).trim().split('\r\n');
      assert.equal(lines[0], 'serial,id,kiosk,seq,at,type,receivedAt,data');
      assert.equal(lines.length, 11);
      const json = (await (await admin.get('/api/events/export?format=json&kiosk=conc-north&type=call.state')).json()) as { type: string }[];
      assert.equal(json.length, 10);
    });

    it('keeps a quiet kiosk\'s records when a noisy one floods (retention per kiosk)', async () => {
      await send('conc-north', Array.from({ length: 450 }, () => ({ type: 'button.press' })));
      const before = (await admin.json<unknown[]>('/api/events?kiosk=plat-1&limit=10000')).length;
      const deleted = await t.hub.retain();
      assert.ok(deleted >= 380, `deleted ${deleted}`);
      const noisy = await admin.json<{ seq: number }[]>('/api/events?kiosk=conc-north&limit=10000');
      assert.equal(noisy.length, 100, 'the noisy kiosk keeps its newest 100');
      assert.equal(Math.max(...noisy.map((e) => e.seq)), seqs['conc-north']);
      assert.equal((await admin.json<unknown[]>('/api/events?kiosk=plat-1&limit=10000')).length, before, "the quiet kiosk's alarm records are all there");
      assert.equal((await admin.json<unknown[]>('/api/alarms?kiosk=plat-1')).length, 1);
    });
  });
}
