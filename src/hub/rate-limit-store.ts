// A store for @fastify/rate-limit in the hub's database: every hub instance
// on one PostgreSQL counts the same attempts (the plugin's default store is
// per process). A fixed window per key, as the plugin's local store does.
import type { Sql } from './storage/db.js';

type Callback = (err: Error | null, res?: { current: number; ttl: number }) => void;

export function sqlRateLimitStore(db: Sql) {
  return class SqlRateLimitStore {
    incr(key: string, cb: Callback, timeWindow: number): void {
      db.query<{ hits: number; ttl: number }>(
        `insert into rate_limits as r (key, hits, window_start) values ($1, 1, now())
         on conflict (key) do update set
           hits = case when r.window_start + $2::float8 * interval '1 millisecond' <= now() then 1 else r.hits + 1 end,
           window_start = case when r.window_start + $2::float8 * interval '1 millisecond' <= now() then now() else r.window_start end
         returning hits, greatest(0, extract(epoch from (window_start + $2::float8 * interval '1 millisecond' - now())) * 1000)::float8 as ttl`,
        [key, timeWindow],
      ).then(([r]) => cb(null, { current: r!.hits, ttl: r!.ttl }), (err: Error) => cb(err));
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
