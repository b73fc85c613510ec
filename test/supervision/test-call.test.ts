// The supervision test call against a contract answerer, with a real kiosk
// process: scheduled and on-demand tests, their verdict per step, the faults
// a failed test raises, and a press during a test call.
import { strict as assert } from 'node:assert';
import { stopAll } from '../../src/testbed/proc.js';
import { until } from '../helpers/tmp.js';
import { startAnswerer, type Answerer } from './answerer.js';
import { rig, STEP_ORDER } from './helpers.js';
import { FakeHub } from '../helpers/fake-hub.js';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startSipp } from '../../src/testbed/sipp.js';
import { freePort } from '../../src/testbed/ports.js';

const SIPP = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../sipp');
const sippLog = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('_errors.log') || f.endsWith('_messages.log'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8').slice(-2500))
    .join('\n');

const TOKEN = 'supervision-test-token-0123456789';

describe('supervision test call', function () {
  this.timeout(60_000);
  let answerer: Answerer | undefined;
  afterEach(async () => {
    await answerer?.stop();
    answerer = undefined;
    await stopAll();
  });

  it('a scheduled test (interval 10 s) passes against a contract answerer, with every step in order and the test headers', async () => {
    answerer = await startAnswerer();
    const r = await rig({ supervision: { intervalS: 10, jitterS: 0, target: answerer.uri } });
    const t = await r.waitTest(() => true, 'scheduled', 30_000);
    assert.equal(t.trigger, 'schedule');
    assert.deepEqual(t.steps.map((s) => s.step), STEP_ORDER);
    assert.equal(t.passed, true, JSON.stringify(t.steps, null, 1));
    assert.equal(t.failedStep, undefined);
    assert.match(t.testId, /^conc-north-t-[0-9a-z]+-[0-9a-f]{4}$/);
    assert.equal(t.intervalS, 10);
    assert.ok(t.next && Date.parse(t.next) > Date.parse(t.at), 'the next test is scheduled');
    // The acoustic loop really ran through the simulated room (not "not tested").
    const loop = t.steps.find((s) => s.step === 'acoustic-loop')!;
    assert.match(loop.detail, /1000 Hz heard/);
    assert.match(t.steps.find((s) => s.step === 'audio-in')!.detail, /2000 Hz heard/);
    assert.match(t.steps.find((s) => s.step === 'lamps')!.detail, /read back: lampYellow/);
    // The answerer saw a marked test call, heard our tone and our DTMF 1.
    const call = answerer.calls[0]!;
    assert.equal(call.headers['x-helppoint-test'], t.testId);
    assert.equal(call.headers['x-helppoint-kiosk'], 'conc-north');
    assert.equal(call.heardKioskTone, true);
    assert.equal(call.gotDigit1, true);
    assert.equal(call.endReason, 'remote hung up');
    assert.ok(!(await r.faults()).some((f) => f.code === 'test-failed'));
  });

  it('with the sim acoustic loop broken, a test from the hub fails at acoustic-loop and says so; test-failed and audio reach the hub within 10 s', async () => {
    answerer = await startAnswerer();
    const hub = await FakeHub.start({ [TOKEN]: 'conc-north' });
    try {
      const r = await rig({ supervision: { enabled: false, target: answerer.uri }, hub: { url: hub.url, token: TOKEN, heartbeatS: 5 } });
      await until(() => hub.online('conc-north'), 15_000, 'kiosk online');
      assert.equal((await r.post('sim/acoustic', { broken: true })).status, 200);
      const id = hub.command('conc-north', 'supervision.test');
      const result = await hub.commandResult(id, 30_000);
      // The verdict, as the hub received it.
      const t = (await hub.waitEvent('supervision.test', (d) => d.trigger === 'hub', 10_000)).data;
      assert.equal(t.passed, false);
      assert.equal(t.failedStep, 'acoustic-loop');
      assert.equal(result.ok, false, 'the command result is the verdict');
      assert.match(result.error ?? '', new RegExp(`test ${t.testId} failed at acoustic-loop: not heard twice: 1000 Hz not heard`));
      // The call steps passed: the fault is local.
      assert.ok(t.steps.filter((s: any) => STEP_ORDER.indexOf(s.step) < 6).every((s: any) => s.ok), JSON.stringify(t.steps));
      const verdictAt = Date.parse(t.at);
      const raised = await hub.waitEvent('fault.raised', (d) => d.code === 'test-failed', 10_000);
      assert.match(raised.data.detail, /^acoustic-loop: not heard twice: 1000 Hz not heard/);
      await hub.waitEvent('fault.raised', (d) => d.code === 'audio' && /acoustic loop/.test(d.detail), 10_000);
      const frame = hub.frames.find((f) => f.msg.type === 'events' && (f.msg as any).batch.some((e: any) => e.type === 'fault.raised' && e.data.code === 'test-failed'))!;
      assert.ok(frame.at - verdictAt < 10_000, `fault at the hub ${frame.at - verdictAt} ms after the verdict`);
      // Mended: the next test passes and clears both faults.
      await r.post('sim/acoustic', { broken: false });
      const again = await r.runTest();
      assert.equal(again.body.passed, true, JSON.stringify(again.body.steps));
      await hub.waitEvent('fault.cleared', (d) => d.code === 'test-failed', 10_000);
      await hub.waitEvent('fault.cleared', (d) => d.code === 'audio', 10_000);
    } finally {
      await hub.stop();
    }
  });

  it('with the answerer unreachable, the test fails at invite (the later call steps skipped) and raises test-failed', async () => {
    const r = await rig({ supervision: { enabled: false, target: 'sip:test-answerer@127.0.0.1:9', answerTimeoutMs: 3000 } });
    const res = await r.runTest();
    assert.equal(res.status, 200);
    const t = res.body;
    assert.equal(t.passed, false);
    assert.equal(t.failedStep, 'invite');
    assert.deepEqual(t.steps.map((s: any) => s.step), STEP_ORDER);
    for (const s of t.steps.slice(2, 6)) assert.equal(s.detail, 'skipped: invite failed');
    const f = await until(async () => (await r.faults()).find((x) => x.code === 'test-failed'), 5000, 'test-failed fault');
    assert.match(f.detail, /^invite: sip:test-answerer@127\.0\.0\.1:9/);
    // The fault lamp follows.
    const state = (await (await fetch(r.kiosk.url + 'sim/state')).json()) as { outputs: Record<string, boolean> };
    assert.equal(state.outputs.lampFault, true);
  });

  it('a press during a test call ends the test at once (interrupted, not a fault) and the alarm INVITE reaches the desk within 1 s', async () => {
    answerer = await startAnswerer({ noInfo: true }); // keeps the call up: the test waits for its report
    const desk = dgram.createSocket('udp4');
    await new Promise<void>((res) => desk.bind(0, '127.0.0.1', () => res()));
    const invites: number[] = [];
    desk.on('message', (m) => {
      if (m.toString().startsWith('INVITE ') && !invites.length) invites.push(Date.now());
    });
    try {
      const deskUri = `sip:desk@127.0.0.1:${desk.address().port}`;
      const r = await rig({ supervision: { enabled: false, target: answerer.uri, toneTimeoutMs: 20_000 }, sip: { targets: { emergency: [{ uri: deskUri }], information: [{ uri: deskUri }] } } });
      const pending = r.runTest();
      await until(() => answerer!.calls[0]?.establishedAt, 10_000, 'test call established');
      const pressedAt = Date.now();
      await r.post('sim/press', { input: 'emergency', ms: 60 });
      const res = await pending;
      await until(() => invites[0], 5000, 'alarm INVITE at the desk');
      const t = res.body;
      assert.equal(t.passed, false);
      assert.equal(t.failedStep, 'interrupted');
      assert.match(t.steps.find((s: any) => s.step === 'audio-out').detail, /^skipped: interrupted/);
      assert.ok(invites[0]! - pressedAt < 1000, `alarm INVITE ${invites[0]! - pressedAt} ms after the press`);
      await until(() => answerer!.calls[0]!.endedAt, 5000, 'the test call ended');
      assert.ok(!(await r.faults()).some((f) => f.code === 'test-failed'), 'an interrupted test is not a fault');
      await until(() => r.events().some((e) => e.type === 'alarm.state' && e.data.state === 'calling'), 5000, 'the alarm proceeds');
    } finally {
      desk.close();
    }
  });

  for (const trusted of [true, false]) {
    it(trusted
      ? 'a trusted incoming call (a desk calling back) during a test call ends the test (interrupted, not a fault) and is answered'
      : 'an untrusted incoming call during a test call gets 486 and the test goes on', async () => {
      answerer = await startAnswerer({ noInfo: true }); // keeps the call up: the test waits for its report
      const deskPort = await freePort();
      const r = await rig({
        supervision: { enabled: false, target: answerer.uri, toneTimeoutMs: 4000 },
        // trusted by its address and port (sip.trustedSources); the answerer on another port is not
        sip: { autoAnswerFrom: ['desk@127.0.0.1'], trustedSources: trusted ? [`127.0.0.1:${deskPort}`] : [] },
      });
      const sipPort = ((await (await fetch(r.kiosk.url + 'health')).json()) as { sipPort: number }).sipPort;
      const pending = r.runTest();
      await until(() => answerer!.calls[0]?.establishedAt, 10_000, 'test call established');
      const caller = await startSipp({
        scenario: path.join(SIPP, trusted ? 'caller-autoanswer.xml' : 'caller-gets-busy.xml'),
        port: deskPort,
        args: [`127.0.0.1:${sipPort}`, '-s', 'desk', '-set', 'kiosk', 'conc-north', '-m', '1', ...(trusted ? ['-rtp_echo'] : [])],
      });
      assert.equal(await caller.proc.exited, 0, sippLog(caller.dir));
      const t = (await pending).body;
      if (trusted) {
        assert.equal(t.failedStep, 'interrupted', JSON.stringify(t.steps));
        assert.match(t.steps.find((s: any) => s.step === 'audio-out').detail, /^skipped: interrupted/);
        await until(() => answerer!.calls[0]!.endedAt, 5000, 'the test call ended');
        // the journal is written in batches: wait for the caller's BYE to be on disk
        const states = () => r.events().filter((e) => e.type === 'call.state').map((e) => `${e.data.state}${e.data.incoming ? '(in)' : ''}`);
        await until(() => states().includes('ended(in)'), 5000, 'the incoming call ended');
        assert.deepEqual(states(), ['connected(in)', 'ended(in)']);
        assert.ok(!(await r.faults()).some((f) => f.code === 'test-failed'), 'an interrupted test is not a fault');
      } else {
        // not interrupted: the test ran to its own end (the answerer never reports, so audio-out fails on its timeout)
        assert.notEqual(t.failedStep, 'interrupted', JSON.stringify(t.steps));
        assert.equal(r.events().filter((e) => e.type === 'call.state').length, 0, 'no call for the stranger');
      }
    });
  }

  for (const [what, opts, step, detail] of [
    ['the answerer reports it did not hear the kiosk', { reportFail: true }, 'audio-out', /audio-out=fail/],
    ['the answerer sends no tone', { silent: true }, 'audio-in', /^2000 Hz not heard/],
    ['the answerer sends no DTMF back', { noDtmf: true }, 'dtmf', /no 2 back within 1000 ms/],
  ] as const) {
    it(`${what}: fails at ${step}, the later call steps skipped, the call cleared`, async () => {
      answerer = await startAnswerer(opts);
      const r = await rig({ supervision: { enabled: false, target: answerer.uri, toneTimeoutMs: 2000, dtmfTimeoutMs: 1000 } });
      const t = (await r.runTest()).body;
      assert.equal(t.failedStep, step, JSON.stringify(t.steps));
      const i = STEP_ORDER.indexOf(step);
      assert.match(t.steps[i].detail, detail);
      for (const s of t.steps.slice(i + 1, 6)) assert.equal(s.detail, `skipped: ${step} failed`);
      await until(() => answerer!.calls[0]?.endedAt, 5000, 'the test call ended');
    });
  }
});
