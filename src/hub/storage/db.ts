// The hub's database connection, whichever engine is behind it: PGlite (an
// embedded PostgreSQL in WebAssembly, a data folder) or a real PostgreSQL
// server. Both run exactly the same SQL; this is the only seam between them.

/** Runs one statement with $1.. parameters and returns its rows. */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Db extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
  /**
   * LISTEN on a channel; the callback gets each NOTIFY payload. With PGlite
   * (one process) notifications stay inside the process.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<void>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL's limit for a NOTIFY payload is 8,000 bytes; we send ids, never documents. */
export const MAX_NOTIFY_BYTES = 7900;
