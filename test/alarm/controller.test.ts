// The alarm controller in process, with its real journal on a real disk and a
// stand-in intercom that records what it is told: persistence comes before
// every event, the INVITE leaves once the journal's write returned (not
// waiting for its fdatasync), a disk that fails or hangs never holds the
// alarm, and the journal reads back what was written (a torn last line included).
import { strict as assert } from 'node:assert';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { Bus } from '../../src/core/bus.js';
import { Faults } from '../../src/health/faults.js';
import { AlarmController } from '../../src/alarm/controller.js';
import { AlarmJournal, type AlarmRecord } from '../../src/alarm/journal.js';
import type { AlarmCallListener, AlarmCallRequest, CallService } from '../../src/intercom/alarm-call.js';
import type { AlarmState } from '../../src/alarm/events.js';
import { testConfig } from '../io/harness.js';
import { tmpDir, until, sleep } from '../helpers/tmp.js';

/** Records what it is told; like the intercom, it "sends" the INVITE when the request's gate settles. */
class FakeCalls implements CallService {
  placed: { req: AlarmCallRequest; listener: AlarmCallListener; ended?: string; sentAt?: number; journalAtSend?: string }[] = [];
  constructor(private readonly journalFile: () => string) {}
  placeAlarmCall(req: AlarmCallRequest, listener: AlarmCallListener) {
    const entry: FakeCalls['placed'][number] = { req, listener };
    void (req.gate ?? Promise.resolve()).then(() => {
      entry.sentAt = Date.now();
      entry.journalAtSend = this.journalFile();
    });
    this.placed.push(entry);
    return { callId: req.callId, end: (reason: string) => void (entry.ended = reason) };
  }
}

function setup(opts: { journal?: Partial<AlarmJournal>; writeGateMs?: number } = {}) {
  const dir = tmpDir('hp-alarm-');
  const bus = new Bus();
  const faults = new Faults(bus);
  const config = testConfig();
  // The stand-in intercom reports no 100 Trying: the unreachable check is off here, except in its own tests.
  config.sip.targets.emergency = [
    { uri: 'sip:a@127.0.0.1:5071', ringTimeoutS: 30, unreachableAfterS: 0 },
    { uri: 'sip:b@127.0.0.1:5072', ringTimeoutS: 30, unreachableAfterS: 0 },
  ];
  const real = new AlarmJournal(dir);
  const journal = Object.assign(real, opts.journal ?? {});
  const read = () => {
    try {
      return readFileSync(real.file, 'utf8');
    } catch {
      return '';
    }
  };
  const calls = new FakeCalls(read);
  const states: { state: AlarmState; journal: string }[] = [];
  bus.on('alarm.state', (s) => states.push({ state: s, journal: read() }));
  const storeProblem = (detail: string | undefined) => (detail ? faults.raise('store', detail) : faults.clear('store'));
  const controller = new AlarmController({ bus, log: pino({ level: 'silent' }), config: () => config, faults, journal, storeProblem, calls: () => calls, writeGateMs: opts.writeGateMs });
  return { dir, bus, faults, config, journal: real, calls, states, controller, read };
}

