// A real PostgreSQL server for tests and benchmarks, from Debian's package:
// initdb in a temporary folder, a free port on loopback, run in the
// foreground as our own child and stopped by PID, like Kamailio. initdb and
// postgres refuse to run as root: as root (CI, the project's machines) they
// run as the `postgres` system user the package creates, through setpriv.
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { shareProcess, start, type Managed } from './proc.js';
import { freePort } from './ports.js';

export interface Postgres {
  proc: Managed;
  port: number;
  dir: string;
  /** a URL for a database, created on first use */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The folder with initdb and postgres (the newest installed major version), or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin/postgres')) && existsSync(path.join(root, v, 'bin/initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

function asPostgresUser(): { prefix: string[]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups'], uid, gid };
}

export async function startPostgres(opts: { durable?: boolean } = {}): Promise<Postgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (Debian package postgresql); run: bash scripts/install-system.sh');
  const user = asPostgresUser();
  // Under the system temp folder (the postgres user must reach it), owned by that user.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-postgres-'));
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!);
  const data = path.join(dir, 'data');
  const run = (cmd: string, args: string[]) => (user.prefix.length ? [user.prefix[0]!, [...user.prefix.slice(1), cmd, ...args]] : [cmd, args]) as [string, string[]];
  const [initCmd, initArgs] = run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  execFileSync(initCmd, initArgs, { stdio: 'pipe', cwd: dir });
  const port = await freePort();
  const settings = [
    '-c', 'listen_addresses=127.0.0.1',
    '-c', `unix_socket_directories=${dir}`,
    '-c', 'max_connections=200',
    '-c', 'shared_buffers=64MB',
    // Tests need no durability; the benchmark measures a durable server (fsync and synchronous commit on).
    ...(opts.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
  ];
  const [cmd, args] = run(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), ...settings]);
  const proc = start('postgres', cmd, args, { cwd: dir });
  await proc.waitFor(/database system is ready to accept connections/, 30_000);
  // One server serves many suites, and their teardown stops "all" their peers: not this one.
  shareProcess(proc);
  const made = new Set<string>();
  return {
    proc,
    port,
    dir,
    async database(name) {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      if (!made.has(name)) {
        const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
        await c.connect();
        try {
          await c.query(`create database ${name}`);
        } finally {
          await c.end();
        }
        made.add(name);
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await proc.stop(10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
