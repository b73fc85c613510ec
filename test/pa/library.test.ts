// The message library and receipts through a real hub (in this process) and
// light kiosks on real WebSockets: a draft cannot play until a second user
// with the pa.approve right approves it; an approved message plays to a zone
// and every kiosk's receipt reaches the console's live feed; at a time,
// repeated, cancelled; offline and refusing kiosks fail with the reason.
import { strict as assert } from 'node:assert';
import type { Hub } from '../../src/hub/app.js';
import { parseWav } from '../../src/audio/wav.js';
import { consoleLogin, type ConsoleSession } from '../helpers/console.js';
import { sleep, until } from '../helpers/tmp.js';
import { feed, lightKiosk, startHub, ZONE_A, ZONE_B, type LightKiosk } from './helpers.js';

describe('PA message library, approval and receipts (hub, light kiosks)', function () {
  this.timeout(60_000);
  let hub: Hub;
  let base: string;
  let dispatcher: ConsoleSession;
  let supervisor: ConsoleSession;
  let facilities: ConsoleSession;
  const kiosks: LightKiosk[] = [];

  before(async () => {
    ({ hub, base } = await startHub());
    dispatcher = await consoleLogin(base, 'dispatcher', 'dispatcher-demo');
    supervisor = await consoleLogin(base, 'supervisor', 'supervisor-demo');
    facilities = await consoleLogin(base, 'facilities', 'facilities-demo');
    for (const id of [...ZONE_A, ...ZONE_B.slice(0, 2)]) kiosks.push(await lightKiosk(base, id, { playMs: 300 }));
  });
  after(async () => {
    for (const k of kiosks) k.close();
    await hub?.stop();
  });

  async function draft(s: ConsoleSession, name: string, level?: string) {
    const r = await s.post('/api/pa/messages', { name, text: { en: `${name}: please keep clear of the platform edge.`, 'zh-CN': '请远离站台边缘。' }, ...(level ? { level } : {}) });
    assert.equal(r.status, 201, await r.clone().text());
    return (await r.json()) as { id: string; version: number; state: string };
  }

  it('a draft plays only after a second user with the approval right approves it', async () => {
    const m = await draft(dispatcher, 'Platform edge');
    assert.equal(m.state, 'draft');
    // Audio: spoken at the hub by espeak-ng, marked synthetic, composed zh-CN then en.
    const s = await dispatcher.post(`/api/pa/messages/${m.id}/synthesise`, {});
    assert.equal(s.status, 200, await s.clone().text());
    const withAudio = (await s.json()) as { audio: Record<string, { synthetic: boolean; sha256: string }>; clip: { sha256: string; seconds: number } };
    assert.equal(withAudio.audio.en!.synthetic, true);
    assert.equal(withAudio.audio['zh-CN']!.synthetic, true);
    assert.ok(withAudio.clip.seconds > 2, JSON.stringify(withAudio.clip));
    const clip = parseWav(hub.ctx!.clips.get(withAudio.clip.sha256)!);
    assert.equal(clip.rate, 16000);

    // Not approved: it cannot be played.
    const early = await dispatcher.post('/api/pa/plays', { message: m.id, zones: ['concourse'] });
    assert.equal(early.status, 409);
    assert.match((await early.json()).error, /approve/);
    // The dispatcher has no approval right; the facilities role may not either.
    assert.equal((await dispatcher.post(`/api/pa/messages/${m.id}/approve`, { version: 1 })).status, 403);
    assert.equal((await facilities.post(`/api/pa/messages/${m.id}/approve`, { version: 1 })).status, 403);
    // A second user with the right approves.
    const ok = await supervisor.post(`/api/pa/messages/${m.id}/approve`, { version: 1 });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(((await ok.json()) as { approvedBy: string }).approvedBy, 'supervisor');

    // Played to zone A: every kiosk of A, none of B; each receipt finished, live on the feed.
    const live = await feed(base, dispatcher.cookie);
    const p = await dispatcher.post('/api/pa/plays', { message: m.id, zones: ['concourse'] });
    assert.equal(p.status, 201, await p.clone().text());
    const action = await until(async () => (await dispatcher.json<{ id: string; messageId: string }[]>('/api/pa/actions')).find((a) => a.messageId === m.id), 5000, 'the action');
    const done = await live.wait((e) => e.event === 'receipts' && e.data.action === action.id && e.data.counts.finished === 3, 10_000, 'three finished receipts');
    assert.equal(done.data.counts.total, 3);
    live.close();
    const report = await dispatcher.json<{ receipts: { kiosk: string; state: string; deliveredAt: string; startedAt: string; endedAt: string }[] }>(`/api/pa/actions/${action.id}`);
    assert.deepEqual(report.receipts.map((r) => r.kiosk).sort(), [...ZONE_A].sort());
    for (const r of report.receipts) assert.ok(r.state === 'finished' && r.deliveredAt && r.startedAt && r.endedAt, JSON.stringify(r));
    for (const k of kiosks) {
      const got = k.commands.filter((c) => c.id === action.id);
      assert.equal(got.length, ZONE_A.includes(k.id) ? 1 : 0, `${k.id} got ${got.length}`);
      if (got[0]) {
        assert.equal(got[0].args.clip.sha256, withAudio.clip.sha256);
        assert.deepEqual(got[0].args.text, { en: 'Platform edge: please keep clear of the platform edge.', 'zh-CN': '请远离站台边缘。' });
        assert.ok(got[0].args.startAt > Date.now() - 10_000, 'a synchronised start on the hub clock');
      }
    }
  });

  it('the author cannot approve their own draft, even with the right; a changed approved wording is a new draft', async () => {
    const m = await draft(supervisor, 'Lift out of order');
    await supervisor.post(`/api/pa/messages/${m.id}/synthesise`, {});
    const own = await supervisor.post(`/api/pa/messages/${m.id}/approve`, { version: 1 });
    assert.equal(own.status, 403);
    assert.match((await own.json()).error, /second user/);
    const admin = await consoleLogin(base, 'admin', 'admin-demo');
    assert.equal((await admin.post(`/api/pa/messages/${m.id}/approve`, { version: 1 })).status, 200);
    // The approved wording is changed: version 2 is a draft; version 1 still plays.
    const e = await supervisor.post(`/api/pa/messages/${m.id}`, { text: { en: 'The lift is out of order. Please use the stairs or ask staff.', 'zh-CN': '电梯暂停使用，请走楼梯或联系工作人员。' } });
    const v2 = (await e.json()) as { version: number; state: string; clip: unknown };
    assert.equal(v2.version, 2);
    assert.equal(v2.state, 'draft');
    assert.equal(v2.clip, null, 'new text needs new audio');
    const list = await dispatcher.json<{ latest: { version: number }; approved: { version: number } | null }[]>('/api/pa/messages');
    const entry = list.find((x) => x.latest.version === 2)!;
    assert.equal(entry.approved!.version, 1);
  });

  it('uploads a recording per language (not synthetic) and refuses what is not a WAV', async () => {
    const m = await draft(dispatcher, 'Recorded');
    const tone = (hz: number) => {
      const rate = 16000;
      const n = rate;
      const b = Buffer.alloc(44 + n * 2);
      b.write('RIFF', 0);
      b.writeUInt32LE(36 + n * 2, 4);
      b.write('WAVEfmt ', 8);
      b.writeUInt32LE(16, 16);
      b.writeUInt16LE(1, 20);
      b.writeUInt16LE(1, 22);
      b.writeUInt32LE(rate, 24);
      b.writeUInt32LE(rate * 2, 28);
      b.writeUInt16LE(2, 32);
      b.writeUInt16LE(16, 34);
      b.write('data', 36);
      b.writeUInt32LE(n * 2, 40);
      for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 8000), 44 + i * 2);
      return b;
    };
    const bad = await dispatcher.post(`/api/pa/messages/${m.id}/audio/en`, Buffer.from('not a wav at all'), { 'content-type': 'audio/wav' });
    assert.equal(bad.status, 400);
    const en = await dispatcher.post(`/api/pa/messages/${m.id}/audio/en`, tone(500), { 'content-type': 'audio/wav' });
    assert.equal(en.status, 200, await en.clone().text());
    assert.equal(((await en.json()) as { clip: unknown }).clip, null, 'one language is not enough');
    const zh = await dispatcher.post(`/api/pa/messages/${m.id}/audio/zh-CN`, tone(700), { 'content-type': 'audio/wav' });
    const row = (await zh.json()) as { audio: Record<string, { synthetic: boolean }>; clip: { seconds: number } };
    assert.equal(row.audio.en!.synthetic, false);
    assert.ok(Math.abs(row.clip.seconds - 2.3) < 0.05, `two 1 s recordings and a 0.3 s pause: ${row.clip.seconds}`);
  });

  it('plays at a time, repeats, and cancels; offline and refusing kiosks fail with the reason', async () => {
    const m = await draft(dispatcher, 'Repeated');
    await dispatcher.post(`/api/pa/messages/${m.id}/synthesise`, {});
    assert.equal((await supervisor.post(`/api/pa/messages/${m.id}/approve`, { version: 1 })).status, 200);
    // plat-3 is offline; plat-2 refuses (a kiosk answering with an error).
    kiosks.find((k) => k.id === 'plat-2')!.close();
    kiosks.push(await lightKiosk(base, 'plat-2', { refuse: 'PA is switched off here' }));
    await sleep(300);

    const at = new Date(Date.now() + 1500).toISOString();
    const p = (await (await dispatcher.post('/api/pa/plays', { message: m.id, zones: ['platforms'], at, everyS: 1, times: 2 })).json()) as { id: string };
    await sleep(500);
    assert.equal((await dispatcher.json<{ playId: string }[]>('/api/pa/actions')).filter((a) => a.playId === p.id).length, 0, 'not before its time');
    const actions = await until(async () => {
      const l = (await dispatcher.json<{ id: string; playId: string; counts: Record<string, number> }[]>('/api/pa/actions')).filter((a) => a.playId === p.id);
      return l.length === 2 && l.every((a) => a.counts.finished + a.counts.failed === 3) ? l : undefined;
    }, 10_000, 'two occurrences with final receipts');
    for (const a of actions) {
      const r = await dispatcher.json<{ receipts: { kiosk: string; state: string; reason: string }[] }>(`/api/pa/actions/${a.id}`);
      const by = Object.fromEntries(r.receipts.map((x) => [x.kiosk, x]));
      assert.equal(by['plat-1']!.state, 'finished', JSON.stringify(by['plat-1']));
      assert.deepEqual([by['plat-2']!.state, by['plat-2']!.reason], ['failed', 'PA is switched off here']);
      assert.deepEqual([by['plat-3']!.state, by['plat-3']!.reason], ['failed', 'offline']);
    }
    const plays = await dispatcher.json<{ id: string; state: string; fired: number }[]>('/api/pa/plays');
    assert.deepEqual(
      plays.filter((x) => x.id === p.id).map((x) => [x.state, x.fired]),
      [['done', 2]],
    );

    // Repeated until cancelled: the running one stops on the kiosks, nothing more is sent.
    const slow = kiosks.find((k) => k.id === 'conc-north')!;
    slow.close();
    kiosks.push(await lightKiosk(base, 'conc-north', { playMs: 60_000 }));
    await sleep(300);
    const q = (await (await dispatcher.post('/api/pa/plays', { message: m.id, kiosks: ['conc-north'], everyS: 2 })).json()) as { id: string };
    const first = await until(async () => (await dispatcher.json<{ id: string; playId: string; counts: Record<string, number> }[]>('/api/pa/actions')).find((a) => a.playId === q.id && a.counts.started === 1), 5000, 'started');
    const c = await dispatcher.post(`/api/pa/plays/${q.id}/cancel`, {});
    assert.equal(c.status, 200);
    await until(async () => (await dispatcher.json<{ receipts: { state: string }[] }>(`/api/pa/actions/${first.id}`)).receipts[0]!.state === 'stopped', 5000, 'stopped on the kiosk');
    await sleep(2500);
    assert.equal((await dispatcher.json<{ playId: string }[]>('/api/pa/actions')).filter((a) => a.playId === q.id).length, 1, 'nothing after the cancel');
  });

  it('keeps state-changing PA routes to dispatchers with the CSRF token', async () => {
    assert.equal((await facilities.post('/api/pa/messages', { name: 'x', text: { en: 'x' } })).status, 403);
    const noCsrf = await fetch(base + '/api/pa/messages', { method: 'POST', headers: { cookie: dispatcher.cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', text: { en: 'x' } }) });
    assert.equal(noCsrf.status, 403);
    assert.equal((await fetch(base + '/api/pa/stream')).status, 401);
  });
});
