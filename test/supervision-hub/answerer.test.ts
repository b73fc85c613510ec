// The hub's test answerer against a contract caller (real SIP and RTP on
// loopback, the hub in process on PGlite): a full test call passes every step
// and the answerer's record is stored; calls without the test header are
// refused; no tone from the kiosk -> audio-out=fail; nothing listening -> the
// INVITE step fails.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startHub, type TestHub } from '../hub/harness.js';
import { ContractCaller, newTestId } from '../helpers/test-caller.js';

describe('supervision at the hub: the test answerer', function () {
  this.timeout(60_000);
  let t: TestHub;
  let caller: ContractCaller;
  let target: string;

  before(async () => {
    t = await startHub({ patch: (c) => (c.supervision = { answerer: { localHost: '127.0.0.1', toneTimeoutMs: 3000 } } as never) });
    caller = new ContractCaller();
    await caller.start();
    const a = t.hub.ctx!.supervision!.answerer!;
    assert.ok(a.ready, 'the answerer is listening');
    target = a.directUri;
  });
  after(async () => {
    await caller?.stop();
    await t?.stop();
  });

  const answerOf = async (testId: string) => {
    for (let i = 0; i < 100; i++) {
      const a = await t.hub.storage.supervision.answer(testId);
      if (a) return a;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no answerer record for ${testId}`);
  };

  it('passes a contract test call: every step, and records what it observed', async () => {
    const r = await caller.test(target, 'plat-1');
    assert.deepEqual(
      r.steps.map((s) => [s.step, s.ok]),
      [['registered', true], ['invite', true], ['audio-out', true], ['audio-in', true], ['dtmf', true], ['cleared', true]],
      JSON.stringify(r.steps),
    );
    assert.equal(r.passed, true);
    const a = await answerOf(r.testId);
    assert.equal(a.kiosk, 'plat-1');
    assert.equal(a.toneHeard, true);
    assert.ok(a.toneMs !== null && a.toneMs >= 300, `tone detected after >= 300 ms of it (${a.toneMs})`);
    assert.equal(a.infoSent, 'audio-out=ok');
    assert.equal(a.dtmfReceived, true);
    assert.equal(a.dtmfSent, true);
    assert.equal(a.endReason, 'remote hung up');
    const stats = t.hub.ctx!.supervision!.answerer!.stats;
    assert.equal(stats.refused, 0);
  });

  it('answers only test calls: no X-Helppoint-Test -> 403, a malformed one -> 400, and no record', async () => {
    const plain = await caller.test(target, 'plat-1', { headers: ['X-Helppoint-Kiosk: plat-1'] });
    assert.equal(plain.failedStep, 'invite');
    assert.equal(plain.refusedWith, 403);
    const bad = await caller.test(target, 'plat-1', { headers: ['X-Helppoint-Test: plat-2-t-abc-12ab', 'X-Helppoint-Kiosk: plat-1'] });
    assert.equal(bad.refusedWith, 400, 'a testId of another kiosk than the one named is refused');
    assert.equal(await t.hub.storage.supervision.answer('plat-2-t-abc-12ab'), undefined);
  });

  it('no tone from the kiosk: audio-out=fail after the tone timeout, the rest of the call still works', async () => {
    const r = await caller.test(target, 'plat-2', { sendTone: false });
    assert.equal(r.failedStep, 'audio-out');
    assert.equal(r.steps.find((s) => s.step === 'audio-out')!.detail, 'audio-out=fail');
    assert.equal(r.steps.find((s) => s.step === 'audio-in')!.ok, true);
    const a = await answerOf(r.testId);
    assert.equal(a.toneHeard, false);
    assert.equal(a.infoSent, 'audio-out=fail');
  });

  it('answerer unreachable: the INVITE step fails and the later call steps are skipped', async () => {
    // A bound UDP port that never answers: the INVITE goes nowhere.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = (sock.address() as { port: number }).port;
    try {
      const r = await caller.test(`sip:test-answerer@127.0.0.1:${port}`, 'plat-1', { testId: newTestId('plat-1'), timeoutMs: 2000 });
      assert.equal(r.failedStep, 'invite');
      for (const s of ['audio-out', 'audio-in', 'dtmf', 'cleared']) assert.equal(r.steps.find((x) => x.step === s)!.detail, 'skipped: invite failed');
    } finally {
      sock.close();
    }
  });

  it('answers many test calls at once without refusing any', async () => {
    const n = 20;
    const rs = await Promise.all(Array.from({ length: n }, (_, i) => caller.test(target, `light-${i}`)));
    assert.deepEqual(rs.filter((r) => !r.passed).map((r) => `${r.kiosk}: ${r.failedStep} ${JSON.stringify(r.steps)}`), []);
    const stats = t.hub.ctx!.supervision!.answerer!.stats;
    assert.equal(stats.refused, 0);
    assert.ok(stats.maxActive >= 2, `calls overlapped (${stats.maxActive} at once)`);
  });
});
