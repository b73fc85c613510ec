// Builds the hub's browser bundles from src/hub/web with esbuild (a build
// step: scripts/setup.sh runs it, tests run it before they load a page). The
// hub serves what lands in dist/web; nothing built is kept in git.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: the first folder upwards with package.json (this file also runs compiled, from dist/src/hub). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

const REPO = repoRoot();
const SRC = path.join(REPO, 'src/hub/web');

/** Where the bundles are: dist/web/desk/{phone,board}.js, dist/web/pa/console.js, dist/web/facilities/{console,editor}.js and facilities.css (+ .map). */
export const WEB_DIST = path.join(REPO, 'dist/web');
export const DESK_PHONE_BUNDLE = path.join(WEB_DIST, 'desk/phone.js');

export async function buildWebBundles(opts: { minify?: boolean } = {}): Promise<string[]> {
  // esbuild is a build-time tool (devDependency): loaded only when building.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: {
      'desk/phone': path.join(SRC, 'desk/index.ts'),
      'desk/board': path.join(SRC, 'desk/board.ts'),
      'pa/console': path.join(SRC, 'pa/index.ts'),
      'facilities/console': path.join(SRC, 'facilities/console.ts'),
      'facilities/editor': path.join(SRC, 'facilities/editor.ts'),
      'facilities/facilities': path.join(SRC, 'facilities/facilities.css'),
    },
    outdir: WEB_DIST,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome100', 'firefox115', 'safari16'],
    sourcemap: true,
    minify: opts.minify ?? false,
    legalComments: 'linked',
    logLevel: 'warning',
    metafile: true,
  });
  return Object.keys(result.metafile.outputs).map((f) => path.resolve(REPO, f));
}

// `node dist/src/hub/web-bundle.js` after tsc (scripts/setup.sh, npm run build)
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await buildWebBundles({ minify: process.argv.includes('--minify') });
  console.log(`web: bundled ${files.filter((f) => f.endsWith('.js')).map((f) => path.relative(REPO, f)).join(', ')}`);
}
