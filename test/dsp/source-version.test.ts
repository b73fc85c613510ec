// A prebuilt binary of helppoint-dsp is looked up by the package version
// alone (node-pre-gyp's remote_path v{version}/). If the C++ changes and the
// version does not, a binary host that already serves that version hands the
// old binary out, and the kiosk silently lacks what the new code added. The
// recorded fingerprint ties the sources to one version.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO } from '../helpers/processes.js';

const require = createRequire(import.meta.url);
const PKG = path.join(REPO, 'native/dsp');

describe('helppoint-dsp source version', () => {
  it('the addon sources match the fingerprint recorded for the package version', () => {
    const { sourceHash } = require(path.join(PKG, 'scripts/source-hash.js')) as { sourceHash(): string };
    const recorded = JSON.parse(readFileSync(path.join(PKG, 'source-version.json'), 'utf8')) as { version: string; sha256: string };
    const { version } = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8')) as { version: string };
    assert.equal(
      recorded.version,
      version,
      `native/dsp/source-version.json is for ${recorded.version} but the package is ${version}: run node native/dsp/scripts/source-hash.js --write`,
    );
    assert.equal(
      sourceHash(),
      recorded.sha256,
      `the addon's sources changed since ${version} was recorded: bump native/dsp's version (and the lock file), rebuild the prebuilt binaries (native/dsp/scripts/prebuild.sh), then run node native/dsp/scripts/source-hash.js --write`,
    );
  });
});