describe('alarm controller (in process, real journal)', () => {
  it('persists every transition before its event; the calling transition is written before the INVITE may leave', async () => {
    // A bound the write always meets here (a loaded machine may take longer than the product's 20 ms): the order is the point.
    const t = setup({ writeGateMs: 10_000 });
    t.controller.start();
    t.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
    await until(() => t.calls.placed[0]?.sentAt, 2000, 'a call sent');
    for (const { state, journal } of t.states) assert.match(journal, new RegExp(`"alarmId":"${state.alarmId}"[^\\n]*"seq":${state.seq}[,}]`), `${state.state} emitted before it was on disk`);
    const callId = t.calls.placed[0]!.req.callId;
    assert.ok(t.calls.placed[0]!.journalAtSend!.includes(callId), 'the calling transition (with its call id) was written before the INVITE could leave');
    t.calls.placed[0]!.listener({ type: 'connected' });
    await until(() => t.states.some((s) => s.state.state === 'talking'), 2000, 'talking');
    t.calls.placed[0]!.listener({ type: 'dtmf', digits: '*5' });
    await until(() => t.states.some((s) => s.state.state === 'acknowledged'), 2000, 'acknowledged');
    for (const { state, journal } of t.states) assert.match(journal, new RegExp(`"alarmId":"${state.alarmId}"[^\\n]*"seq":${state.seq}[,}]`), `${state.state} emitted before it was on disk`);
    t.controller.stop();
  });

  it('the media handler builds the offer at once and hands it to sip.js only when the gate settles', async () => {
    const { RtpSessionDescriptionHandler } = await import('../../src/intercom/media/handler.js');
    const { createInput } = await import('../../src/audio/input/index.js');
    const { codecList } = await import('../../src/intercom/media/index.js');
    const sdh = new RtpSessionDescriptionHandler({ localHost: '127.0.0.1', codecs: codecList(['PCMU']), input: createInput({ source: 'silence', device: 'default' }, 8000), onEvent: () => {} });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let done = false;
    const offer = sdh.getDescription({ gate } as never).then((d) => ((done = true), d));
    await sleep(100);
    assert.equal(done, false, 'held by the gate');
    open();
    assert.match((await offer).body, /m=audio \d+ RTP\/AVP 0/);
    sdh.close();
  });

  it('a disk that refuses writes raises the store fault; the alarm goes on in memory', async () => {
    const t = setup({ journal: { append: () => Promise.reject(new Error('EROFS: read-only file system')) } });
    t.controller.start();
    t.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
    await until(() => t.calls.placed[0]?.sentAt, 2000, 'a call sent despite the disk');
    assert.deepEqual(t.faults.list().map((f) => f.code), ['store']);
    assert.match(t.faults.list()[0]!.detail, /EROFS/);
    assert.deepEqual(t.states.map((s) => s.state.state), ['raised', 'calling']);
    t.controller.stop();
  });

  it('a disk that hangs does not hold the INVITE; the transition is announced, with the store fault, after the persist timeout', async function () {
    this.timeout(10_000);
    const t = setup({ journal: { append: () => new Promise<void>(() => {}) } });
    t.controller.start();
    t.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
    await until(() => t.calls.placed[0]?.sentAt, 5000, 'a call sent despite the hung disk');
    assert.deepEqual(t.faults.list(), [], 'the INVITE left before the journal write was given up');
    assert.equal(t.states.length, 0, 'nothing announced before the write is on disk or given up');
    await until(() => t.faults.list().length, 5000, 'the store fault once the persist timeout passed');
    assert.deepEqual(t.faults.list().map((f) => f.code), ['store']);
    assert.match(t.faults.list()[0]!.detail, /no fsync within/);
    await until(() => t.states.length === 2, 2000, 'raised and calling announced');
    t.controller.stop();
  });

  it('the INVITE leaves once the write returned, while the fdatasync runs; the events wait for the fdatasync', async () => {
    let synced!: () => void;
    const t = setup({ writeGateMs: 10_000 });
    t.journal.append = (recs: AlarmRecord[], onWritten?: (err?: Error) => void) => {
      appendFileSync(t.journal.file, recs.map((r) => JSON.stringify(r) + '\n').join(''));
      onWritten?.();
      return new Promise<void>((r) => (synced = r)); // an fdatasync that takes its time
    };
    t.controller.start();
    t.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
    await until(() => t.calls.placed[0]?.sentAt, 2000, 'the INVITE sent during the fdatasync');
    assert.ok(t.calls.placed[0]!.journalAtSend!.includes(t.calls.placed[0]!.req.callId), 'written before the INVITE');
    await sleep(50);
    assert.equal(t.states.length, 0, 'no event before the fdatasync returned');
    synced();
    await until(() => t.states.length === 2, 2000, 'raised and calling announced after the fdatasync');
    assert.deepEqual(t.states.map((s) => s.state.state), ['raised', 'calling']);
    assert.deepEqual(t.faults.list(), []);
    t.controller.stop();
  });

  it('a journal write that fails during the call still raises the store fault, and the alarm goes on', async () => {
    const t = setup();
    t.controller.start();
    t.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
    await until(() => t.calls.placed[0]?.sentAt, 2000, 'a call sent');
    await until(() => t.states.length === 2, 2000, 'raised and calling');
    t.journal.append = () => Promise.reject(new Error('EIO: i/o error'));
    t.calls.placed[0]!.listener({ type: 'connected' });
    await until(() => t.faults.list().length, 2000, 'the store fault');
    assert.deepEqual(t.faults.list().map((f) => f.code), ['store']);
    assert.match(t.faults.list()[0]!.detail, /EIO/);
    await until(() => t.states.some((s) => s.state.state === 'talking'), 2000, 'talking, in memory');
    assert.equal(t.calls.placed[0]!.ended, undefined, 'the call goes on');
    t.controller.stop();
  });

  it('reads back the open alarm, newest record per alarm, and drops a torn last line', async () => {
    const t = setup();
    t.controller.start();
    t.bus.emit('call.requested', { kind: 'emergency', category: 'medical', source: 'screen' });
    await until(() => t.calls.placed.length === 1, 2000, 'placed');
    t.controller.stop();
    await t.journal.close();
    appendFileSync(t.journal.file, '{"alarmId":"x","state":"rese'); // a power cut in the middle of a write
    const again = new AlarmJournal(path.dirname(t.journal.file));
    const loaded = again.load();
    assert.equal(loaded.dropped, 1);
    assert.equal(loaded.open?.state, 'calling');
    assert.equal(loaded.open?.category, 'medical');
    assert.equal(loaded.open?.seq, 2);
    await again.compact();
    assert.ok(readFileSync(again.file, 'utf8').endsWith('}\n'), 'the torn tail is gone after compaction');
    const after = new AlarmJournal(path.dirname(t.journal.file)).load();
    assert.equal(after.dropped, 0);
    assert.equal((after.open as AlarmRecord).alarmId, loaded.open!.alarmId);
  });

  it('ignores what an abandoned attempt reports later (a late failure of the previous desk)', async () => {
    const t = setup();
    t.controller.start();
    t.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
    await until(() => t.calls.placed.length === 1, 2000, 'first call');
    t.calls.placed[0]!.listener({ type: 'ended', reason: '486 Busy Here', answered: false });
    await until(() => t.calls.placed.length === 2, 2000, 'second call');
    // The first desk's call reports again (a late 408 of a retransmission): nothing happens to the second.
    t.calls.placed[0]!.listener({ type: 'ended', reason: '408 Request Timeout', answered: false });
    t.calls.placed[0]!.listener({ type: 'connected' });
    await sleep(200);
    assert.equal(t.calls.placed.length, 2);
    assert.equal(t.calls.placed[1]!.ended, undefined);
    assert.deepEqual(t.states.map((s) => s.state.state), ['raised', 'calling', 'calling']);
    t.controller.stop();
  });

  describe('a target that shows no sign of life is given up before its ring timeout', () => {
    const placedReasons = (t: ReturnType<typeof setup>) => t.states.filter((s) => s.state.state === 'calling').map((s) => s.state.reason ?? '');
    it('a console desk that does not ring (only the SIP server\'s 100 Trying) is given up; one that rings is not', async () => {
      const t = setup();
      t.config.sip.targets.emergency = [
        { uri: 'desk:dead', ringTimeoutS: 30, unreachableAfterS: 0.3 },
        { uri: 'desk:alive', ringTimeoutS: 30, unreachableAfterS: 0.3 },
      ];
      t.controller.start();
      const t0 = Date.now();
      t.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
      await until(() => t.calls.placed[0], 2000, 'first attempt');
      t.calls.placed[0]!.listener({ type: 'trying' });
      await until(() => t.calls.placed[1], 5000, 'second attempt');
      const took = Date.now() - t0;
      assert.ok(took >= 300 && took < 5000, `moved on after ${took} ms, not the 30 s ring timeout`);
      assert.equal(t.calls.placed[0]!.ended, 'unreachable: the desk did not ring within 0.3 s', 'the dead desk\'s INVITE is cancelled');
      assert.equal(t.calls.placed[1]!.req.target, 'desk:alive');
      await until(() => placedReasons(t).length === 2, 2000, 'the second attempt announced');
      assert.match(placedReasons(t)[1]!, /unreachable: the desk did not ring within 0\.3 s/);
      t.calls.placed[1]!.listener({ type: 'trying' });
      t.calls.placed[1]!.listener({ type: 'ringing' });
      await sleep(700);
      assert.equal(t.calls.placed.length, 2, 'a desk that rings keeps its ring timeout');
      assert.equal(t.calls.placed[1]!.ended, undefined);
      t.controller.stop();
    });

    it('a SIP URI target counts any response (100 Trying) as alive; one that answers nothing is given up', async () => {
      const t = setup();
      t.config.sip.targets.emergency = [
        { uri: 'sip:silent@127.0.0.1:5071', ringTimeoutS: 30, unreachableAfterS: 0.3 },
        { uri: 'sip:proxy@127.0.0.1:5072', ringTimeoutS: 30, unreachableAfterS: 0.3 },
      ];
      t.controller.start();
      t.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
      await until(() => t.calls.placed[1], 5000, 'the silent target given up');
      assert.equal(t.calls.placed[0]!.ended, 'unreachable: no response within 0.3 s');
      t.calls.placed[1]!.listener({ type: 'trying' });
      await sleep(700);
      assert.equal(t.calls.placed.length, 2, 'a target that answered 100 Trying keeps its ring timeout');
      t.controller.stop();
    });

    it('0 leaves only the ring timeout', async () => {
      const t = setup();
      t.config.sip.targets.emergency = [{ uri: 'desk:quiet', ringTimeoutS: 30, unreachableAfterS: 0 }, { uri: 'desk:next', ringTimeoutS: 30, unreachableAfterS: 0 }];
      t.controller.start();
      t.bus.emit('call.requested', { kind: 'emergency', source: 'button' });
      await until(() => t.calls.placed[0], 2000, 'first attempt');
      await sleep(700);
      assert.equal(t.calls.placed.length, 1);
      t.controller.stop();
    });
  });
});
