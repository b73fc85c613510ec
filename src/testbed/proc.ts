// Child processes of the test bed and the demo: started with their own
// process group, watched for a readiness line, and stopped by PID (TERM,
// then KILL after a grace period). Output is kept for diagnostics.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Managed {
  name: string;
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the first line matching re, rejects on exit or timeout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Managed>();
/** Shared for a whole run (the test bed's PostgreSQL): stopped by their owner, not by stopAll(); still killed when the process exits. */
const shared = new Set<Managed>();

/** Keeps this process out of stopAll(): its owner stops it (a server shared by many suites). */
export function shareProcess(m: Managed): void {
  shared.add(m);
}

export function start(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Managed {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...opts });
  if (!child.pid) throw new Error(`${name}: could not start ${cmd}`);
  let out = '';
  const lines: ((line: string) => void)[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    const text = d.toString();
    out += text;
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
    partial += text;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) for (const l of [...lines]) l(line);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  const m: Managed = {
    name,
    child,
    pid: child.pid,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 10_000) {
      const found = out.split('\n').find((l) => re.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => finish(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms\n${out.slice(-3000)}`)), timeoutMs);
        const onLine = (line: string) => re.test(line) && finish(undefined, line);
        const finish = (err?: Error, line?: string) => {
          clearTimeout(t);
          lines.splice(lines.indexOf(onLine), 1);
          if (err) reject(err);
          else resolve(line!);
        };
        lines.push(onLine);
        void exited.then((code) => finish(new Error(`${name}: exited (${code}) before a line matching ${re}\n${out.slice(-3000)}`)));
      });
    },
    async stop(graceMs = 3000) {
      running.delete(m);
      shared.delete(m);
      if (done) return;
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-m.pid, sig); // the whole group
        } catch {
          try {
            process.kill(m.pid, sig);
          } catch {
            /* gone */
          }
        }
      };
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
  running.add(m);
  return m;
}

/** Stops everything still running (test teardown, demo exit). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].filter((m) => !shared.has(m)).map((m) => m.stop()));
}

process.on('exit', () => {
  for (const m of running) {
    try {
      process.kill(-m.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});
