// Issue 16's hands-free bug, in a kiosk process: with the echo canceller on,
// the first call used to start the microphone and the hands-free chain (the
// canceller's reference tap kept the mixer on its clock) and nothing stopped
// them, so an idle kiosk after a call paid for them. Now a call leases the
// chain for its length: after each call the microphone and the chain are
// stopped and the mixer leaves its clock, and the next call (also one started
// right after a reset, while the previous call is tearing down) has audio both
// ways with the canceller on. The desk is the supervision test answerer taking
// plain calls: it listens for the kiosk's talker (600 Hz, in the simulated
// room) and sends 2000 Hz, which the kiosk's loudspeaker (a file) must carry.
// Noise suppression is off here: it rightly learns a steady tone as the room's
// noise within a few seconds and takes it out in the next call (the canceller
// and its residual echo suppression stay on).
import { strict as assert } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { stopAll } from '../../src/testbed/proc.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { makeTone } from '../intercom/sox.js';
import { startAnswerer, type Answerer } from '../supervision/answerer.js';
import { rig, type Rig } from '../supervision/helpers.js';

const RATE = 16000;

/** Share of a segment's power at `hz` (Goertzel over 20 ms blocks), 0..1. */
function toneShare(s: Int16Array, hz: number): number {
  const N = RATE / 50;
  const k = 2 * Math.cos((2 * Math.PI * hz) / RATE);
  let tone = 0;
  let total = 0;
  for (let b = 0; b + N <= s.length; b += N) {
    let s1 = 0;
    let s2 = 0;
    let e = 0;
    for (let i = 0; i < N; i++) {
      const x = s[b + i]!;
      const s0 = x + k * s1 - s2;
      s2 = s1;
      s1 = s0;
      e += x * x;
    }
    tone += ((s1 * s1 + s2 * s2 - k * s1 * s2) * 2) / N;
    total += e;
  }
  return total ? tone / total : 0;
}

interface PaStatus {
  mixer: { awake: boolean };
  microphone?: { handsFree: string[]; raw: string[] };
}

