// npm install hook: node-pre-gyp fetches the prebuilt binary for this
// platform from the binary host (package.json binary.host, or the one set in
// HELPPOINT_DSP_BINARY_HOST or npm_config_helppoint_dsp_binary_host_mirror,
// e.g. the site's hub) and
// falls back to compiling from source (a C++ compiler, make, python3 and
// libspeexdsp-dev needed). When both fail the install still succeeds, but
// lib/install-status.json records why: the kiosk then runs without echo
// cancelling and raises a fault with that reason instead of refusing to start.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
const args = ['install', '--fallback-to-build'];
const env = { ...process.env };
// The binary host: HELPPOINT_DSP_BINARY_HOST (e.g. the site's hub, http://hub:8080/native/)
// overrides package.json binary.host; node-pre-gyp reads it as its mirror setting.
if (env.HELPPOINT_DSP_BINARY_HOST) env.npm_config_helppoint_dsp_binary_host_mirror = env.HELPPOINT_DSP_BINARY_HOST;
// Node's headers: use the ones installed beside this node binary when npm has no
// nodedir set (node-gyp would otherwise download them, and kiosks have no internet).
if (!env.npm_config_nodedir) {
  const nodedir = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = nodedir;
}
let bin;
try {
  bin = require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: [here] });
} catch (e) {
  finish({ ok: false, reason: `node-pre-gyp is not installed (${e.message.split('\n')[0]})` });
}
const r = spawnSync(process.execPath, [bin, ...args], { cwd: here, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const out = `${r.stdout || ''}${r.stderr || ''}`;
process.stdout.write(out);
if (r.status === 0) {
  finish({ ok: true, source: /installed via remote/i.test(out) ? 'prebuilt' : 'source' });
} else {
  finish({ ok: false, reason: reasonOf(out) || `node-pre-gyp exited with ${r.status ?? r.signal}` });
}

/** The lines that say why: the download error and the first build error. */
function reasonOf(text) {
  const lines = text.split('\n').map((l) => l.trim());
  const download = lines.find((l) => /Pre-built binaries not (found|installable)|Tried to download|getaddrinfo|ECONNREFUSED|404|403/i.test(l));
  const build = lines.find((l) => /not found: (make|g\+\+|gcc|cc)|command not found|No such file or directory|fatal error|gyp ERR! stack Error|Error: `make` failed|error:/i.test(l));
  return [download && `prebuilt binary: ${download.replace(/^\[[^\]]*\]\s*/, '')}`, build && `build from source: ${build.replace(/^gyp ERR! stack\s*/, '')}`]
    .filter(Boolean)
    .join('; ');
}

function finish(status) {
  fs.mkdirSync(path.join(here, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(here, 'lib', 'install-status.json'), JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2) + '\n');
  if (!status.ok) {
    console.warn(`\nhelppoint-dsp: NOT INSTALLED: ${status.reason}`);
    console.warn('helppoint-dsp: the kiosk will run without echo cancelling and report a fault. See device/README.md.\n');
  }
  process.exit(0);
}
