// The embedded default: PGlite in a data folder. A new folder is copied from
// a template made once per PGlite version (initdb in WebAssembly takes seconds
// on a busy board; a copy takes a fraction of that).
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Db, Sql } from './db.js';

const pgliteVersion = (() => {
  try {
    return (createRequire(import.meta.url)('@electric-sql/pglite/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

async function templateDir(): Promise<string> {
  const dir = path.join(process.env.HP_PGLITE_TEMPLATE_DIR ?? os.tmpdir(), `helppoint-pglite-${pgliteVersion}`);
  if (existsSync(path.join(dir, 'PG_VERSION'))) return dir;
  // Made beside it and renamed into place, so processes starting together never see half a template.
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const db = await PGlite.create(tmp);
  await db.close();
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process was first
  }
  return dir;
}

export async function openPglite(dataDir: string): Promise<Db> {
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    mkdirSync(path.dirname(dataDir), { recursive: true });
    try {
      cpSync(await templateDir(), dataDir, { recursive: true });
    } catch {
      rmSync(dataDir, { recursive: true, force: true }); // PGlite makes it itself, slowly
    }
  }
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
