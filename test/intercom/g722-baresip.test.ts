// Wideband calls: baresip offers G.722, the kiosk prefers it, and audio passes
// both ways through our own G.722 encoder and decoder.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { startBaresip } from '../../src/testbed/baresip.js';
import { stopAll } from '../../src/testbed/proc.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { callRig, targets } from './helpers.js';
import { makeTone, soxStat, soxStatFull } from './sox.js';

describe('intercom G.722 with baresip', function () {
  this.timeout(40_000);
  after(() => stopAll());

  it('negotiates G.722 and carries a 1 kHz tone out and a 3 kHz tone in', async () => {
    const dir = tmpDir('hp-g722-');
    const kioskWav = makeTone(path.join(dir, 'kiosk.wav'), 1000, 20, 16000);
    const deskWav = makeTone(path.join(dir, 'desk.wav'), 3000, 20, 16000, 0.25);
    const deskPhone = await startBaresip({ user: 'desk', sourceWav: deskWav });
    const capture = path.join(dir, 'out.raw');
    const rig = await callRig({
      ...targets([{ uri: deskPhone.uri }]),
      audio: { input: { source: 'file', file: kioskWav }, output: { sink: 'file', file: capture, rate: 16000 }, volume: 1 },
    });
    // the canceller is on (the default): these calls also show it leaves the caller's audio intact
    assert.match(rig.kiosk.proc.output(), /"handsFree":\{"mode":"aec","running":"aec"/);
    await rig.press('emergency');
    await rig.waitState('connected', 10_000);
    await new Promise((r) => setTimeout(r, 3000));
    await deskPhone.command('hangup');
    await rig.waitState('ended', 10_000);
    await rig.kiosk.stop();
    const stats = JSON.parse(rig.kiosk.proc.output().split('\n').find((l) => l.includes('call media statistics'))!).rtp;
    assert.equal(stats.codec, 'G722');
    assert.match(deskPhone.proc.output(), /G722\/16000/);
    const recs = await until(() => (deskPhone.recordings().length ? deskPhone.recordings() : undefined), 5000, 'recording');
    // sox's "rough frequency" is an estimate: compare like with like (the source measured the same way).
    const heard = soxStatFull(recs[0]!);
    const sent = soxStatFull(kioskWav);
    assert.ok(Math.abs(heard.freq - sent.freq) / sent.freq <= 0.05, `desk heard ${heard.freq} Hz, the kiosk sent ${sent.freq} Hz`);
    const got = soxStat(capture, { rate: 16000 });
    const src = soxStatFull(deskWav);
    assert.ok(Math.abs(got.freq - src.freq) / src.freq <= 0.05, `kiosk played ${got.freq} Hz, the desk sent ${src.freq} Hz`);
    assert.ok(Math.abs(got.rms - src.rms) / src.rms <= 0.1, `kiosk RMS ${got.rms} vs ${src.rms}`);
  });
});
