// The mixer's direct ALSA output (src/audio/sinks.ts DirectAlsaSink, the
// addon's AlsaOutput): what the mixer writes reaches the device in order and
// complete, from the media clock's own wake-up; a machine without a usable
// device is told apart by the probe (a child process), never by a crash.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { probeDirectAlsa } from '../../src/audio/sinks.js';
import { alsaCapture, noAlsa } from './helpers.js';

// Runs in a child so that ALSA reads this test's configuration (it caches its config per process).
const WRITER = `
const { Mixer } = await import('./src/audio/mixer.ts');
const { DirectAlsaSink } = await import('./src/audio/sinks.ts');
const sink = new DirectAlsaSink('default', 16000);
const mixer = new Mixer({ rate: 16000, sink });
// 30 frames of a ramp, mixed by hand so the count is exact; every third one is the 20 ms frame the mixer
// uses while only calls play (the sink gets the mixer's other buffer then)
const s = mixer.openChannel({ channel: 'announcement', rate: 16000 });
s.write(Int16Array.from({ length: 6400 }, (_, i) => i - 3200));
for (let k = 0; k < 30; k++) mixer.mixFrame(performance.now(), k % 3 === 0 ? mixer.callFrameSamples : mixer.frameSamples);
sink.close();
console.log(JSON.stringify({ dropped: sink.dropped }));
`;

describe('direct ALSA output (addon AlsaOutput)', () => {
  it('probes a usable device as usable and a missing one with a reason', async () => {
    const saved = process.env.XDG_CONFIG_HOME;
    try {
      process.env.XDG_CONFIG_HOME = alsaCapture().xdg;
      assert.equal(await probeDirectAlsa('default', 16000), null);
      process.env.XDG_CONFIG_HOME = noAlsa().xdg;
      assert.match((await probeDirectAlsa('nosuchdevice', 16000)) ?? '', /unusable|nosuchdevice/);
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  it('hands every mixed frame to the device, in order, 10 and 20 ms frames alike', function () {
    this.timeout(30_000);
    const alsa = alsaCapture();
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER], { env: { ...process.env, XDG_CONFIG_HOME: alsa.xdg }, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1)!), { dropped: 0 });
    const raw = readFileSync(alsa.capture);
    const got = new Int16Array(raw.buffer, raw.byteOffset, raw.length >> 1);
    assert.equal(got.length, 6400);
    for (let i = 0; i < got.length; i++) if (got[i] !== i - 3200) assert.fail(`sample ${i} is ${got[i]}, expected ${i - 3200}`);
  });
});
