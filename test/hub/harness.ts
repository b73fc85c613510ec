// In-process hubs for the hub tests: the example site's hub config with a
// fresh data folder (PGlite) or a fresh database on the test bed's PostgreSQL.
import path from 'node:path';
import pino from 'pino';
import { loadHubConfig } from '../../src/config/load.js';
import type { HubConfig } from '../../src/config/schema/hub.js';
import { Hub } from '../../src/hub/app.js';
import { EXAMPLE } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';
import { postgresBinDir, startPostgres, type Postgres } from '../../src/testbed/postgres.js';

export interface TestHub {
  hub: Hub;
  base: string;
  wsUrl: string;
  dataDir: string;
  config: HubConfig;
  stop(): Promise<void>;
}

export const DEMO_TOKEN = (kiosk: string) => `demo-token-${kiosk}-change-me`;

export async function startHub(opts: { dataDir?: string; databaseUrl?: string; patch?: (c: HubConfig) => void; log?: boolean } = {}): Promise<TestHub> {
  const { config, dir } = loadHubConfig(path.join(EXAMPLE, 'hub.json'));
  config.dataDir = opts.dataDir ?? tmpDir('hp-hub-');
  opts.patch?.(config);
  const hub = new Hub({ config, configDir: dir, port: 0, databaseUrl: opts.databaseUrl, logDestination: opts.log ? undefined : pino.destination('/dev/null') });
  await hub.start();
  return { hub, base: `http://127.0.0.1:${hub.port}`, wsUrl: `ws://127.0.0.1:${hub.port}/kiosk`, dataDir: config.dataDir, config, stop: () => hub.stop() };
}

// ---- engines: every hub suite runs on PGlite and, where the server is installed (CI), on PostgreSQL.

let server: Promise<Postgres> | undefined;
let dbCount = 0;

/** The test bed's PostgreSQL, started once for the whole run (stopped when mocha ends). */
export function sharedPostgres(): Promise<Postgres> {
  server ??= startPostgres();
  return server;
}

// Under mocha a root hook stops it; elsewhere (a benchmark) the caller does.
if (typeof after === 'function')
  after(async () => {
    if (server) await (await server).stop();
  });

export interface Engine {
  name: 'pglite' | 'postgres';
  /** a fresh database URL (postgres), or undefined (PGlite in the data folder) */
  fresh(): Promise<string | undefined>;
}

export function engines(): Engine[] {
  const list: Engine[] = [{ name: 'pglite', fresh: async () => undefined }];
  if (postgresBinDir() && process.env.HP_TEST_NO_POSTGRES !== '1') list.push({ name: 'postgres', fresh: async () => (await sharedPostgres()).database(`hub_${process.pid}_${++dbCount}`) });
  else if (process.env.CI) throw new Error('PostgreSQL is not installed: CI runs the hub tests on it too (bash scripts/install-system.sh)');
  return list;
}
