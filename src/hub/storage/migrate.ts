// Plain SQL migrations: migrations/NNN_name.sql, applied once each in order,
// inside a transaction, under an advisory lock so hub instances starting
// together on one PostgreSQL do not race.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

// The .sql files are not compiled: from dist/ they are read in the source tree.
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MIGRATIONS_DIR = existsSync(path.join(HERE, 'migrations')) ? path.join(HERE, 'migrations') : path.resolve(HERE, '../../../../src/hub/storage/migrations');

/** opts.until: apply the migrations up to and including this file only (tests of a migration's backfill). */
export async function migrate(db: Db, opts: { until?: string } = {}): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f) && (opts.until === undefined || f <= opts.until))
    .sort();
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(72190311)');
    await tx.query('create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())');
    const done = new Set((await tx.query<{ name: string }>('select name from schema_migrations')).map((r) => r.name));
    const applied: string[] = [];
    for (const f of files) {
      if (done.has(f)) continue;
      // Statements one by one: the extended protocol takes one statement per query.
      for (const stmt of splitSql(readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8'))) await tx.query(stmt);
      await tx.query('insert into schema_migrations (name) values ($1)', [f]);
      applied.push(f);
    }
    return applied;
  });
}

/** Splits a migration on semicolons at line ends (our files keep one statement per `;\n`). */
export function splitSql(text: string): string[] {
  return text
    .replace(/--[^\n]*/g, '')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}
