import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { validateFile, readMerged, deepMerge } from '../../src/config/load.js';
import { validateHubConfig, validateKioskConfig } from '../../src/config/validate.js';
import { schemaFiles } from '../../src/config/schema-files.js';
import { REPO, CLI, EXAMPLE } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? jsonFiles(p) : f.endsWith('.json') ? [p] : [];
  });
}

function exampleKiosk(): Record<string, unknown> {
  const m = readMerged(path.join(EXAMPLE, 'kiosks/conc-north.json'));
  assert.ok(m.ok);
  return m.value as Record<string, unknown>;
}

function runValidate(files: string[]): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(process.execPath, ['--import', 'tsx', CLI, 'config', 'validate', ...files], { cwd: REPO, encoding: 'utf8' }) };
  } catch (err) {
    const e = err as { status: number; stdout: string };
    return { code: e.status, out: e.stdout };
  }
}

describe('config validation', () => {
  it('accepts every file in config/', function () {
    this.timeout(60_000); // the CLI is a child process under tsx: seconds on a loaded machine
    const files = jsonFiles(path.join(REPO, 'config'));
    assert.ok(files.length >= 12, `found only ${files.length} files`);
    for (const f of files) assert.deepEqual(validateFile(f).errors, [], f);
    const r = runValidate(files);
    assert.equal(r.code, 0, r.out);
  });

  it('keeps the published JSON Schema files in step with the sources', () => {
    for (const [name, text] of Object.entries(schemaFiles())) {
      assert.equal(readFileSync(path.join(REPO, 'config/schema', name), 'utf8'), text, `config/schema/${name} is stale: run npx tsx scripts/gen-schema.ts`);
    }
  });

  const broken: [string, (c: any) => void, string][] = [
    ['wrong type', (c) => (c.io.stuckMs = 'long'), '/io/stuckMs'],
    ['unknown zone', (c) => (c.zone = 'basement'), '/zone'],
    ['missing call target', (c) => (c.sip.targets.emergency = []), '/sip/targets/emergency'],
    ['invalid pin', (c) => (c.io.inputs.emergency.pin = -3), '/io/inputs/emergency/pin'],
    ['pin used twice', (c) => (c.io.outputs.lampGreen.pin = c.io.inputs.emergency.pin), '/io/outputs/lampGreen/pin'],
    ['pin missing on the board', (c) => ((c.io.board = 'rpi4'), (c.io.inputs.emergency.pin = 40)), '/io/inputs/emergency/pin'],
    ['invalid URL', (c) => (c.hub.url = 'http//hub'), '/hub/url'],
    ['backup hub URL not ws(s)', (c) => (c.hub.backupUrls = ['wss://hub-b.example/kiosk', 'https://hub-c.example/kiosk']), '/hub/backupUrls/1'],
    ['backup hub URL listed twice', (c) => (c.hub.backupUrls = ['wss://hub-b.example/kiosk', 'wss://hub-b.example/kiosk']), '/hub/backupUrls'],
    ['backup hub URL the same as hub.url', (c) => (c.hub.backupUrls = ['wss://hub-b.example/kiosk', c.hub.url]), '/hub/backupUrls/1'],
    ['unknown setting', (c) => (c.sip.colour = 'red'), '/sip/colour'],
    ['missing required', (c) => delete c.location, '/location'],
    ['RTP port range upside down', (c) => (c.sip.rtpPortRange = { min: 20000, max: 10000 }), '/sip/rtpPortRange'],
    ['RTP port range without an even port', (c) => (c.sip.rtpPortRange = { min: 20001, max: 20001 }), '/sip/rtpPortRange'],
    ['paging address the account\'s own user', (c) => (c.sip.paging = { user: c.sip.account.user }), '/sip/paging/user'],
    ['paging address not a SIP user', (c) => (c.sip.paging = { user: 'page me' }), '/sip/paging/user'],
    ['an empty word in the reboot command', (c) => (c.system = { rebootCommand: ['systemctl', ''] }), '/system/rebootCommand/1'],
    ['a reboot command as one string', (c) => (c.system = { rebootCommand: 'systemctl reboot' }), '/system/rebootCommand'],
  ];

  for (const [what, mutate, pathExpected] of broken) {
    it(`rejects a config with ${what}, naming ${pathExpected}`, () => {
      const c = structuredClone(exampleKiosk());
      mutate(c);
      const r = validateKioskConfig(c);
      assert.equal(r.ok, false);
      assert.ok(
        r.errors.some((e) => e.path === pathExpected),
        `errors: ${JSON.stringify(r.errors)}`,
      );
    });
  }

  it('the reboot command: none without a system section, systemctl reboot with an empty one, empty allowed (no reboot)', () => {
    const none = validateKioskConfig(exampleKiosk());
    assert.ok(none.ok && none.value.system === undefined);
    const empty = validateKioskConfig({ ...exampleKiosk(), system: {} });
    assert.ok(empty.ok && JSON.stringify(empty.value.system) === JSON.stringify({ rebootCommand: ['systemctl', 'reboot'] }), JSON.stringify(empty));
    const off = validateKioskConfig({ ...exampleKiosk(), system: { rebootCommand: [] } });
    assert.ok(off.ok && off.value.system?.rebootCommand.length === 0);
  });

  it('a console desk needs a static SIP password only without desk.sip.rpc (with it, each session gets its own)', () => {
    const m = readMerged(path.join(EXAMPLE, 'hub.json'));
    assert.ok(m.ok);
    const hub = m.value as { desk: { sip: { rpc?: unknown }; desks: { password?: string }[] } };
    assert.ok(hub.desk.sip.rpc && hub.desk.desks.every((d) => d.password === undefined), 'the example site: RPC, no static desk passwords');
    assert.deepEqual(validateHubConfig(structuredClone(hub)).errors, []);
    const noRpc = structuredClone(hub);
    delete noRpc.desk.sip.rpc;
    const r = validateHubConfig(noRpc);
    assert.equal(r.ok, false);
    assert.ok(r.errors.some((e) => e.path === '/desk/desks/0/password' && /needs a password/.test(e.message)), JSON.stringify(r.errors));
    noRpc.desk.desks.forEach((d, i) => (d.password = `static-${i}`));
    assert.deepEqual(validateHubConfig(noRpc).errors, []);
  });

  it('the CLI prints every error with its path and exits non-zero', () => {
    const dir = tmpDir('hp-cfg-');
    const files = broken.slice(0, 5).map(([what, mutate], i) => {
      const c = structuredClone(exampleKiosk());
      mutate(c);
      const f = path.join(dir, `broken-${i}.json`);
      writeFileSync(f, JSON.stringify({ $schema: 'kiosk.schema.json', ...c }));
      return { f, what };
    });
    // One file with several errors at once: all must be listed.
    const multi = structuredClone(exampleKiosk()) as any;
    multi.zone = 'nowhere';
    multi.io.inputs.emergency.pin = 'x';
    multi.sip.targets.information = [];
    const mf = path.join(dir, 'multi.json');
    writeFileSync(mf, JSON.stringify({ $schema: 'kiosk.schema.json', ...multi }));
    const garbage = path.join(dir, 'garbage.json');
    writeFileSync(garbage, '{"id": "x", ');

    const r = runValidate([...files.map((x) => x.f), mf, garbage]);
    assert.equal(r.code, 1);
    for (const [, , p] of broken.slice(0, 5)) assert.match(r.out, new RegExp(`  ${p.replace(/\//g, '\\/')}: `));
    assert.match(r.out, /\/io\/inputs\/emergency\/pin: must be integer/);
    assert.match(r.out, /\/sip\/targets\/information: /);
    assert.match(r.out, /garbage\.json[\s\S]*not valid JSON/);
    assert.equal((r.out.match(/^error /gm) ?? []).length, 7);
  });

  it('a kiosk never starts on an invalid config', () => {
    const dir = tmpDir('hp-cfg-');
    const c = deepMerge(exampleKiosk() as never, { zone: 'atlantis' } as never);
    const f = path.join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify(c));
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', CLI, 'kiosk', '--config', f], { cwd: REPO, encoding: 'utf8', stdio: 'pipe', timeout: 15000 });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = (err as { stderr: string }).stderr;
    }
    assert.equal(status, 1);
    assert.match(stderr, /\/zone: unknown zone "atlantis"/);
    assert.match(stderr, /not starting/);
  });
});
