// Starts real kiosk and hub processes for tests, on free ports, with config
// files derived from the example site and written to a temp folder.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, type Managed } from '../../src/testbed/proc.js';
import { freePort } from '../../src/testbed/ports.js';
import { RESTART_EXIT_CODE } from '../../src/core/exit-codes.js';
import { readMerged, deepMerge } from '../../src/config/load.js';
import { tmpDir } from './tmp.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO, 'src/cli.ts');
export const EXAMPLE = path.join(REPO, 'config/example-site');

type Json = Parameters<typeof deepMerge>[0];

/** A complete kiosk config: an example kiosk merged with overrides, written to a temp file. */
export function kioskConfigFile(overrides: Record<string, unknown> = {}, base = 'conc-north'): { file: string; dir: string; config: Record<string, unknown> } {
  const merged = readMerged(path.join(EXAMPLE, 'kiosks', `${base}.json`));
  if (!merged.ok) throw new Error(JSON.stringify(merged.errors));
  const dir = tmpDir('hp-kiosk-');
  // Desks default to a port nothing listens on (discard), so a test never calls a demo's desk by accident.
  const nowhere = [{ uri: 'sip:desk@127.0.0.1:9', ringTimeoutS: 15 }];
  const testDefaults = {
    local: { host: '127.0.0.1', port: 0 },
    sip: { localPort: 0, targets: { emergency: nowhere, information: nowhere } },
    // The example's test target is the demo's answerer: a test names its own, or gets the default (the first desk).
    supervision: { target: '' },
    dataDir: path.join(dir, 'data'),
    log: { level: 'info' },
  };
  const config = deepMerge(deepMerge(merged.value, testDefaults as Json), overrides as Json) as Record<string, unknown>;
  if (!('hub' in overrides)) delete config.hub;
  // The file is written elsewhere: keep the example site's relative map paths pointing at it.
  const display = config.display as { wayfinding?: string } | undefined;
  if (display?.wayfinding) display.wayfinding = path.resolve(EXAMPLE, 'kiosks', display.wayfinding);
  const map = (config.site as { map?: { floorplan?: string } } | undefined)?.map;
  if (map?.floorplan) map.floorplan = path.resolve(EXAMPLE, 'kiosks', map.floorplan);
  const file = path.join(dir, 'kiosk.json');
  writeFileSync(file, JSON.stringify({ $schema: 'kiosk.schema.json', ...config }, null, 2));
  return { file, dir, config };
}

export interface KioskProc {
  proc: Managed;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Runs `helppoint kiosk` as a real process and waits for "ready"; `compiled` runs the build (dist/), which starts faster; `nodeArgs` go to node. */
export async function startKioskProcess(file: string, env: NodeJS.ProcessEnv = {}, opts: { compiled?: boolean; nodeArgs?: string[] } = {}): Promise<KioskProc> {
  // The young generation as the systemd unit sets it (device/systemd/helppoint-kiosk.service).
  const v8 = ['--max-semi-space-size=1', ...(opts.nodeArgs ?? [])];
  const args = opts.compiled ? [...v8, path.join(REPO, 'dist/src/cli.js')] : [...v8, '--import', 'tsx', CLI];
  const proc = start('kiosk', process.execPath, [...args, 'kiosk', '--config', file], {
    cwd: REPO,
    env: { ...process.env, ...env },
    // like systemd: a kiosk that restarts itself to apply a config is started again
    restartExitCode: RESTART_EXIT_CODE,
  });
  const line = await proc.waitFor(/"msg":"ready"/, 20_000);
  const url = (JSON.parse(line) as { local: string }).local;
  return { proc, port: Number(new URL(url).port), url, stop: () => proc.stop() };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json().catch(() => null) };
}

/** The example site's hub config (top-level keys of `overrides` replaced) on a free port and a fresh data folder, written to a temp file; start() runs it (again after a stop). */
export async function exampleHub(overrides: Record<string, unknown> = {}): Promise<{ file: string; port: number; base: string; start(): Promise<Managed> }> {
  const m = readMerged(path.join(EXAMPLE, 'hub.json'));
  if (!m.ok) throw new Error(`example hub config: ${JSON.stringify(m.errors)}`);
  const port = await freePort();
  const dir = tmpDir('hp-hub-');
  const file = path.join(dir, 'hub.json');
  writeFileSync(file, JSON.stringify({ ...(m.value as object), ...overrides, listen: { host: '127.0.0.1', port }, dataDir: path.join(dir, 'data'), $schema: 'hub.schema.json' }));
  return {
    file,
    port,
    base: `http://127.0.0.1:${port}`,
    start: async () => {
      const p = start('hub', process.execPath, ['--import', 'tsx', CLI, 'hub', '--config', file], { cwd: REPO });
      await p.waitFor(/"msg":"ready"/, 60_000);
      return p;
    },
  };
}
