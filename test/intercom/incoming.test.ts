// Calls to the kiosk: auto-answer only for calls that arrive over a trusted
// path (here the desk's address in sip.trustedSources), come from an allowed
// caller and ask for it (here Call-Info answer-after=0); anything else only rings.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startSipp } from '../../src/testbed/sipp.js';
import { stopAll } from '../../src/testbed/proc.js';
import { callRig, scenario } from './helpers.js';

describe('intercom: incoming calls', function () {
  this.timeout(30_000);
  afterEach(() => stopAll());

  it('auto-answers a desk call-back from an allowed source', async () => {
    const rig = await callRig({ sip: { autoAnswerFrom: ['desk@127.0.0.1'], trustedSources: ['127.0.0.1'] } });
    const port = await rig.sipPort();
    const caller = await startSipp({ scenario: scenario('caller-autoanswer.xml'), args: [`127.0.0.1:${port}`, '-s', 'desk', '-set', 'kiosk', 'conc-north', '-m', '1', '-rtp_echo'] });
    assert.equal(await caller.proc.exited, 0, sippErrors(caller.dir));
    await rig.waitState('ended', 5000);
    const states = rig.events().filter((e) => e.type === 'call.state').map((e) => `${e.data.state}${e.data.incoming ? '(in)' : ''}`);
    assert.deepEqual(states, ['connected(in)', 'ended(in)']);
  });

  it('lets a call from a source not on the list only ring, even when it asks for auto-answer', async () => {
    const rig = await callRig({ sip: { autoAnswerFrom: ['desk@127.0.0.1'], trustedSources: ['127.0.0.1'] } });
    const port = await rig.sipPort();
    const caller = await startSipp({ scenario: scenario('caller-not-allowed.xml'), args: [`127.0.0.1:${port}`, '-s', 'stranger', '-set', 'kiosk', 'conc-north', '-m', '1'] });
    assert.equal(await caller.proc.exited, 0, sippErrors(caller.dir));
    await rig.waitState('failed', 5000);
    const states = rig.events().filter((e) => e.type === 'call.state').map((e) => e.data.state);
    assert.deepEqual(states, ['ringing', 'failed']);
  });
});

function sippErrors(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('_errors.log') || f.endsWith('_messages.log'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8').slice(-2500))
    .join('\n');
}
