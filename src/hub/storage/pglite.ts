// The embedded default: PGlite in a data folder. A new folder is copied from
// a template made once per PGlite version and schema (initdb and the
// migrations in WebAssembly take seconds on a busy board; a copy takes less).
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Db, Sql } from './db.js';

const pgliteVersion = (() => {
  try {
    // the package's exports hide package.json: find it beside the resolved entry
    let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

export interface PgliteTemplate {
  /** names the schema the template holds (e.g. a hash of the migrations) */
  key: string;
  /** brings a fresh database to that schema */
  prepare(db: Db): Promise<void>;
}

async function templateDir(t: PgliteTemplate): Promise<string> {
  const dir = path.join(process.env.HP_PGLITE_TEMPLATE_DIR ?? os.tmpdir(), `helppoint-pglite-${pgliteVersion}-${t.key}`);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return dir;
  // Made beside it and renamed into place, so processes starting together never see half a template.
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const db = await connect(tmp);
  try {
    await t.prepare(db);
  } finally {
    await db.close();
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process was first
  }
  return dir;
}

export async function openPglite(dataDir: string, template?: PgliteTemplate): Promise<Db> {
  if (template && !existsSync(path.join(dataDir, 'PG_VERSION'))) {
    mkdirSync(path.dirname(dataDir), { recursive: true });
    try {
      cpSync(await templateDir(template), dataDir, { recursive: true });
    } catch {
      rmSync(dataDir, { recursive: true, force: true }); // PGlite makes it itself, slowly
    }
  }
  return connect(dataDir);
}

async function connect(dataDir: string): Promise<Db> {
  const pg = await PGlite.create(dataDir);
  const listeners = new Map<string, ((payload: string) => void)[]>();
  const wrap = (q: { query: PGlite['query'] }): Sql => ({
    async query<T>(text: string, params?: unknown[]) {
      return (await q.query<T>(text, params)).rows;
    },
  });
  const base = wrap(pg);
  return {
    kind: 'pglite',
    query: base.query,
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    exec: async (text) => void (await pg.exec(text)),
    async listen(channel, cb) {
      listeners.set(channel, [...(listeners.get(channel) ?? []), cb]);
    },
    async notify(channel, payload) {
      // One process: deliver in-process, after the current tick like a real NOTIFY.
      for (const cb of listeners.get(channel) ?? []) setImmediate(() => cb(payload));
    },
    close: () => pg.close(),
  };
}
