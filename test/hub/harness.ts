// In-process hubs for the hub tests: the example site's hub config with a
// fresh data folder (PGlite) or a fresh database on the test bed's PostgreSQL.
import path from 'node:path';
import pino from 'pino';
import { loadHubConfig } from '../../src/config/load.js';
import type { HubConfig } from '../../src/config/schema/hub.js';
import { Hub } from '../../src/hub/app.js';
import { EXAMPLE } from '../helpers/processes.js';
import { tmpDir } from '../helpers/tmp.js';

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