describe('hands-free chain after a call (kiosk process, canceller on)', function () {
  this.timeout(120_000);
  let answerer: Answerer | undefined;
  afterEach(async () => {
    await answerer?.stop();
    answerer = undefined;
    await stopAll();
  });

  it('stops the microphone and the chain after each call; the next calls (one right after a reset) have audio both ways', async () => {
    answerer = await startAnswerer({ acceptAll: 600, replyHz: 2000 });
    const dir = tmpDir('hp-idle-call-');
    const talker = makeTone(path.join(dir, 'talker-600.wav'), 600, 120, RATE, 0.05);
    const speakerFile = path.join(dir, 'speaker.raw');
    const r: Rig = await rig({
      audio: { input: { source: 'room', file: talker }, output: { sink: 'file', file: speakerFile, rate: RATE }, handsFree: { mode: 'aec', noiseSuppression: false } },
      supervision: { enabled: false, target: answerer.uri },
      sip: { targets: { emergency: [{ uri: answerer.uri, ringTimeoutS: 10 }], information: [{ uri: answerer.uri }] } },
    });
    const pa = async () => (await (await fetch(r.kiosk.url + 'pa')).json()) as PaStatus;
    const health = async () => (await (await fetch(r.kiosk.url + 'health')).json()) as { alarm: unknown; call: unknown };
    const idle = async (what: string) => {
      const s = await until(async () => {
        const p = await pa();
        return !p.mixer.awake && p.microphone?.handsFree.length === 0 && p.microphone.raw.length === 0 ? p : undefined;
      }, 5000, `${what}: microphone and hands-free chain stopped, mixer off its clock`).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await pa())}`);
      });
      return s;
    };
    const bytes = () => statSync(speakerFile).size;

    const hfStatus = await until(() => r.events().find((e) => e.type === 'audio.handsFree'), 10_000, 'hands-free status').catch(() => undefined);
    const running = hfStatus?.data?.running ?? /"handsFree":\{"mode":"aec","running":"(\w+)"/.exec(r.kiosk.proc.output())?.[1];
    assert.equal(running, 'aec', 'the canceller runs');
    await idle('before the first call');

    /** One alarm call: the desk hears the kiosk's talker, the kiosk's loudspeaker carries the desk's tone. */
    const call = async (n: number, end: 'reset' | 'reset-and-press') => {
      await until(() => answerer!.calls[n]?.establishedAt, 10_000, `call ${n} answered`);
      const from = bytes();
      const during = await pa();
      assert.ok(during.microphone?.handsFree.some((u) => u.startsWith('call-')), `call ${n} holds the chain: ${JSON.stringify(during.microphone)}`);
      await until(() => answerer!.calls[n]!.heardKioskTone, 6000, `the desk hears the kiosk's microphone on call ${n}`);
      await new Promise((res) => setTimeout(res, 1000));
      const seg = readFileSync(speakerFile).subarray(from & ~1);
      const played = new Int16Array(seg.buffer, seg.byteOffset, seg.length >> 1);
      const share = toneShare(played, 2000);
      assert.ok(share > 0.5, `call ${n}: the loudspeaker carries the desk's 2000 Hz (share ${share.toFixed(2)} of ${played.length} samples)`);
      await r.post('sim/press', { input: 'reset', ms: 100 });
      // the next alarm as soon as the kiosk takes one (the alarm reset), while this call's media may still be torn
      // down (the exact stop/start race is in leases.test.ts)
      if (end === 'reset-and-press') {
        await until(async () => !(await health()).alarm, 10_000, `alarm ${n} reset`);
        await r.post('sim/press', { input: 'emergency', ms: 60 });
      }
    };

    await r.post('sim/press', { input: 'emergency', ms: 60 });
    await call(0, 'reset');
    await until(async () => !(await health()).call && !(await health()).alarm, 10_000, 'first call over');
    await idle('after the first call');

    await r.post('sim/press', { input: 'emergency', ms: 60 });
    await call(1, 'reset-and-press');
    await call(2, 'reset');
    await until(async () => !(await health()).call && !(await health()).alarm, 10_000, 'third call over');
    await idle('after the third call');
  });

  it('a microphone that fails to start in a call still raises the audio fault, and the call goes on', async () => {
    answerer = await startAnswerer({ acceptAll: 600 });
    const r: Rig = await rig({
      audio: { input: { source: 'alsa', device: 'hp-no-such-device' }, output: { sink: 'null', rate: RATE }, handsFree: { mode: 'aec' } },
      supervision: { enabled: false, target: answerer.uri },
      sip: { targets: { emergency: [{ uri: answerer.uri, ringTimeoutS: 10 }], information: [{ uri: answerer.uri }] } },
    });
    await new Promise((res) => setTimeout(res, 1000));
    assert.deepEqual((await r.faults()).filter((f) => f.code === 'audio'), [], 'idle: the microphone is not started, so no fault yet');
    await r.post('sim/press', { input: 'emergency', ms: 60 });
    await until(() => answerer!.calls[0]?.establishedAt, 10_000, 'call answered');
    const fault = await until(async () => (await r.faults()).find((f) => f.code === 'audio' && /microphone/.test(f.detail)), 10_000, 'the audio fault for the microphone');
    assert.match(fault.detail, /hp-no-such-device/);
  });

  it('adaptive volume keeps the raw microphone while idle (and after a call), never the hands-free chain', async () => {
    answerer = await startAnswerer({ acceptAll: 600 });
    const dir = tmpDir('hp-idle-adaptive-');
    const talker = makeTone(path.join(dir, 'talker-600.wav'), 600, 60, 8000, 0.05);
    const r: Rig = await rig({
      audio: { input: { source: 'file', file: talker }, output: { sink: 'null', rate: RATE }, handsFree: { mode: 'aec' } },
      pa: { volume: { adaptive: { min: 0.3, max: 0.9 } } },
      supervision: { enabled: false, target: answerer.uri },
      sip: { targets: { emergency: [{ uri: answerer.uri, ringTimeoutS: 10 }], information: [{ uri: answerer.uri }] } },
    });
    const pa = async () => (await (await fetch(r.kiosk.url + 'pa')).json()) as PaStatus & { ambientDbfs?: number };
    const held = (what: string) =>
      until(async () => {
        const p = await pa();
        return p.microphone?.handsFree.length === 0 && p.microphone.raw.join() === 'adaptive-volume' && p.ambientDbfs !== undefined ? p : undefined;
      }, 5000, what).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(await pa())}`);
      });
    await held('idle: adaptive volume holds the raw microphone and measures');
    await r.post('sim/press', { input: 'emergency', ms: 60 });
    await until(() => answerer!.calls[0]?.establishedAt, 10_000, 'call answered');
    await until(() => answerer!.calls[0]!.heardKioskTone, 6000, "the desk hears the kiosk's microphone");
    await r.post('sim/press', { input: 'reset', ms: 100 });
    await until(async () => !((await (await fetch(r.kiosk.url + 'health')).json()) as { alarm: unknown }).alarm, 10_000, 'alarm reset');
    await held('after the call: the raw microphone still held by adaptive volume only');
  });
});
