import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { validateFile, readMerged, deepMerge } from '../../src/config/load.js';
import { validateHubConfig, validateKioskConfig } from '../../src/config/validate.js';
import { schemaFiles } from '../../src/config/schema-files.js';
import { kamailioConfig } from '../../src/testbed/kamailio.js';
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
    ['SIP account named like a page to a kiosk', (c) => (c.sip.account.user = 'page-north'), '/sip/account/user'],
    ['SIP account named like a zone page', (c) => (c.sip.account.user = 'page-zone-platforms'), '/sip/account/user'],
    ['SIP account named like a page, in capitals', (c) => (c.sip.account.user = 'Page-North'), '/sip/account/user'],
    ['SIP account that would be paged as a zone (zone-...)', (c) => (c.sip.account.user = 'zone-north'), '/sip/account/user'],
    ['SIP account the paging user (sip.paging absent: "page")', (c) => (delete c.sip.paging, (c.sip.account.user = 'page')), '/sip/account/user'],
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

  it('reserved SIP user names: the reason in the error; names that only look alike are accepted', () => {
    const kiosk = (user: string, paging?: { user: string }) => {
      const c = structuredClone(exampleKiosk()) as any;
      c.sip.account.user = user;
      if (paging) c.sip.paging = paging;
      else delete c.sip.paging;
      return validateKioskConfig(c);
    };
    const r = kiosk('page-north');
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [{ path: '/sip/account/user', message: '"page-north" is reserved at the site SIP server: names beginning with "page-" are its paging addresses (sip:page-KIOSK@domain, sip:page-zone-ZONE@domain, sip:page-group-GROUP@domain, sip:page-all@domain); choose another name' }]);
    const p = kiosk('page');
    assert.ok(!p.ok && /the kiosks' paging user/.test(p.errors[0]!.message), JSON.stringify(p.errors));
    const z = kiosk('zone-north');
    assert.ok(!z.ok && /a kiosk is paged at sip:page-KIOSK@domain, and sip:page-zone-\.\.\.@domain, sip:page-group-\.\.\.@domain and sip:page-all@domain page zones/.test(z.errors[0]!.message), JSON.stringify(z.errors));
    // page-group-... and page-all page zones too
    for (const user of ['group-north', 'all', 'ALL']) assert.ok(!kiosk(user).ok, user);
    for (const user of ['pager', 'pagezone-1', 'north-page-1', 'zoned', 'north-zone-1', 'grouped', 'all-north', 'call']) assert.deepEqual(kiosk(user).errors, [], user);
    // The site's paging user named otherwise: "page" is then an ordinary name (the same name as sip.paging.user stays refused, at its own path).
    assert.deepEqual(kiosk('page', { user: 'announce' }).errors, []);
    const same = kiosk('announce', { user: 'announce' });
    assert.deepEqual(same.ok ? [] : same.errors.map((e) => e.path), ['/sip/paging/user']);
  });

  it('the hub refuses SIP accounts it puts at the site SIP server under a reserved name, at each path', () => {
    const m = readMerged(path.join(EXAMPLE, 'hub.json'));
    assert.ok(m.ok);
    const hub = structuredClone(m.value) as any;
    hub.desk.desks[0].id = 'page-desk';
    hub.desk.desks[0].groups = ['control-room', 'page-zone-all'];
    const r = validateHubConfig(hub);
    assert.equal(r.ok, false);
    const paths = r.ok ? [] : r.errors.filter((e) => /reserved at the site SIP server/.test(e.message)).map((e) => e.path);
    assert.deepEqual(paths, ['/desk/desks/0/id', '/desk/desks/0/groups/1']);
    // The demo's hub: a page gateway and a test answerer with accounts at the SIP server.
    const demo = readMerged(path.join(EXAMPLE, 'demo-hub.json'));
    assert.ok(demo.ok);
    const d = structuredClone(demo.value) as any;
    assert.deepEqual(validateHubConfig(structuredClone(d)).errors, [], 'its gateway is the kiosks\' paging user "page": allowed for the hub');
    d.pa.gateway.account.user = 'page-gateway';
    d.supervision.answerer.account.user = 'page-test';
    d.pa.sipPhones = [{ user: 'page-phone', zones: '*' }];
    const g = validateHubConfig(d);
    const gpaths = g.ok ? [] : g.errors.filter((e) => /reserved at the site SIP server/.test(e.message)).map((e) => e.path);
    assert.deepEqual(gpaths, ['/pa/gateway/account/user', '/pa/sipPhones/0/user', '/supervision/answerer/account/user']);
  });

  it('the test bed\'s SIP server (also the demo\'s) refuses to generate accounts or groups with a reserved name', () => {
    const base = { port: 5060, wsPort: 8080, mpath: '/nowhere' };
    assert.throws(() => kamailioConfig({ ...base, users: { 'page-north': 'x' } }), /SIP server accounts: "page-north" is reserved/);
    assert.throws(() => kamailioConfig({ ...base, users: { desk: 'x' }, groups: { 'page-zone-all': ['desk'] } }), /"page-zone-all" is reserved/);
    // The kiosks' paging user may be the page gateway's account there (the test bed's is "page").
    assert.match(kamailioConfig({ ...base, users: { page: 'x', desk: 'x' } }), /route\[PAGE\]/);
  });

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
