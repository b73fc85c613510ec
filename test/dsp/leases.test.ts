// The microphone and the hands-free chain run only while a user holds a
// lease: a call's lease ends with the call, and then nothing of the chain
// runs (no raw source, no reference tap on the mixer, which would keep the
// mixer on its clock). A call that starts while the previous call's chain is
// stopping gets a running chain; a source that fails to start is reported.
import { strict as assert } from 'node:assert';
import { HandsFreeInput } from '../../src/dsp/handsfree.js';
import { SharedInput } from '../../src/audio/shared-input.js';
import { RoomInput } from '../../src/audio/input/room.js';
import type { AudioInput, FrameTimeListener } from '../../src/audio/types.js';
import { FRAME, RATE, Tap, handsFreeConfig } from './fakes.js';

const config = handsFreeConfig;

/** A source that counts starts and stops; stop (or start) can be made slow or failing. */
class Source implements AudioInput {
  readonly rate = RATE;
  starts = 0;
  stops = 0;
  running = false;
  stopDelayMs = 0;
  failStart?: string;
  readonly ls = new Set<FrameTimeListener>();
  onFrame(l: FrameTimeListener) {
    this.ls.add(l);
    return () => this.ls.delete(l);
  }
  async start() {
    if (this.failStart) throw new Error(this.failStart);
    this.starts++;
    this.running = true;
  }
  async stop() {
    this.stops++;
    if (this.stopDelayMs) await new Promise((r) => setTimeout(r, this.stopDelayMs));
    this.running = false;
  }
}

function power(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return s / Math.max(1, to - from);
}

describe('microphone leases (hands-free chain per user)', () => {
  it('aec: the raw source and the reference tap run from the first lease to the last release only', async () => {
    const tap = new Tap();
    const room = new RoomInput(tap, {});
    const hf = new HandsFreeInput(new SharedInput(room), tap, config({ mode: 'aec' }));
    assert.equal(hf.check().running, 'aec');
    assert.equal(tap.ls.size, 0, 'idle: nothing listens to the mixer');
    const call = hf.acquire('call-1');
    await call.ready;
    assert.equal(tap.ls.size, 2, 'in a call: the room (the sim microphone) and the canceller reference');
    const other = hf.raw.acquire('supervision');
    await other.ready;
    await call.release();
    assert.equal(hf.started, false);
    assert.deepEqual(hf.users(), []);
    assert.deepEqual(hf.raw.users(), ['supervision']);
    assert.equal(tap.ls.size, 1, 'the raw microphone still runs for supervision, the canceller does not');
    await other.release();
    assert.equal(tap.ls.size, 0, 'after the last user: nothing listens to the mixer (it may leave its clock)');
    hf.close();
  });

  it('two users: the chain stops only when both let go; off mode never taps the mixer', async () => {
    const tap = new Tap();
    const src = new Source();
    const hf = new HandsFreeInput(src, tap, config({ mode: 'off' }));
    const a = hf.acquire('a');
    const b = hf.acquire('b');
    await Promise.all([a.ready, b.ready]);
    assert.equal(tap.ls.size, 0);
    await a.release();
    await a.release(); // idempotent
    assert.equal(src.running, true, 'b still holds it');
    await b.release();
    assert.deepEqual([src.starts, src.stops, src.running], [1, 1, false]);
    // start()/stop() of a single owner: one lease of its own
    await hf.start();
    await hf.start();
    assert.deepEqual(hf.users(), ['owner']);
    await hf.stop();
    assert.deepEqual([src.starts, src.stops, src.running], [2, 2, false]);
  });

  it('a call starting while the previous chain is stopping gets a running microphone and reference', async () => {
    const tap = new Tap();
    const src = new Source();
    src.stopDelayMs = 30;
    const hf = new HandsFreeInput(src, tap, config({ mode: 'aec' }));
    const first = hf.acquire('call-1');
    await first.ready;
    const stopping = first.release(); // the stop is in progress (slow source)
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(src.stops, 1, 'stop under way');
    const second = hf.acquire('call-2');
    await Promise.all([stopping, second.ready]);
    assert.equal(src.running, true, 'the new call has a microphone');
    assert.deepEqual([src.starts, src.stops], [2, 1], 'stopped once, then started again: never stopped after the new start');
    assert.equal(tap.ls.size, 1, 'the canceller taps the mixer for the new call');
    // and released at once, with no await between: still ends stopped
    const third = hf.acquire('call-3');
    void second.release();
    void third.release();
    await hf.acquire('probe').release();
    assert.equal(src.running, false);
    assert.equal(tap.ls.size, 0);
    hf.close();
  });

  it('a source that fails to start is reported (the audio fault) and the next lease tries again', async () => {
    const errors: string[] = [];
    const src = new Source();
    src.failStart = 'arecord: no such device';
    const hf = new HandsFreeInput(new SharedInput(src, (m) => errors.push(m)), new Tap(), config({ mode: 'aec' }));
    const call = hf.acquire('call-1');
    await assert.rejects(call.ready, /no such device/);
    assert.deepEqual(errors, ['microphone: arecord: no such device']);
    assert.equal(hf.started, false);
    await call.release();
    src.failStart = undefined;
    const next = hf.acquire('call-2');
    await next.ready;
    assert.equal(src.running, true);
    await next.release();
    hf.close();
  });

  it('aec: a second call cancels its echo from its first frames on (the reference is taken anew)', async function () {
    const tap = new Tap();
    const room = new RoomInput(tap, {});
    const hf = new HandsFreeInput(new SharedInput(room), tap, config({ mode: 'aec' }));
    if (hf.check().running !== 'aec') this.skip();
    // noise-like far end (the desk talking), 3 s per call, the calls 5 s apart on the mixer's timeline
    let seed = 1;
    const far = new Int16Array(RATE * 3);
    for (let i = 0; i < far.length; i++) far[i] = Math.round(((((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1) * 6000));
    const callOnce = async (startMs: number) => {
      const heard: number[] = [];
      const sent: number[] = [];
      const offH = hf.raw.onFrame((s) => heard.push(...s));
      const offS = hf.onFrame((s) => sent.push(...s));
      const lease = hf.acquire('call');
      await lease.ready;
      const buf = new Int16Array(FRAME);
      for (let i = 0; i + FRAME <= far.length; i += FRAME) {
        buf.set(far.subarray(i, i + FRAME));
        tap.play(buf, startMs + (i / RATE) * 1000);
      }
      await lease.release();
      offH();
      offS();
      return { heard, sent };
    };
    await callOnce(1000);
    assert.equal(tap.ls.size, 0);
    const { heard, sent } = await callOnce(8000);
    assert.ok(sent.length > RATE * 2, `frames sent in the second call: ${sent.length}`);
    // the last 1 s of the second call: the canceller works (it had its reference from the first frame on)
    const from = sent.length - RATE;
    const erle = 10 * Math.log10(power(heard, from, heard.length) / Math.max(1, power(sent, from, sent.length)));
    assert.ok(erle >= 15, `second call ERLE ${erle.toFixed(1)} dB`);
    hf.close();
  });
});
