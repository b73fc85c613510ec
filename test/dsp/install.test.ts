// How helppoint-dsp gets onto a kiosk (node-pre-gyp): the package is packed as
// npm would publish it and installed into an empty project, with the binary
// host pointed at a local HTTP server (npm_config_helppoint_dsp_binary_host_mirror,
// as a site points kiosks at its hub). Three cases:
//   1. the host has the prebuilt binary: it installs with no compiler on PATH;
//   2. the host lacks it: it builds from source;
//   3. neither works: npm install still succeeds, the package says why, and a
//      kiosk using that copy starts, with an echo-canceller fault giving the reason.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync, createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { tmpDir, until } from '../helpers/tmp.js';
import { REPO, kioskConfigFile, startKioskProcess } from '../helpers/processes.js';
import { stopAll } from '../../src/testbed/proc.js';

const PKG = path.join(REPO, 'native/dsp');
const pkgJson = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8')) as { version: string; binary: { module_name: string } };
const NPM_CLI = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());

/** A folder with only node and sh (npm runs scripts through sh): no gcc, g++, cc, make or python. */
function bareBin(): string {
  const bin = tmpDir('hp-barebin-');
  symlinkSync(process.execPath, path.join(bin, 'node'));
  symlinkSync('/bin/sh', path.join(bin, 'sh'));
  return bin;
}

/** Static files from `root` on 127.0.0.1; remembers what was asked for. */
async function serve(root: string) {
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, asked, close: () => new Promise((r) => server.close(r)) };
}

/**
 * npm install of the packed addon into a fresh project; returns the installed package folder.
 * Asynchronous: the binary host is served by this very process.
 */
async function install(tgz: string, mirror: string, PATH: string) {
  const app = tmpDir('hp-dspapp-');
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'dsp-install-test', version: '1.0.0', private: true }));
  const env = { ...process.env, PATH, HELPPOINT_DSP_BINARY_HOST: mirror, npm_config_update_notifier: 'false' };
  const child = spawn(process.execPath, [NPM_CLI, 'install', tgz, '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'], { cwd: app, env });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(kill);
  const dir = path.join(app, 'node_modules/helppoint-dsp');
  const status = existsSync(path.join(dir, 'lib/install-status.json')) ? JSON.parse(readFileSync(path.join(dir, 'lib/install-status.json'), 'utf8')) : undefined;
  return { app, dir, env, status, code, output };
}

/** Loads the installed copy in a child node with the given PATH and runs one frame through each class. */
function tryLoad(dir: string, PATH: string) {
  const code = `const d = require(${JSON.stringify(dir)});
    const r = new d.Resampler(8000, 16000); const o = new Int16Array(400); const n = r.process(new Int16Array(160).fill(100), o);
    const e = new d.EchoCanceller(160, 1024, 8000); const out = new Int16Array(160); e.cancel(new Int16Array(160), new Int16Array(160), out);
    console.log('ok', n);`;
  return spawnSync(process.execPath, ['-e', code], { env: { ...process.env, PATH }, encoding: 'utf8' });
}

