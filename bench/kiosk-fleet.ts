// Light kiosks for the hub benchmark, spread over child processes: each child
// holds its share of the sockets on its own event loop, so the measuring
// process (the poller) and the kiosks do not queue behind one another on one
// thread. The kiosks are the same light kiosks (test/helpers/light-kiosk.ts:
// real WebSockets, hello, heartbeats, acks, command results).
//
// Run as a child (fork with tsx): `kiosk-fleet.ts child`; the parent side is
// startFleet().
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lightKiosk, type LightKiosk } from '../test/helpers/light-kiosk.js';
import { cpuMs } from './stats.js';

type ToChild = { t: 'connect'; kiosks: { url: string; id: string; token: string }[]; wave: number } | { t: 'silent'; id: string } | { t: 'close' };
type ToParent = { t: 'ready' } | { t: 'welcomed'; n: number } | { t: 'error'; message: string };

export interface Fleet {
  /** the child processes' ids (their CPU is read from /proc) */
  pids: number[];
  /** CPU (user+system, ms) the children have used so far */
  cpuMs(): number;
  /** this kiosk stops sending heartbeats (offline detection) */
  silence(id: string): void;
  close(): Promise<void>;
}

/**
 * Connects kiosks `k0..k(n-1)` (kiosk i to url(i), token token(i)) from `procs` child processes, kiosk i in child
 * i % procs; each child opens its share in waves of `wave` and the promise resolves once every kiosk is welcomed.
 */
// HP_BENCH_CPU_PROF=DIR: the children write V8 CPU profiles there too (as the hub processes), when they exit.
const profArgs = () => (process.env.HP_BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-interval=250', `--cpu-prof-dir=${process.env.HP_BENCH_CPU_PROF}`] : []);

export async function startFleet(opts: { n: number; procs: number; url: (i: number) => string; token: (i: number) => string; wave?: number }): Promise<Fleet> {
  const self = fileURLToPath(import.meta.url);
  const children: ChildProcess[] = [];
  const owner = new Map<string, ChildProcess>();
  const waits: Promise<void>[] = [];
  for (let p = 0; p < opts.procs; p++) {
    const child = fork(self, ['child'], { execArgv: ['--import', 'tsx', ...profArgs()], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    const kiosks: { url: string; id: string; token: string }[] = [];
    for (let i = p; i < opts.n; i += opts.procs) {
      kiosks.push({ url: opts.url(i), id: `k${i}`, token: opts.token(i) });
      owner.set(`k${i}`, child);
    }
    waits.push(
      new Promise<void>((resolve, reject) => {
        child.on('message', (m: ToParent) => {
          if (m.t === 'ready') child.send({ t: 'connect', kiosks, wave: Math.max(1, Math.ceil((opts.wave ?? opts.n) / opts.procs)) } satisfies ToChild);
          else if (m.t === 'welcomed') resolve();
          else if (m.t === 'error') reject(new Error(`kiosk fleet child: ${m.message}`));
        });
        child.on('exit', (code) => reject(new Error(`kiosk fleet child exited (${code})`)));
      }),
    );
  }
  const fleet: Fleet = {
    pids: children.map((c) => c.pid!),
    cpuMs: () => children.reduce((s, c) => s + (c.exitCode === null ? cpuMs(c.pid!) : 0), 0),
    silence: (id) => owner.get(id)?.send({ t: 'silent', id } satisfies ToChild),
    close: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              const t = setTimeout(() => c.kill('SIGKILL'), 5000);
              c.once('exit', () => (clearTimeout(t), resolve()));
              c.send({ t: 'close' } satisfies ToChild);
            }),
        ),
      );
    },
  };
  try {
    await Promise.all(waits);
  } catch (err) {
    for (const c of children) c.kill('SIGKILL');
    throw err;
  }
  return fleet;
}

if (process.argv[2] === 'child' && process.send) {
  const send = (m: ToParent) => process.send!(m);
  const mine = new Map<string, LightKiosk>();
  process.on('message', (m: ToChild) => {
    if (m.t === 'connect') {
      void (async () => {
        try {
          for (let i = 0; i < m.kiosks.length; i += m.wave) {
            const batch = m.kiosks.slice(i, i + m.wave).map((k) => lightKiosk(k.url, k.id, k.token));
            await Promise.all(batch.map((c) => c.welcomed));
            for (const c of batch) mine.set(c.id, c);
          }
          send({ t: 'welcomed', n: mine.size });
        } catch (err) {
          send({ t: 'error', message: (err as Error).message });
        }
      })();
    } else if (m.t === 'silent') {
      const k = mine.get(m.id);
      if (k) k.silent = true;
    } else if (m.t === 'close') {
      for (const k of mine.values()) k.ws.terminate();
      process.disconnect();
      setTimeout(() => process.exit(0), 50);
    }
  });
  send({ t: 'ready' });
}
