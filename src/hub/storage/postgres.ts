// A real PostgreSQL server through node-postgres: a pool for queries and one
// dedicated connection that LISTENs for the other hub instances' notifications
// (reconnected if the server drops it).
import pg from 'pg';
import type { Db, Sql } from './db.js';
import type { Logger } from '../../core/log.js';

export async function openPostgres(url: string, log: Logger, poolSize = 10): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'helppoint-hub' });
  pool.on('error', (err) => log.warn({ err: err.message }, 'database connection lost (pool)'));
  await pool.query('select 1'); // fail at start-up, not at the first request
  const listeners = new Map<string, ((payload: string) => void)[]>();
  let listener: pg.Client | undefined;
  let closed = false;

  const connectListener = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url, application_name: 'helppoint-hub-listen' });
    c.on('notification', (n) => {
      for (const cb of listeners.get(n.channel) ?? []) cb(n.payload ?? '');
    });
    c.on('error', (err) => {
      log.warn({ err: err.message }, 'database LISTEN connection lost; reconnecting');
      listener = undefined;
      c.end().catch(() => undefined);
      if (!closed) setTimeout(() => void connectListener().catch((e: Error) => log.error({ err: e.message }, 'LISTEN reconnect failed')), 500);
    });
    await c.connect();
    for (const ch of listeners.keys()) await c.query(`LISTEN ${ident(ch)}`);
    listener = c;
  };
  await connectListener();

  const sql: Sql = {
    async query<T>(text: string, params?: unknown[]) {
      return retried(async () => (await pool.query(text, params as unknown[])).rows as T[]);
    },
  };
  return {
    kind: 'postgres',
    query: sql.query,
    transaction: (fn) =>
      retried(async () => {
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          const r = await fn({ query: async <T>(t: string, p?: unknown[]) => (await c.query(t, p as unknown[])).rows as T[] });
          await c.query('COMMIT');
          return r;
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          c.release();
        }
      }),
    exec: async (text) => void (await pool.query(text)),
    async listen(channel, cb) {
      const first = !listeners.has(channel);
      listeners.set(channel, [...(listeners.get(channel) ?? []), cb]);
      if (first && listener) await listener.query(`LISTEN ${ident(channel)}`);
    },
    async notify(channel, payload) {
      await pool.query('select pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      closed = true;
      await listener?.end().catch(() => undefined);
      await pool.end();
    },
  };
}

/**
 * Two instances (or two batches of one) updating the same kiosk rows in a
 * different order can deadlock; PostgreSQL then aborts one of them (40P01,
 * or 40001 for a serialization failure). The aborted statement or
 * transaction changed nothing, so it is simply run again, a few times with
 * a random pause, rather than losing a batch of acks or a pending push.
 */
async function retried<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== '40P01' && code !== '40001') || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
    }
  }
}

function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad channel name ${name}`);
  return name;
}
