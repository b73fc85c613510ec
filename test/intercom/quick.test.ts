import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { kioskConfigFile, startKioskProcess, postJson } from '../helpers/processes.js';
import { startSipp } from '../../src/testbed/sipp.js';
import { stopAll } from '../../src/testbed/proc.js';
import { until } from '../helpers/tmp.js';

describe('quick: emergency call to sipp', function () {
  this.timeout(30000);
  after(() => stopAll());
  it('connects', async () => {
    const sipp = await startSipp({ builtin: 'uas', args: ['-m', '1'] });
    const { file, dir } = kioskConfigFile({ sip: { targets: { emergency: [{ uri: sipp.uri, ringTimeoutS: 5 }], information: [{ uri: sipp.uri }] } } });
    const k = await startKioskProcess(file);
    await postJson(k.url + 'sim/press', { input: 'emergency', ms: 60 });
    const events = () => (JSON.parse(readFileSync(path.join(dir, 'data/events.json'), 'utf8')) as { events: { type: string; data: any }[] }).events;
    await until(() => events().some((e) => e.type === 'call.state' && e.data.state === 'connected'), 10000, 'connected');
    console.log(events().filter((e) => e.type === 'call.state').map((e) => JSON.stringify(e.data)).join('\n'));
    console.log(k.proc.output().split('\n').filter(l=>/sip|call/i.test(l)).join('\n').slice(0,3000));
    await k.stop();
  });
});
