// The dispatch desk's board at the hub: a real hub process and a real kiosk
// process (sim driver, linked to the hub). A press on the kiosk becomes a row
// on the board and an event on the live stream; Acknowledge, Reset, Open door
// and chat from the desk reach the kiosk as hub commands, with `by` taken
// from the session; what the caller types on the kiosk's screen reaches the
// desk's stream with the screen's language, and a quick reply goes back in it.
import { strict as assert } from 'node:assert';
import WebSocket from 'ws';
import { stopAll, type Managed as Proc } from '../../src/testbed/proc.js';
import { until } from '../helpers/tmp.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { alarmRig, type AlarmRig } from '../alarm/helpers.js';
import { openStream, type SseStream } from './sse.js';
import { DESK_SECTION, startHubProcess } from './hub-bed.js';
import { lightKiosk } from '../helpers/light-kiosk.js';
import { DEMO_TOKEN, startHub } from '../hub/harness.js';

describe('desk board at the hub (hub and kiosk processes)', function () {
  this.timeout(90_000);
  let hub: Proc;
  let base: string;
  let rig: AlarmRig;
  let dispatcher: ConsoleSession;
  let stream: SseStream;

  before(async () => {
    ({ hub, base } = await startHubProcess());
    // No desk answers: the alarm keeps calling until the dispatcher acts.
    const nowhere = { uri: 'sip:desk@127.0.0.1:9', ringTimeoutS: 30 };
    rig = await alarmRig({
      hub: { url: `ws://127.0.0.1:${new URL(base).port}/kiosk`, token: DEMO_TOKEN('conc-north'), heartbeatS: 1 },
      sip: { targets: { emergency: [nowhere], information: [nowhere] } },
    });
    await hub.waitFor(/kiosk online/, 10_000);
    dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    stream = await openStream(base, dispatcher.cookie, 'desk');
    assert.equal(stream.status, 200);
  });
  after(async () => {
    stream?.close();
    await stopAll();
  });

  it('refuses the facilities role: no board, no stream, no desk (no SIP credentials)', async () => {
    const fac = await consoleLogin(base, 'facilities', 'facilities-demo');
    assert.equal((await fac.get('/api/desk/board')).status, 403);
    const seat = await fac.post('/api/desk/seat', {});
    assert.equal(seat.status, 403);
    assert.doesNotMatch(await seat.text(), /secret/);
    const s = await openStream(base, fac.cookie, 'desk');
    assert.equal(s.status, 403);
    assert.equal((await fac.get('/desk')).status, 403);
    // A kiosk's history is theirs to read (linked from the fleet list); the desk's actions are not.
    assert.equal((await fac.get('/api/desk/kiosks/conc-north/history')).status, 200);
    assert.equal((await fac.get('/desk/kiosks/conc-north/history')).status, 200);
    assert.equal((await fac.post('/api/desk/kiosks/conc-north/call', {})).status, 403);
    assert.equal((await fac.post('/api/desk/kiosks/conc-north/info', { etaMin: 3 })).status, 403);
    // A dispatcher gets a desk with its SIP account for the browser phone.
    const d = (await (await dispatcher.post('/api/desk/seat', {})).json()) as { desk: string; sip: { user: string; password: string; wsUrl: string } };
    assert.equal(d.desk, 'desk');
    assert.deepEqual([d.sip.user, d.sip.password], ['desk', 'desk-secret']);
  });

  it('shows a press on the kiosk as a row on the board and on the live stream; acknowledge and reset go to the kiosk by the session\'s user', async () => {
    await rig.press('emergency');
    const raised = await rig.waitAlarm((a) => a.state === 'calling', 'calling');
    const pushed = await stream.wait((e) => e.event === 'desk.row' && e.data.ref === raised.alarmId, 10_000, 'the alarm row');
    assert.equal(pushed.data.kiosk, 'conc-north');
    const board = await dispatcher.json<{ rows: any[] }>('/api/desk/board');
    const row = board.rows.find((r) => r.ref === raised.alarmId);
    assert.ok(row, 'the alarm is on the board');
    assert.equal(row.kind, 'emergency');
    assert.equal(row.zone, 'concourse');
    assert.equal(row.location.text.en, 'Concourse, north entrance');
    assert.ok(['calling', 'queued'].includes(row.state), row.state);
    assert.equal(row.raisedAt, raised.raisedAt);
    assert.ok(typeof row.attempt === 'number' && row.attempt >= 1, `attempt ${row.attempt}`);
    assert.match(row.target, /^sip:desk@127\.0\.0\.1:9/);
    assert.ok('category' in row && 'lang' in row);

    const ack = await dispatcher.post(`/api/desk/alarms/${raised.alarmId}/ack`, {});
    assert.equal(ack.status, 200, await ack.clone().text());
    assert.equal(((await ack.json()) as { ok: boolean }).ok, true);
    const acked = await rig.waitAlarm((a) => a.state === 'acknowledged', 'acknowledged');
    assert.equal(acked.by, 'hub:dispatcher');
    await stream.wait((e) => e.event === 'desk.row' && e.data.ref === raised.alarmId && e.data.state === 'acknowledged', 10_000, 'the acknowledged row');

    const reset = await dispatcher.post(`/api/desk/alarms/${raised.alarmId}/reset`, {});
    assert.equal(reset.status, 200, await reset.clone().text());
    assert.equal((await rig.waitAlarm((a) => a.state === 'reset', 'reset')).by, 'hub:dispatcher');
    await stream.wait((e) => e.event === 'desk.gone' && e.data.ref === raised.alarmId, 10_000, 'the row gone');
    assert.equal((await dispatcher.json<{ rows: any[] }>('/api/desk/board')).rows.some((r) => r.ref === raised.alarmId), false);
    // A closed alarm cannot be acknowledged again.
    assert.equal((await dispatcher.post(`/api/desk/alarms/${raised.alarmId}/ack`, {})).status, 404);
  });

  it('two dispatchers take the same alarm at once: exactly one gets it, the other is told who has it; logging out lets it go', async () => {
    const second = await consoleLogin(base, 'admin', 'admin-demo');
    assert.equal((await second.post('/api/desk/seat', {})).status, 200);
    const seen = new Set(rig.alarm().map((a) => a.alarmId));
    await rig.press('emergency');
    const raised = await until(() => rig.alarm().find((a) => a.state === 'calling' && !seen.has(a.alarmId)), 10_000, 'a second alarm');
    const open = await until(async () => (await dispatcher.json<{ rows: any[] }>('/api/desk/board')).rows.find((r) => r.ref === raised.alarmId && r.state !== 'reset'), 10_000, 'the row');
    assert.ok(open);
    const [a, b] = await Promise.all([dispatcher.post(`/api/desk/alarms/${raised.alarmId}/claim`, {}), second.post(`/api/desk/alarms/${raised.alarmId}/claim`, {})]);
    assert.deepEqual([a.status, b.status].sort(), [200, 409]);
    const loser = a.status === 409 ? a : b;
    const winner = a.status === 200 ? 'dispatcher' : 'admin';
    const body = (await loser.json()) as { holder: { user: string; desk: string } };
    assert.equal(body.holder.user, winner);
    const pushed = await stream.wait((e) => e.event === 'desk.row' && e.data.ref === raised.alarmId && e.data.claim?.user === winner, 10_000, 'the claim on the stream');
    assert.ok(pushed);
    // The admin holds it (taking it over once the dispatcher lets go), then logs out: the claim ends with the session.
    if (winner === 'dispatcher') {
      assert.equal((await dispatcher.post(`/api/desk/alarms/${raised.alarmId}/release`, {})).status, 200);
      assert.equal((await second.post(`/api/desk/alarms/${raised.alarmId}/claim`, {})).status, 200);
    }
    const before = stream.events.length;
    assert.equal((await second.post('/logout', {}, { accept: 'application/json' })).status, 200);
    await stream.wait((e) => stream.events.indexOf(e) >= before && e.event === 'desk.row' && e.data.ref === raised.alarmId && e.data.claim === null, 10_000, 'the row free again after log-out');
    assert.equal((await dispatcher.json<{ seats: { user: string }[] }>('/api/desk/board')).seats.some((x) => x.user === 'admin'), false, 'the desk is free again');
    assert.equal((await dispatcher.post(`/api/desk/alarms/${raised.alarmId}/reset`, {})).status, 200);
    await stream.wait((e) => e.event === 'desk.gone' && e.data.ref === raised.alarmId, 10_000, 'the row gone');
  });

  it('opens the door: the kiosk pulses its door relay', async () => {
    const r = await dispatcher.post('/api/desk/kiosks/conc-north/door', {});
    assert.equal(r.status, 200, await r.clone().text());
    await until(() => rig.events().find((e) => e.type === 'relay.pulse' && e.data.source === 'hub'), 5000, 'relay.pulse at the kiosk');
  });

  it('chat: the caller\'s line reaches the desk with the screen\'s language; a quick reply goes back in that language', async () => {
    const ws = new WebSocket(rig.kiosk.url.replace('http', 'ws') + 'screen/ws');
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    try {
      ws.send(JSON.stringify({ type: 'language', lang: 'zh-CN' }));
      ws.send(JSON.stringify({ type: 'chat', text: '我不能说话', lang: 'zh-CN' }));
      const line = await stream.wait((e) => e.event === 'desk.chat' && e.data.from === 'caller', 10_000, 'the caller\'s line');
      assert.deepEqual([line.data.kiosk, line.data.text, line.data.lang], ['conc-north', '我不能说话', 'zh-CN']);
      const r = await dispatcher.post('/api/desk/kiosks/conc-north/chat', { reply: 'coming' });
      assert.equal(r.status, 200, await r.clone().text());
      const body = (await r.json()) as { text: string; lang: string };
      assert.equal(body.lang, 'zh-CN');
      assert.equal(body.text, '救援人员正在赶来，请留在原地。');
      const shown = await until(() => rig.events().find((e) => e.type === 'chat.fromDesk'), 5000, 'chat.fromDesk at the kiosk');
      assert.equal(shown.data.text, '救援人员正在赶来，请留在原地。');
      // Typed text goes as it is; an unknown quick reply is refused.
      assert.equal((await dispatcher.post('/api/desk/kiosks/conc-north/chat', { reply: 'nope' })).status, 400);
    } finally {
      ws.close();
    }
  });
});

