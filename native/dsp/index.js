// Loads the compiled addon from where node-pre-gyp puts it (lib/binding/...).
// Loading fails with an Error whose message says why: not installed (with the
// reasons install.js recorded when neither a prebuilt binary nor a build from
// source worked), or the binary would not load (for instance libspeexdsp
// missing on this machine).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const pkg = require('./package.json');

const napi = pkg.binary.napi_versions[0];
const dir = path.join(__dirname, 'lib', 'binding', `napi-v${napi}-${process.platform}-${process.arch}`);
const file = path.join(dir, `${pkg.binary.module_name}.node`);

function installStatus() {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, 'lib', 'install-status.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function load() {
  if (!fs.existsSync(file)) {
    const st = installStatus();
    const why = st && !st.ok ? `: ${st.reason}` : ' (run npm install or npm rebuild helppoint-dsp)';
    const err = new Error(`helppoint-dsp is not installed for ${process.platform}-${process.arch}${why}`);
    err.code = 'HELPPOINT_DSP_MISSING';
    throw err;
  }
  try {
    return require(file);
  } catch (e) {
    const err = new Error(`helppoint-dsp binary ${path.relative(__dirname, file)} does not load: ${e.message}`);
    err.code = 'HELPPOINT_DSP_UNLOADABLE';
    throw err;
  }
}

const binding = load();
module.exports = {
  EchoCanceller: binding.EchoCanceller,
  Preprocessor: binding.Preprocessor,
  Resampler: binding.Resampler,
  AlsaOutput: binding.AlsaOutput,
  threadPoolIds: binding.threadPoolIds,
  UdpSocket: binding.UdpSocket,
  MediaTimer: binding.MediaTimer,
  binaryPath: file,
  installStatus,
};
