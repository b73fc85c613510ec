// The addon's source fingerprint: SHA-256 over binding.gyp and src/ (paths
// sorted). A prebuilt binary is found by the package version alone, so a
// C++ change under an unchanged version would let a binary host hand out the
// old binary. source-version.json records the fingerprint for the version;
// test/dsp/source-version.test.ts fails when the sources changed and the
// version did not.
//   node native/dsp/scripts/source-hash.js          print it
//   node native/dsp/scripts/source-hash.js --write  record it with the current version
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

function files(dir) {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = path.posix.join(dir, d.name);
    return d.isDirectory() ? files(rel) : [rel];
  });
}

function sourceHash() {
  const h = crypto.createHash('sha256');
  for (const rel of ['binding.gyp', ...files('src')].sort()) {
    h.update(rel + '\0');
    h.update(fs.readFileSync(path.join(root, rel)));
    h.update('\0');
  }
  return h.digest('hex');
}

module.exports = { sourceHash };

if (require.main === module) {
  const sha256 = sourceHash();
  if (process.argv.includes('--write')) {
    const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    fs.writeFileSync(path.join(root, 'source-version.json'), JSON.stringify({ version, sha256 }, null, 2) + '\n');
  }
  console.log(sha256);
}
