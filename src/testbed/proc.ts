// Child processes of the test bed and the demo: started with their own
// process group, watched for a readiness line, and stopped by PID (TERM,
// then KILL after a grace period). Output is kept for diagnostics. A child
// that exits with the restart status (a kiosk applying a config that needs a
// restart) is started again with the same command, like systemd would.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Managed {
  name: string;
  /** the running child (a new one after each restart) */
  readonly child: ChildProcess;
  readonly pid: number;
  /** how many times it was started again after exiting with the restart status */
  readonly restarts: number;
  output(): string;
  /** Resolves with the first line matching re (since the start, across restarts), rejects on the final exit or timeout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the first line matching re printed after this call. */
  waitForNext(re: RegExp, timeoutMs?: number): Promise<string>;
  /** the final exit (not one followed by a restart) */
  exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions extends SpawnOptions {
  /** exit status that means "start me again" (src/core/exit-codes.ts) */
  restartExitCode?: number;
}

const running = new Set<Managed>();
/** Shared for a whole run (the test bed's PostgreSQL): stopped by their owner, not by stopAll(); still killed when the process exits. */
const shared = new Set<Managed>();

/** Keeps this process out of stopAll(): its owner stops it (a server shared by many suites). */
export function shareProcess(m: Managed): void {
  shared.add(m);
}

export function start(name: string, cmd: string, args: string[], opts: StartOptions = {}): Managed {
  const { restartExitCode, ...spawnOpts } = opts;
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
  let child!: ChildProcess;
  let restarts = 0;
  let stopping = false;
  let done = false;
  let resolveExit!: (code: number | null) => void;
  const exited = new Promise<number | null>((resolve) => (resolveExit = resolve));
  void exited.then(() => (done = true));
  const spawnOne = () => {
    child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...spawnOpts });
    if (!child.pid) throw new Error(`${name}: could not start ${cmd}`);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      if (restartExitCode !== undefined && code === restartExitCode && !stopping) {
        restarts++;
        out += `[${name}: exited ${code}, starting again]\n`;
        try {
          return spawnOne();
        } catch {
          /* could not start again: that is the final exit */
        }
      }
      resolveExit(code);
    });
  };
  spawnOne();
  const waitLine = (re: RegExp, timeoutMs: number, fromNow: boolean): Promise<string> => {
    const found = fromNow ? undefined : out.split('\n').find((l) => re.test(l));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => finish(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms\n${out.slice(-3000)}`)), timeoutMs);
      const onLine = (line: string) => re.test(line) && finish(undefined, line);
      const finish = (err?: Error, line?: string) => {
        clearTimeout(t);
        const i = lines.indexOf(onLine);
        if (i >= 0) lines.splice(i, 1);
        if (err) reject(err);
        else resolve(line!);
      };
      lines.push(onLine);
      void exited.then((code) => finish(new Error(`${name}: exited (${code}) before a line matching ${re}\n${out.slice(-3000)}`)));
    });
  };
  const m: Managed = {
    name,
    get child() {
      return child;
    },
    get pid() {
      return child.pid!;
    },
    get restarts() {
      return restarts;
    },
    output: () => out,
    exited,
    waitFor: (re, timeoutMs = 10_000) => waitLine(re, timeoutMs, false),
    waitForNext: (re, timeoutMs = 10_000) => waitLine(re, timeoutMs, true),
    async stop(graceMs = 3000) {
      running.delete(m);
      stopping = true;
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
