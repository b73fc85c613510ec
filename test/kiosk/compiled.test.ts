// The build a device runs (bin/helppoint.js -> dist/) serves everything the
// sources do: the screen's files are not compiled, so check they are found.
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { start, stopAll } from '../../src/testbed/proc.js';
import { kioskConfigFile, REPO } from '../helpers/processes.js';

describe('compiled kiosk', function () {
  this.timeout(30_000);
  after(() => stopAll());

  it('starts from bin/helppoint.js and serves its screen and health', async function () {
    if (!existsSync(path.join(REPO, 'dist/src/cli.js'))) throw new Error('not built: npm test builds first (scripts/setup.sh)');
    const { file } = kioskConfigFile();
    const p = start('kiosk', process.execPath, [path.join(REPO, 'bin/helppoint.js'), 'kiosk', '--config', file], { cwd: REPO });
    const ready = JSON.parse(await p.waitFor(/"msg":"ready"/, 20_000)) as { local: string };
    const page = await fetch(ready.local);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<main id="main">/);
    const health = (await (await fetch(ready.local + 'health')).json()) as { faults: unknown[] };
    assert.deepEqual(health.faults, []);
    // "ready" once the call set-up path is warm (src/intercom/warm-up.ts): a press right after it runs warm code
    const out = p.output();
    const warmed = out.indexOf('"msg":"call set-up path warmed up"');
    assert.ok(warmed >= 0 && warmed < out.indexOf('"msg":"ready"'), 'the warm-up finished before "ready"');
    assert.doesNotMatch(out.slice(warmed, out.indexOf('\n', warmed)), /unparsed/);
  });
});
