// The hub as the kiosks' binary host: /native/ serves the configured folder
// read-only, to anyone (a kiosk installing has no token), without listing it
// or anything outside it. Installing from a host (there a plain HTTP server
// with the same layout) is test/dsp/install.test.ts; here, what the hub serves.
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startHub, type TestHub } from './harness.js';
import { tmpDir } from '../helpers/tmp.js';

describe('hub: prebuilt native binaries at /native/', () => {
  let t: TestHub;
  const dir = tmpDir('hp-binaries-');
  const tarball = Buffer.from('not really a tarball, but bytes to compare');
  before(async () => {
    mkdirSync(path.join(dir, 'v0.2.0'));
    writeFileSync(path.join(dir, 'v0.2.0', 'helppoint_dsp-v0.2.0-napi-v8-linux-arm64.tar.gz'), tarball);
    writeFileSync(path.join(dir, '.secret'), 'dotfile');
    t = await startHub({ patch: (c) => (c.binaries = { dir }) });
  });
  after(() => t?.stop());

  it('serves a tarball to a client without a session, byte for byte', async () => {
    const res = await fetch(`${t.base}/native/v0.2.0/helppoint_dsp-v0.2.0-napi-v8-linux-arm64.tar.gz`);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), tarball);
  });

  it('answers 404 for a version it does not have (node-pre-gyp then builds from source)', async () => {
    const res = await fetch(`${t.base}/native/v9.9.9/helppoint_dsp-v9.9.9-napi-v8-linux-x64.tar.gz`);
    assert.equal(res.status, 404);
  });

  it('lists nothing and serves nothing outside the folder or hidden', async () => {
    for (const url of ['/native/', '/native/v0.2.0/', '/native/.secret', '/native/..%2fhub.json', '/native/%2e%2e/%2e%2e/package.json']) {
      const res = await fetch(`${t.base}${url}`);
      assert.notEqual(res.status, 200, `${url} answered 200`);
      const text = await res.text();
      assert.ok(!text.includes('dotfile') && !text.includes('helppoint_dsp-v0.2.0'), `${url} showed ${text.slice(0, 80)}`);
    }
  });

  it('is not served when the configured folder is missing, and the hub still starts', async () => {
    const other = await startHub({ patch: (c) => (c.binaries = { dir: path.join(dir, 'absent') }) });
    try {
      const res = await fetch(`${other.base}/native/v0.2.0/helppoint_dsp-v0.2.0-napi-v8-linux-arm64.tar.gz`);
      assert.equal(res.status, 404);
    } finally {
      await other.stop();
    }
  });
});
