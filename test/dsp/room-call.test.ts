// Echo cancelling in a real call: a kiosk whose microphone is the simulated
// room (audio.input.source "room": it hears the kiosk's own loudspeaker, i.e.
// the mixer's output, through a clipping speaker, 20 ms delay and a 100 ms
// tail) calls baresip, which speaks a bundled message and records what comes
// back. Without the canceller the desk hears itself; with it, the echo it gets
// back is at least 15 dB weaker (after 2 s of convergence, in the same room).
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { startBaresip, type Baresip } from '../../src/testbed/baresip.js';
import { stopAll } from '../../src/testbed/proc.js';
import { tmpDir, until } from '../helpers/tmp.js';
import { callRig, targets } from '../intercom/helpers.js';
import { REPO } from '../helpers/processes.js';

/** RMS (0..1) of a WAV from `from` seconds on, by sox. */
function rmsFrom(file: string, from: number): number {
  const r = spawnSync('sox', [file, '-n', 'trim', String(from), 'stat'], { encoding: 'utf8' });
  const m = /RMS\s+amplitude:\s+([\d.]+)/.exec(String(r.stderr));
  if (!m) throw new Error(`sox stat: ${r.stderr}`);
  return Number(m[1]);
}

describe('echo cancelling in a call (simulated room, baresip desk)', function () {
  this.timeout(90_000);
  let desk: Baresip;
  let dir: string;
  after(() => stopAll());

  before(async () => {
    dir = tmpDir('hp-roomcall-');
    // the desk talks: the evacuation message twice (baresip ends the call when its source ends), 8 kHz
    const speech = path.join(dir, 'desk-speech.wav');
    const msg = path.join(REPO, 'audio/messages/evacuation.en.wav');
    execFileSync('sox', [msg, msg, '-r', '8000', '-c', '1', '-b', '16', speech]);
    desk = await startBaresip({ user: 'desk', sourceWav: speech });
  });

  async function callAndRecord(mode: 'aec' | 'off'): Promise<string> {
    const before = desk.recordings().length;
    const rig = await callRig({
      sip: { ...targets([{ uri: desk.uri }]).sip, codecs: ['PCMU'] },
      audio: { input: { source: 'room' }, output: { sink: 'null', rate: 16000 }, volume: 1, handsFree: { mode } },
    });
    await rig.press('emergency');
    await rig.waitState('connected', 10_000);
    await new Promise((r) => setTimeout(r, 6000));
    await desk.command('hangup');
    await rig.waitState('ended', 10_000);
    await rig.kiosk.stop();
    assert.match(rig.kiosk.proc.output(), new RegExp(`"handsFree":\\{"mode":"${mode}","running":"${mode}"`));
    const recs = await until(() => (desk.recordings().length > before ? desk.recordings() : undefined), 5000, 'baresip recording');
    // The first call's (the desk hung up without acknowledging: the alarm was re-sent at once).
    return recs[before]!;
  }

  it('the desk hears its own voice back without the canceller, and at least 15 dB less with it', async () => {
    const off = rmsFrom(await callAndRecord('off'), 2);
    const on = rmsFrom(await callAndRecord('aec'), 2);
    assert.ok(off > 0.005, `without the canceller the echo should be clearly audible (RMS ${off})`);
    const reduction = 20 * Math.log10(off / on);
    console.log(`      echo at the desk: RMS ${off} without, ${on} with the canceller (${reduction.toFixed(1)} dB)`);
    assert.ok(reduction >= 15, `echo at the desk reduced by only ${reduction.toFixed(1)} dB (RMS ${off} -> ${on})`);
  });
});