describe('helppoint-dsp installation (node-pre-gyp)', function () {
  this.timeout(300_000);
  let work: string;
  let tgz: string;
  let stage: string;
  let bare: string;

  before(function () {
    const built = path.join(PKG, 'lib/binding', `napi-v8-${process.platform}-${process.arch}`, `${pkgJson.binary.module_name}.node`);
    assert.ok(existsSync(built), `no built addon at ${built}: run npm install (or npm rebuild helppoint-dsp)`);
    work = tmpDir('hp-dspinst-');
    bare = bareBin();
    // the package as npm would publish it
    const packed = execFileSync(process.execPath, [NPM_CLI, 'pack', PKG, '--pack-destination', work, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop()!;
    tgz = path.join(work, packed);
    // the prebuilt binary as a release would host it: node-pre-gyp package, from a copy of the package with the built binary
    const copy = path.join(work, 'pkg');
    mkdirSync(copy);
    for (const f of ['package.json', 'binding.gyp', 'index.js', 'install.js', 'src', 'lib']) cpSync(path.join(PKG, f), path.join(copy, f), { recursive: true });
    const npg = require_resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
    execFileSync(process.execPath, [npg, 'package'], { cwd: copy, stdio: 'pipe' });
    stage = path.join(copy, 'build/stage');
    assert.ok(existsSync(path.join(stage, `v${pkgJson.version}`)), 'node-pre-gyp package staged nothing');
  });
  after(() => stopAll());

  it('installs the prebuilt binary from the configured host with no compiler on PATH', async () => {
    for (const tool of ['gcc', 'g++', 'cc', 'make', 'python3']) {
      assert.equal(spawnSync(tool, ['--version'], { env: { PATH: bare } }).error?.message.includes('ENOENT'), true, `${tool} must not be on the bare PATH`);
    }
    const host = await serve(stage);
    try {
      const r = await install(tgz, host.url, bare);
      assert.equal(r.code, 0, r.output);
      assert.deepEqual({ ok: r.status?.ok, source: r.status?.source }, { ok: true, source: 'prebuilt' }, r.output);
      assert.ok(host.asked.some((u) => u.endsWith(`-napi-v8-${process.platform}-${process.arch}.tar.gz`)), `the host was asked for ${host.asked.join(', ')}`);
      assert.ok(!existsSync(path.join(r.dir, 'build/Release')) && !existsSync(path.join(r.dir, 'build-tmp-napi-v8')), 'nothing was compiled');
      const l = tryLoad(r.dir, bare);
      assert.match(l.stdout, /^ok 320/, l.stderr);
    } finally {
      await host.close();
    }
  });

  it('builds from source when the host has no binary for this platform', async () => {
    const empty = tmpDir('hp-emptyhost-');
    const host = await serve(empty);
    try {
      const r = await install(tgz, host.url, process.env.PATH!);
      assert.equal(r.code, 0, r.output);
      assert.deepEqual({ ok: r.status?.ok, source: r.status?.source }, { ok: true, source: 'source' }, r.output);
      assert.ok(host.asked.length > 0, 'the host was tried first');
      const l = tryLoad(r.dir, process.env.PATH!);
      assert.match(l.stdout, /^ok 320/, l.stderr);
    } finally {
      await host.close();
    }
  });

  it('when both fail: the install completes, the package says why, and a kiosk starts with an echo-canceller fault', async () => {
    const empty = tmpDir('hp-emptyhost-');
    const host = await serve(empty);
    let r: Awaited<ReturnType<typeof install>>;
    try {
      r = await install(tgz, host.url, bare);
    } finally {
      await host.close();
    }
    assert.equal(r.code, 0, r.output);
    assert.equal(r.status?.ok, false, r.output);
    assert.match(r.status.reason, /prebuilt binary: .*404|prebuilt binary/i);
    assert.match(r.status.reason, /build from source: /);
    assert.match(r.output, /helppoint-dsp: NOT INSTALLED/);
    const l = tryLoad(r.dir, bare);
    assert.notEqual(l.status, 0);
    assert.match(l.stderr, /helppoint-dsp is not installed for .*prebuilt binary/);

    const { file } = kioskConfigFile({ audio: { input: { source: 'silence' }, output: { sink: 'null' }, handsFree: { mode: 'aec' } } });
    const kiosk = await startKioskProcess(file, { HELPPOINT_DSP_MODULE: r.dir });
    const health = await until(async () => {
      const h = (await (await fetch(kiosk.url + 'health')).json()) as { faults: { code: string; detail: string }[] };
      return h.faults.find((f) => f.code === 'echo-canceller') ? h : undefined;
    }, 5000, 'echo-canceller fault');
    const fault = health.faults.find((f) => f.code === 'echo-canceller')!;
    assert.match(fault.detail, /^echo cancelling unavailable: helppoint-dsp is not installed .*prebuilt binary: .*build from source: /);
    await kiosk.stop();
  });
});

function require_resolve(id: string): string {
  return path.join(REPO, 'node_modules', id);
}
