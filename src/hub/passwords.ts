// Console passwords and kiosk tokens are stored only as hashes. Passwords use
// scrypt (memory-hard) through node's async API, so hashing runs on libuv's
// thread pool and never blocks the event loop.
//   scrypt$<salt hex>$<hash hex>                 N=16384, r=8, p=1 (older hashes)
//   scrypt$N=<n>,r=<r>,p=<p>$<salt hex>$<hash hex>
import { scrypt, randomBytes, timingSafeEqual, createHash, type ScryptOptions } from 'node:crypto';
import os from 'node:os';

/**
 * The cost of new hashes: N=2^13, r=8, p=1 (8 MiB of memory per hash, about
 * 20 ms of one core). Chosen for the log-in goal (bench hub: login_p99_ms
 * <= 300 ms with 8 log-ins at a time on a two-core hub): a burst of 8 costs
 * 8 hashes on 2 cores, so the last of them waits about 4 hash times; N=2^14
 * (16 MiB, Percival's figure for interactive log-ins) missed it (p99 454 ms,
 * median 198 ms). This is below OWASP's scrypt minimum (N=2^17 r=8 p=1, or
 * the same work as N=2^13 r=8 p=10): about 16 times this work per log-in,
 * seconds for a burst of 8 on two cores. It stays memory-hard; online
 * guessing is held back by the per-user and per-address log-in limits; a
 * site that wants more sets the cost of its own hashes
 * (helppoint hash-password), which keep their parameters.
 */
export const DEFAULT_COST = { N: 8192, r: 8, p: 1 };

// Hashes wait their turn in one FIFO queue, at most `hashSlots` at a time.
// Left to itself, libuv's pool (4 threads) takes a burst of log-ins 4 at a
// time in no promised order, leaves no thread for file I/O while it hashes,
// and on a two-core hub puts 4 memory-hard hashes (8 MiB each) on the cores
// against the event loop (HTTP, the embedded database). The default is the
// number of cores, at most the pool minus one thread; console.hashThreads
// sets it (bench hub compares it with the whole pool in one run).
const poolThreads = () => Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4);
const defaultSlots = () => Math.max(1, Math.min(os.availableParallelism(), poolThreads() - 1));
let hashSlots = defaultSlots();
let hashing = 0;
const queue: (() => void)[] = [];

/** How many hashes may run at once (console.hashThreads; default: the cores, at most libuv's pool minus one). */
export function setHashConcurrency(n: number | undefined): void {
  hashSlots = n === undefined ? defaultSlots() : Math.max(1, Math.floor(n));
  while (queue.length && hashing < hashSlots) {
    hashing++;
    queue.shift()!();
  }
}

/** Hashes waiting for a slot and running (diagnostics, tests). */
export const hashQueue = () => ({ slots: hashSlots, running: hashing, waiting: queue.length });

const scryptNow = (password: string, salt: Buffer, len: number, o: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scrypt(password, salt, len, { ...o, maxmem: 256 * (o.N ?? 16384) * (o.r ?? 8) + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))));

async function run(password: string, salt: Buffer, len: number, o: ScryptOptions): Promise<Buffer> {
  // A slot is taken here or handed over by the hash that finished (so a newcomer cannot slip in between).
  if (hashing < hashSlots) hashing++;
  else await new Promise<void>((go) => queue.push(go));
  try {
    return await scryptNow(password, salt, len, o);
  } finally {
    if (queue.length && hashing <= hashSlots) queue.shift()!();
    else hashing--;
  }
}

export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await run(password, salt, 32, cost);
  return `scrypt$N=${cost.N},r=${cost.r},p=${cost.p}$${salt.toString('hex')}$${key.toString('hex')}`;
}

function parse(stored: string): { o: ScryptOptions; salt: Buffer; hash: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts[0] !== 'scrypt') return undefined;
  let o: ScryptOptions = { N: 16384, r: 8, p: 1 };
  if (parts.length === 4) {
    const m = /^N=(\d+),r=(\d+),p=(\d+)$/.exec(parts[1]!);
    if (!m) return undefined;
    o = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
    parts.splice(1, 1);
  }
  if (parts.length !== 3 || !/^[0-9a-f]+$/.test(parts[1]!) || !/^[0-9a-f]{32,}$/.test(parts[2]!)) return undefined;
  return { o, salt: Buffer.from(parts[1]!, 'hex'), hash: Buffer.from(parts[2]!, 'hex') };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const p = parse(stored);
  if (!p) return false;
  const actual = await run(password, p.salt, p.hash.length, p.o);
  return timingSafeEqual(actual, p.hash);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A new random kiosk token (shown once; the hub keeps its SHA-256). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}
