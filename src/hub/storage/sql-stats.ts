// Diagnostics: HP_SQL_STATS=FILE makes the hub count each SQL statement (calls,
// rows, time from call to result) and write the table to FILE when it closes.
// For profiling the hub under a benchmark; off by default, no cost when off.
import { writeFileSync } from 'node:fs';
import type { Db, Sql } from './db.js';

export function withSqlStats(db: Db, file: string | undefined): Db {
  if (!file) return db;
  const stats = new Map<string, { calls: number; rows: number; ms: number }>();
  const count = (sql: Sql, tag: string): Sql => ({
    async query<T>(text: string, params?: unknown[]) {
      const t = performance.now();
      const rows = await sql.query<T>(text, params);
      const key = tag + text.replace(/\s+/g, ' ').slice(0, 160);
      const s = stats.get(key) ?? { calls: 0, rows: 0, ms: 0 };
      s.calls++;
      s.rows += rows.length;
      s.ms += performance.now() - t;
      stats.set(key, s);
      return rows;
    },
  });
  const base = count(db, '');
  return {
    ...db,
    kind: db.kind,
    query: base.query,
    transaction: (fn) => db.transaction((tx) => fn(count(tx, 'tx: '))),
    async close() {
      const lines = [...stats].sort((a, b) => b[1].ms - a[1].ms).map(([k, s]) => `${s.ms.toFixed(0).padStart(8)} ms ${String(s.calls).padStart(7)} calls ${String(s.rows).padStart(8)} rows  ${k}`);
      writeFileSync(`${file}.${process.pid}`, lines.join('\n') + '\n');
      await db.close();
    },
  };
}
