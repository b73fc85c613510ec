// Opens the hub's storage: PostgreSQL when a URL is given, else PGlite in the data folder.
import path from 'node:path';
import type { Logger } from '../../core/log.js';
import { HubStorage } from './storage.js';

export { HubStorage } from './storage.js';

export async function openStorage(opts: { url?: string; dataDir: string; log: Logger; poolSize?: number }): Promise<HubStorage> {
  const db = opts.url
    ? await (await import('./postgres.js')).openPostgres(opts.url, opts.log, opts.poolSize)
    : await (await import('./pglite.js')).openPglite(path.join(opts.dataDir, 'pglite'));
  const storage = new HubStorage(db);
  const applied = await storage.migrate();
  if (applied.length) opts.log.info({ applied, engine: db.kind }, 'database migrated');
  return storage;
}
