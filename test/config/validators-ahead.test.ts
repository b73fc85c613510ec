// The validators compiled ahead of time by the build (src/validators, used by
// the compiled kiosk and hub) must validate exactly like the schemas compiled
// in the process (used when the TypeScript sources run): same verdict, same
// errors, same defaults filled in.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { readMerged } from '../../src/config/load.js';
import { compile } from '../../src/validators/schemas.js';
import { VALIDATOR_NAMES, type ValidatorName } from '../../src/validators/names.js';
import { REPO, EXAMPLE } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

const require_ = createRequire(import.meta.url);
const compiledDir = path.join(REPO, 'dist/src/validators/compiled');

function ahead(name: ValidatorName) {
  return (require_(path.join(compiledDir, `${name}.cjs`)) as { default: ReturnType<typeof compile> }).default;
}

/** Runs both validators on copies of doc: verdict, errors and the document after defaults. */
function both(name: ValidatorName, doc: unknown) {
  const run = (v: ReturnType<typeof compile>) => {
    const copy = structuredClone(doc);
    const ok = v(copy);
    return { ok, errors: v.errors ?? null, doc: copy };
  };
  return { ahead: run(ahead(name)), here: run(compile(name)) };
}

describe('validators compiled ahead of time', () => {
  before(function () {
    // the build (scripts/setup.sh, npm run build) writes them; the suite runs after it
    if (!existsSync(path.join(compiledDir, 'kiosk-config.cjs'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  });

  it('exist for every validator after the build', () => {
    for (const n of VALIDATOR_NAMES) assert.ok(existsSync(path.join(compiledDir, `${n}.cjs`)), n);
  });

  const kiosk = () => {
    const m = readMerged(path.join(EXAMPLE, 'kiosks/conc-north.json'));
    assert.ok(m.ok);
    return m.value as any;
  };
  const cases: [string, ValidatorName, () => unknown][] = [
    ['a valid kiosk config (defaults filled in)', 'kiosk-config', kiosk],
    ['a kiosk config with several errors', 'kiosk-config', () => ({ ...kiosk(), zone: 7, colour: 'red', io: { ...kiosk().io, stuckMs: 'long' } })],
    ['a valid hub config', 'hub-config', () => JSON.parse(readFileSync(path.join(EXAMPLE, 'hub.json'), 'utf8'))],
    ['a broken hub config', 'hub-config', () => ({ users: 'nobody' })],
    ['a PA command', 'pa-play', () => ({ id: 'a', channel: 'announcement', message: 'drill' })],
    ['a PA command on an unknown channel', 'pa-play', () => ({ id: 'a', channel: 'loud', message: 'drill' })],
    ['a hub frame', 'hub-to-kiosk', () => ({ type: 'events-ack', ids: ['k:1:1'] })],
    ['a bad hub frame', 'hub-to-kiosk', () => ({ type: 'events-ack', ids: 3 })],
    ['a kiosk frame', 'kiosk-to-hub', () => ({ type: 'heartbeat', at: 1 })],
    ['a wayfinding file', 'wayfinding', () => JSON.parse(readFileSync(path.join(EXAMPLE, 'kiosks', kiosk().display.wayfinding), 'utf8'))],
    ['a broken wayfinding file', 'wayfinding', () => ({ nodes: [] })],
  ];
  for (const [what, name, doc] of cases) {
    it(`agree on ${what}`, () => {
      const r = both(name, doc());
      assert.deepEqual(r.ahead, r.here);
    });
  }

  it('the compiled kiosk validates its config without loading ajv or TypeBox', () => {
    // a child process loads the compiled config loader and validates the example kiosk; a module hook lists every ES module it loads
    const list = path.join(tmpDir('hp-validators-'), 'loaded.txt');
    const hooks = `data:text/javascript,${encodeURIComponent(`import { appendFileSync } from 'node:fs'; export async function load(u, c, n) { appendFileSync(${JSON.stringify(list)}, u + '\\n'); return n(u, c); }`)}`;
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire, register } from 'node:module';
         register(${JSON.stringify(hooks)});
         const { readMerged } = await import(${JSON.stringify(path.join(REPO, 'dist/src/config/load.js'))});
         const { validateKioskConfig } = await import(${JSON.stringify(path.join(REPO, 'dist/src/config/validate.js'))});
         const m = readMerged(${JSON.stringify(path.join(EXAMPLE, 'kiosks/conc-north.json'))});
         const r = validateKioskConfig(m.value);
         const cjs = Object.keys(createRequire(import.meta.url).cache);
         console.log(JSON.stringify({ ok: r.ok, cjs }));`,
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    const { ok, cjs } = JSON.parse(out) as { ok: boolean; cjs: string[] };
    const esm = readFileSync(list, 'utf8').split('\n').filter(Boolean);
    assert.equal(ok, true);
    assert.ok(cjs.some((f) => f.endsWith('kiosk-config.cjs')), 'the ahead-of-time validator was used');
    assert.ok(esm.some((u) => u.endsWith('/dist/src/config/validate.js')), 'the module hook saw the loader');
    const heavy = [...cjs, ...esm].filter((f) => /node_modules\/ajv\/dist\/(core|ajv|compile)/.test(f) || f.includes('@sinclair/typebox') || f.includes('/config/schema/'));
    assert.deepEqual(heavy, []);
  });
});
