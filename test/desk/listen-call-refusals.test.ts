// Listen-in refusals at the hub (in-process hubs, a light kiosk reporting its
// alarm): each answers with the reason and starts nothing. The listening
// itself is in listen-call.test.ts (Chromium, Kamailio, rtpengine).
import { strict as assert } from 'node:assert';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { lightKiosk } from '../helpers/light-kiosk.js';
import { until } from '../helpers/tmp.js';
import { freePort } from '../../src/testbed/ports.js';
import { startRtpengine, type RtpEngine } from '../../src/testbed/rtpengine.js';
import { DEMO_TOKEN, startHub, type TestHub } from '../hub/harness.js';
import { DESK_SECTION } from './hub-bed.js';
import { browserOffer, sidesOf } from '../../src/hub/desk/listen-in.js';

const ALARM = 'conc-north-listen-0001';

/** A hub whose kiosk conc-north has an open alarm: `answered` makes desk "desk" (dispatcher) its confirmed claim holder, with a reported SIP Call-ID. */
async function hubWithAlarm(
  desk: Record<string, unknown>,
  answered: boolean,
): Promise<{ t: TestHub; admin: ConsoleSession; dispatcher: ConsoleSession; send: (state: string) => Promise<void> }> {
  const t = await startHub({ patch: (c) => ((c as any).desk = { ...DESK_SECTION(), ...desk }) });
  const admin = await consoleLogin(t.base, 'admin', 'admin-demo');
  const dispatcher = await consoleLogin(t.base, 'dispatcher', 'dispatcher-demo');
  const k = lightKiosk(t.wsUrl, 'conc-north', DEMO_TOKEN('conc-north'));
  await k.welcomed;
  let seq = 0;
  const send = async (state: string) => {
    const at = new Date().toISOString();
    k.send({ type: 'events', batch: [{ id: `conc-north:1:${++seq}`, seq, at, type: 'alarm.state', data: { alarmId: ALARM, state, kind: 'emergency', category: 'medical', source: 'button', raisedAt: at, at, attempt: 1, target: 'sip:desk@127.0.0.1' } }] });
    await k.next('events-ack');
  };
  await send('calling');
  await until(async () => (await admin.json<{ rows: { ref: string }[] }>('/api/desk/board')).rows.some((r) => r.ref === ALARM), 10_000, 'the alarm on the board');
  if (answered) {
    assert.equal((await dispatcher.post('/api/desk/seat', {})).status, 200);
    assert.equal((await dispatcher.post(`/api/desk/alarms/${ALARM}/claim`, { mode: 'answer', sipCallId: 'no-such-call@test' })).status, 200);
    await send('talking');
    await until(async () => (await admin.json<{ rows: { ref: string; claim: { confirmed: boolean } | null }[] }>('/api/desk/board')).rows.find((r) => r.ref === ALARM)?.claim?.confirmed, 10_000, 'claim confirmed');
  }
  return { t, admin, dispatcher, send };
}

const listen = async (s: ConsoleSession) => {
  const r = await s.post(`/api/desk/alarms/${ALARM}/listen`, {});
  return { status: r.status, body: (await r.json()) as { error?: string; sdp?: string } };
};
const refusals = async (s: ConsoleSession) => (await s.json<{ action: string; result: string; detail: { error: string } }[]>('/api/audit?action=desk.listen.start')).filter((a) => a.result === 'refused');

