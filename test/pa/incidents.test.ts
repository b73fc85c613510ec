// Incidents and drills through a real hub (in this process) and light kiosks:
// declaring sends the screens their colour, guidance and blocked exits, plays
// the approved message of the level, and the timeline keeps the declaration,
// the message with its receipts and alarms raised in the zone; close and
// export (CSV, JSON, printable). Drills say DRILL everywhere, are listed and
// exported apart, and an alarm during a drill is recorded as a real one.
import { strict as assert } from 'node:assert';
import type { Hub } from '../../src/hub/app.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { until } from '../helpers/tmp.js';
import { lightKiosk, startHub, ZONE_A, type LightKiosk } from './helpers.js';

interface Report {
  incident: { id: string; drill: boolean; state: string; colour: string; level: string; playId: string | null; messageId: string | null };
  timeline: { kind: string; text: string; by: string; detail: any }[];
  actions: { id: string; counts: Record<string, number>; receipts: { kiosk: string; state: string }[] }[];
}

describe('incidents and drills (hub, light kiosks)', function () {
  this.timeout(60_000);
  let hub: Hub;
  let base: string;
  let dispatcher: ConsoleSession;
  const kiosks: LightKiosk[] = [];
  let orangeMessage: string;

  before(async () => {
    ({ hub, base } = await startHub());
    dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    const supervisor = await consoleLogin(base, 'supervisor', 'supervisor-demo');
    for (const id of [...ZONE_A, 'plat-1']) kiosks.push(await lightKiosk(base, id, { playMs: 200 }));
    // The approved wording for level orange.
    const m = (await (
      await dispatcher.post('/api/pa/messages', { name: 'Crowding, orange', level: 'orange', text: { en: 'The concourse is very busy. Please move slowly and follow staff.', 'zh-CN': '大厅十分拥挤，请慢行并听从工作人员指挥。' } })
    ).json()) as { id: string };
    orangeMessage = m.id;
    assert.equal((await dispatcher.post(`/api/pa/messages/${m.id}/synthesise`, {})).status, 200);
    assert.equal((await supervisor.post(`/api/pa/messages/${m.id}/approve`, { version: 1 })).status, 200);
  });
  after(async () => {
    for (const k of kiosks) k.close();
    await hub?.stop();
  });

  const report = (id: string) => dispatcher.json<Report>(`/api/incidents/${id}`);

  it('an orange incident with an exit blocked: screens, the level message with receipts, an alarm, close and export', async () => {
    const r = await dispatcher.post('/api/incidents', {
      zones: ['concourse'],
      level: 'orange',
      title: 'Crowd at the north gate',
      blockedExits: ['exit-north'],
      guidance: { en: 'Leave by the west exit.', 'zh-CN': '请从西出口离开。' },
    });
    assert.equal(r.status, 201, await r.clone().text());
    const inc = (await r.json()) as { id: string; colour: string; drill: boolean };
    assert.equal(inc.colour, 'orange');
    assert.equal(inc.drill, false);

    // Every kiosk of the zone got the incident view: orange, the guidance, the blocked exit.
    for (const k of kiosks.filter((x) => ZONE_A.includes(x.id))) {
      const c = await until(() => k.commands.find((x) => x.command === 'incident.mode'), 5000, `incident.mode at ${k.id}`);
      assert.deepEqual(c.args, { active: true, kind: 'incident', text: { en: 'Leave by the west exit.', 'zh-CN': '请从西出口离开。' }, blockedExits: ['exit-north'], colour: 'orange', level: { en: 'Orange', 'zh-CN': '橙色' } });
      const play = await until(() => k.commands.find((x) => x.command === 'pa.play'), 5000, `the level message at ${k.id}`);
      assert.equal(play.args.channel, 'announcement');
      assert.equal(play.args.drill, undefined);
    }
    assert.ok(!kiosks.find((k) => k.id === 'plat-1')!.commands.some((c) => c.command === 'incident.mode'), 'another zone is untouched');

    // An alarm raised in the zone during the incident (an alarm.state event from a kiosk).
    const k = kiosks.find((x) => x.id === 'conc-tickets')!;
    k.event('alarm.state', { alarmId: 'conc-tickets-lz1k2m-ab12', state: 'raised', kind: 'emergency', category: 'medical', source: 'button', raisedAt: new Date().toISOString(), at: new Date().toISOString() });

    const rep = await until(async () => {
      const x = await report(inc.id);
      const msg = x.actions.find((a) => a.counts.finished === 3);
      return msg && x.timeline.some((t) => t.kind === 'alarm') ? x : undefined;
    }, 10_000, 'the message finished everywhere and the alarm in the timeline');
    const kinds = rep.timeline.map((t) => t.kind);
    assert.deepEqual(kinds.slice(0, 3), ['declared', 'screens', 'message'], kinds.join(', '));
    assert.match(rep.timeline[0]!.text, /Orange incident declared in concourse: Crowd at the north gate/);
    assert.equal(rep.timeline[0]!.by, 'dispatcher');
    const msg = rep.timeline.find((t) => t.kind === 'message')!;
    assert.equal(msg.detail.message, orangeMessage);
    assert.deepEqual(rep.actions[0]!.receipts.map((x) => x.state), ['finished', 'finished', 'finished']);
    const alarm = rep.timeline.find((t) => t.kind === 'alarm')!;
    assert.equal(alarm.by, 'kiosk:conc-tickets');
    assert.match(alarm.text, /^alarm raised at conc-tickets \(medical\)/);
    assert.equal(alarm.detail.alarmId, 'conc-tickets-lz1k2m-ab12');

    // Update: a second exit blocked; the screens follow.
    assert.equal((await dispatcher.post(`/api/incidents/${inc.id}/update`, { blockedExits: ['exit-north', 'exit-west'] })).status, 200);
    await until(() => kiosks[0]!.commands.filter((x) => x.command === 'incident.mode').length === 2, 5000, 'the update on the screens');

    // Close with a summary: screens back to normal.
    const closed = await dispatcher.post(`/api/incidents/${inc.id}/close`, { summary: 'Crowd cleared by 18:40; no injuries.' });
    assert.equal(closed.status, 200);
    const off = await until(() => kiosks[0]!.commands.filter((x) => x.command === 'incident.mode').at(-1)?.args.active === false && kiosks[0]!.commands.at(-1), 5000, 'all clear on the screens');
    assert.ok(off);

    // Export: JSON, CSV and the printable page.
    const json = await dispatcher.get(`/api/incidents/${inc.id}/export?format=json`);
    assert.equal(json.status, 200);
    assert.match(json.headers.get('content-disposition')!, new RegExp(`${inc.id}\\.json`));
    const doc = (await json.json()) as Report & { exportedBy: string };
    assert.equal(doc.exportedBy, 'dispatcher');
    assert.equal(doc.incident.state, 'closed');
    assert.ok(doc.timeline.some((t) => t.kind === 'closed' && /Crowd cleared/.test(t.text)));
    const csv = await (await dispatcher.get(`/api/incidents/${inc.id}/export?format=csv`)).text();
    assert.match(csv, /^record,INCIDENT,/);
    assert.match(csv, /,declared,/);
    assert.match(csv, /,alarm,alarm raised at conc-tickets/);
    assert.equal(csv.match(/,message,conc-[a-z]+,finished,/g)?.length ?? 0, 3, csv);
    const page = await (await dispatcher.get(`/incidents/${inc.id}/print`)).text();
    assert.match(page, /Incident record: Crowd at the north gate/);
    assert.doesNotMatch(page, /DRILL/);
  });

  it('a drill says DRILL everywhere, is kept apart, and an alarm during it is recorded as real', async () => {
    const r = await dispatcher.post('/api/incidents', { zones: ['concourse'], level: 'orange', title: 'Quarterly crowd drill', drill: true });
    assert.equal(r.status, 201);
    const d = (await r.json()) as { id: string; drill: boolean };
    assert.match(d.id, /^drill-/);
    const k = kiosks[1]!;
    const mode = await until(() => k.commands.find((c) => c.command === 'drill.mode' && c.args.active), 5000, 'DRILL on the screen');
    const play = await until(() => k.commands.filter((c) => c.command === 'pa.play').at(-1)?.args.drill === true && k.commands.filter((c) => c.command === 'pa.play').at(-1), 5000, 'the message as a drill');
    assert.ok(mode && play);
    // In the order they arrived: the drill's incident view is the first one after the last all-clear of the test
    // before (command ids do not sort by time: two made in the same millisecond compare by their random part).
    const lastClear = k.commands.findLastIndex((c) => c.command === 'incident.mode' && !c.args.active);
    const view = k.commands.findIndex((c, i) => i > lastClear && c.command === 'incident.mode' && c.args.active);
    assert.ok(view > lastClear, `the drill's incident view on the screen: ${k.commands.map((c) => c.command).join(', ')}`);
    assert.ok(k.commands.indexOf(mode) < view, `DRILL shows before the incident view: ${k.commands.map((c) => c.command).join(', ')}`);

    kiosks[2]!.event('alarm.state', { alarmId: 'conc-tickets-lz1k3q-cd34', state: 'raised', kind: 'emergency', source: 'button', raisedAt: new Date().toISOString(), at: new Date().toISOString() });
    const rep = await until(async () => {
      const x = await report(d.id);
      return x.timeline.some((t) => t.kind === 'alarm') ? x : undefined;
    }, 10_000, 'the alarm in the drill record');
    const alarm = rep.timeline.find((t) => t.kind === 'alarm')!;
    assert.match(alarm.text, /^REAL alarm raised at conc-tickets \(not part of the drill\)/);
    assert.equal(alarm.detail.real, true);
    assert.match(rep.timeline[0]!.text, /^DRILL: /);
    // The hub's alarm record is a real alarm, untouched by the drill.
    const alarms = await dispatcher.json<{ alarmId: string; state: string }[]>('/api/alarms');
    assert.ok(alarms.some((a) => a.alarmId === 'conc-tickets-lz1k3q-cd34' && a.state === 'raised'));

    // Records apart: drills list only drills, incidents only real ones.
    const drills = await dispatcher.json<{ id: string; drill: boolean }[]>('/api/incidents?drill=true');
    const real = await dispatcher.json<{ id: string; drill: boolean }[]>('/api/incidents?drill=false');
    assert.ok(drills.every((x) => x.drill) && drills.some((x) => x.id === d.id));
    assert.ok(real.every((x) => !x.drill) && !real.some((x) => x.id === d.id));
    const csv = await dispatcher.get(`/api/incidents/${d.id}/export?format=csv`);
    assert.match(csv.headers.get('content-disposition')!, /DRILL-drill-/);
    assert.match(await csv.text(), /^record,DRILL,/);
    assert.match(await (await dispatcher.get(`/incidents/${d.id}/print`)).text(), /DRILL — EXERCISE RECORD/);

    assert.equal((await dispatcher.post(`/api/incidents/${d.id}/close`, { summary: 'Drill done in 6 minutes.' })).status, 200);
    await until(() => k.commands.some((c) => c.command === 'drill.mode' && c.args.active === false), 5000, 'DRILL off');
  });

  it('refuses an unknown level or zone and changes nothing', async () => {
    const before = (await dispatcher.json<unknown[]>('/api/incidents')).length;
    assert.equal((await dispatcher.post('/api/incidents', { zones: ['concourse'], level: 'purple', title: 'x' })).status, 400);
    assert.equal((await dispatcher.post('/api/incidents', { zones: ['nowhere'], level: 'orange', title: 'x' })).status, 400);
    assert.equal((await dispatcher.json<unknown[]>('/api/incidents')).length, before);
  });
});
