// The emergency path depends on the audio device only for sound: with no
// usable device (no ALSA card, speaker unusable, arecord failing) the kiosk
// reports an audio fault and the emergency call still reaches the desk.
import { strict as assert } from 'node:assert';
import { stopAll } from '../../src/testbed/proc.js';
import { until } from '../helpers/tmp.js';
import { noAlsa } from '../audio/helpers.js';
import { callRig, desk, targets } from './helpers.js';

describe('intercom with no usable audio device', function () {
  this.timeout(40_000);
  after(() => stopAll());

  it('reports an audio fault and still places the emergency call', async () => {
    const d = await desk('desk-answer-bye.xml');
    const rig = await callRig(
      { ...targets([{ uri: d.uri }]), audio: { output: { sink: 'alsa', device: 'default' }, input: { source: 'alsa', device: 'default' } } },
      { XDG_CONFIG_HOME: noAlsa().xdg },
    );
    await until(
      async () => ((await (await fetch(rig.kiosk.url + 'health')).json()) as { faults: { code: string }[] }).faults.some((f) => f.code === 'audio'),
      10_000,
      'audio fault',
    );
    await rig.press('emergency');
    await rig.waitState('connected', 10_000);
    await rig.waitState('ended', 10_000);
    assert.equal(await d.proc.exited, 0);
    assert.equal(rig.kiosk.proc.child.exitCode, null);
  });
});
