// A store for @fastify/rate-limit in the hub's database: every hub instance
// on one PostgreSQL counts the same attempts (the plugin's default store is
// per process). A fixed window per key, as the plugin's local store does.
//
// Increments asked for in the same turn of the event loop (a log-in counts
// its address and its user name; log-ins arriving together) go to the
// database as one statement: with the embedded PGlite every statement runs on
// the event loop, and a log-in's two counters were two of its five.
// Each caller still gets the count as if the increments had run one after
// the other in the order they were asked for.
import type { Sql } from './storage/db.js';

type Callback = (err: Error | null, res?: { current: number; ttl: number }) => void;

interface Pending {
  key: string;
  cb: Callback;
}

export function sqlRateLimitStore(db: Sql) {
  // One batch per window length (the log-in limits share one), flushed after this turn's I/O callbacks.
  const batches = new Map<number, Pending[]>();

  async function flush(timeWindow: number, batch: Pending[]): Promise<void> {
    const keys = batch.map((p) => p.key);
    const rows = await db.query<{ key: string; hits: number; ttl: number }>(
      `with k as (select key, count(*)::int as n from unnest($1::text[]) as key group by key)
       insert into rate_limits as r (key, hits, window_start) select key, n, now() from k
       on conflict (key) do update set
         hits = case when r.window_start + $2::float8 * interval '1 millisecond' <= now() then excluded.hits else r.hits + excluded.hits end,
         window_start = case when r.window_start + $2::float8 * interval '1 millisecond' <= now() then now() else r.window_start end
       returning key, hits, greatest(0, extract(epoch from (window_start + $2::float8 * interval '1 millisecond' - now())) * 1000)::float8 as ttl`,
      [keys, timeWindow],
    );
    const byKey = new Map(rows.map((r) => [r.key, r]));
    // The last caller of a key sees the total; earlier callers of the same key one less each.
    const left = new Map<string, number>();
    for (const k of keys) left.set(k, (left.get(k) ?? 0) + 1);
    for (const p of batch) {
      const r = byKey.get(p.key);
      if (!r) {
        p.cb(new Error(`rate limit: no row for ${p.key}`));
        continue;
      }
      const after = left.get(p.key)! - 1;
      left.set(p.key, after);
      p.cb(null, { current: r.hits - after, ttl: r.ttl });
    }
  }

  return class SqlRateLimitStore {
    incr(key: string, cb: Callback, timeWindow: number): void {
      let batch = batches.get(timeWindow);
      if (!batch) {
        batch = [];
        batches.set(timeWindow, batch);
        const mine = batch;
        setImmediate(() => {
          batches.delete(timeWindow);
          flush(timeWindow, mine).catch((err: Error) => {
            for (const p of mine) p.cb(err);
          });
        });
      }
      batch.push({ key, cb });
    }

    read(key: string, cb: Callback, timeWindow: number): void {
      db.query<{ hits: number; ttl: number }>(
        `select hits, greatest(0, extract(epoch from (window_start + $2::float8 * interval '1 millisecond' - now())) * 1000)::float8 as ttl
           from rate_limits where key = $1 and window_start + $2::float8 * interval '1 millisecond' > now()`,
        [key, timeWindow],
      ).then(([r]) => cb(null, r ? { current: r.hits, ttl: r.ttl } : { current: 0, ttl: 0 }), (err: Error) => cb(err));
    }

    child(): SqlRateLimitStore {
      return new SqlRateLimitStore();
    }
  };
}