describe('desk board order (in-process hub, light kiosks)', function () {
  this.timeout(60_000);

  it('lists emergency alarms before information calls, then oldest first, and leaves out reset alarms', async () => {
    const t = await startHub({ patch: (c) => ((c as any).desk = DESK_SECTION()) });
    try {
      const admin = await consoleLogin(t.base, 'admin', 'admin-demo');
      let seq = 0;
      const send = async (id: string, events: { type: string; data: unknown }[]) => {
        const k = lightKiosk(t.wsUrl, id, DEMO_TOKEN(id));
        await k.welcomed;
        k.send({ type: 'events', batch: events.map((e) => ({ id: `${id}:1:${++seq}`, seq, at: new Date().toISOString(), type: e.type, data: e.data })) });
        await k.next('events-ack');
        k.ws.close();
      };
      const alarm = (kiosk: string, n: string, state: string, raisedAt: string) => ({
        type: 'alarm.state',
        data: { alarmId: `${kiosk}-${n}-abcd`, state, kind: 'emergency', category: 'medical', source: 'button', raisedAt, at: new Date(Date.parse(raisedAt) + 1000).toISOString(), attempt: 1 },
      });
      await send('conc-north', [
        { type: 'call.requested', data: { kind: 'information', category: 'enquiry' } },
        { type: 'call.state', data: { callId: 'info-1', kind: 'information', state: 'calling', attempt: 1 } },
        alarm('conc-north', 'new', 'calling', '2026-01-01T10:05:00.000Z'),
      ]);
      await send('plat-1', [alarm('plat-1', 'old', 'queued', '2026-01-01T10:00:00.000Z')]);
      await send('conc-south', [alarm('conc-south', 'gone', 'reset', '2026-01-01T09:00:00.000Z')]);
      const rows = await until(async () => {
        const b = await admin.json<{ rows: { ref: string; kind: string; category: string | null }[] }>('/api/desk/board');
        return b.rows.length >= 3 ? b.rows : undefined;
      }, 10_000, 'three rows');
      assert.deepEqual(rows.map((r) => r.ref), ['plat-1-old-abcd', 'conc-north-new-abcd', 'info-1']);
      assert.deepEqual(rows.map((r) => r.category), ['medical', 'medical', 'enquiry']);
    } finally {
      await t.stop();
    }
  });
});