describe('listen-in refusals at the hub (in-process hubs, light kiosk)', function () {
  this.timeout(60_000);
  let rtpengine: RtpEngine | undefined;
  after(async () => rtpengine?.stop());

  it('refuses where the site does not allow listening in (desk.listenIn off), with the reason, audited', async () => {
    const { t, admin } = await hubWithAlarm({ listenIn: false, rtpengine: { ng: '127.0.0.1:9' } }, true);
    try {
      const r = await listen(admin);
      assert.equal(r.status, 403);
      assert.match(r.body.error!, /does not allow listening in \(hub config desk\.listenIn\)/);
      assert.equal((await admin.json<{ listenCall: boolean }>('/api/desk/board')).listenCall, false);
      assert.equal((await refusals(admin)).length, 1);
    } finally {
      await t.stop();
    }
  });

  it('refuses a dispatcher, an alarm no desk answered, and a call the answering desk did not report', async () => {
    const dead = await freePort();
    const { t, admin, dispatcher, send } = await hubWithAlarm({ listenIn: true, rtpengine: { ng: `127.0.0.1:${dead}` } }, false);
    try {
      assert.equal((await admin.json<{ listenCall: boolean }>('/api/desk/board')).listenCall, true);
      assert.equal((await dispatcher.json<{ listenCall: boolean }>('/api/desk/board')).listenCall, false);
      const byDispatcher = await listen(dispatcher);
      assert.equal(byDispatcher.status, 403);
      // refused by the router, which checks the roles each route declares
      assert.match(byDispatcher.body.error!, /admin role needed/);
      // Ringing, nobody answered yet.
      const early = await listen(admin);
      assert.equal(early.status, 409);
      assert.match(early.body.error!, /no desk is talking to conc-north on this alarm \(state calling\)/);
      // Answered by desk "desk" from a page that did not say which SIP call: the hub does not guess.
      assert.equal((await dispatcher.post('/api/desk/seat', {})).status, 200);
      assert.equal((await dispatcher.post(`/api/desk/alarms/${ALARM}/claim`, { mode: 'answer' })).status, 200);
      await send('talking');
      await until(async () => (await admin.json<{ rows: { ref: string; claim: { confirmed: boolean } | null }[] }>('/api/desk/board')).rows.find((r) => r.ref === ALARM)?.claim?.confirmed, 10_000, 'claim confirmed');
      const unknown = await listen(admin);
      assert.equal(unknown.status, 409);
      assert.match(unknown.body.error!, /desk desk has not reported its call to the hub/);
      // A Call-ID in the listener's own body is refused by the schema (never used).
      assert.equal((await admin.post(`/api/desk/alarms/${ALARM}/listen`, { sipCallId: 'x@y' })).status, 400);
      // audited: the two the listen-in code refused (the dispatcher was refused by the router's role check, as on any route)
      assert.equal((await refusals(admin)).length, 2);
    } finally {
      await t.stop();
    }
  });

  it('answers 503 when rtpengine does not answer, 409 when it does not know the call; nothing is left listening', async () => {
    const dead = await freePort();
    const one = await hubWithAlarm({ listenIn: true, rtpengine: { ng: `127.0.0.1:${dead}` } }, true);
    try {
      const r = await listen(one.admin);
      assert.equal(r.status, 503);
      assert.match(r.body.error!, /^rtpengine unreachable: rtpengine 127\.0\.0\.1:\d+: no reply to "query"/);
      const stop = await one.admin.post('/api/desk/listen/nope/stop', {});
      assert.equal(stop.status, 404);
      assert.deepEqual((await refusals(one.admin)).map((a) => a.detail.error), [r.body.error]);
    } finally {
      await one.t.stop();
    }
    rtpengine = await startRtpengine();
    const two = await hubWithAlarm({ listenIn: true, rtpengine: { ng: `${rtpengine.host}:${rtpengine.ngPort}` } }, true);
    try {
      const r = await listen(two.admin);
      assert.equal(r.status, 409);
      assert.match(r.body.error!, /^rtpengine refused "query": Unknown call-id/i);
      assert.equal((await rtpengine.ng.request('list')).calls?.toString() ?? '', '', 'no call made at rtpengine');
    } finally {
      await two.t.stop();
    }
  });
});

describe('listen-in: reading rtpengine', () => {
  it('tells the kiosk side (plain RTP) from the desk side (WebRTC), leaving listeners out', () => {
    const tags = {
      k: { tag: 'k', subscriptions: [{ tag: 'd', type: 'offer/answer' }], medias: [{ protocol: 'RTP/AVP' }] },
      d: { tag: 'd', subscriptions: [{ tag: 'k', type: 'offer/answer' }], medias: [{ protocol: 'RTP/SAVPF' }] },
      l: { tag: 'l', subscriptions: [{ tag: 'k', type: 'pub/sub' }], medias: [{ protocol: 'UDP/TLS/RTP/SAVPF' }] },
    };
    assert.deepEqual(sidesOf({ result: 'ok', tags }), { kiosk: 'k', desk: 'd' });
    // Two plain phones (no browser desk): not a call to listen to here.
    assert.equal(sidesOf({ result: 'ok', tags: { k: tags.k, x: { ...tags.k, tag: 'x' } } }), undefined);
  });

  it('gives each stream its own mid and marks the offer ice-lite', () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 1 UDP/TLS/RTP/SAVPF 9\r\na=mid:1\r\na=sendonly\r\nm=audio 2 UDP/TLS/RTP/SAVPF 9\r\na=mid:1\r\na=sendonly\r\n';
    const out = browserOffer(sdp);
    assert.deepEqual(out.match(/^a=mid:.*$/gm), ['a=mid:0', 'a=mid:1']);
    assert.equal(out.match(/^a=ice-lite$/gm)?.length, 1);
    assert.ok(out.indexOf('a=ice-lite') < out.indexOf('m=audio'));
  });
});
