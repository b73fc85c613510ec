// Opens the hub's storage: PostgreSQL when a URL is given, else PGlite in the data folder.
import path from 'node:path';
import type { Logger } from '../../core/log.js';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { HubStorage } from './storage.js';
import { MIGRATIONS_DIR, migrate } from './migrate.js';
import { withSqlStats } from './sql-stats.js';

/** Names the schema the migrations make, for PGlite's ready-made template. */
function migrationsHash(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(MIGRATIONS_DIR).sort()) h.update(f).update(readFileSync(path.join(MIGRATIONS_DIR, f)));
  return h.digest('hex').slice(0, 12);
}

export { HubStorage } from './storage.js';

export async function openStorage(opts: { url?: string; dataDir: string; log: Logger; poolSize?: number }): Promise<HubStorage> {
  const db = opts.url
    ? await (await import('./postgres.js')).openPostgres(opts.url, opts.log, opts.poolSize)
    : await (await import('./pglite.js')).openPglite(path.join(opts.dataDir, 'pglite'), { key: migrationsHash(), prepare: async (db) => void (await migrate(db)) });
  const storage = new HubStorage(withSqlStats(db, process.env.HP_SQL_STATS));
  const applied = await storage.migrate();
  if (applied.length) opts.log.info({ applied, engine: db.kind }, 'database migrated');
  return storage;
}
