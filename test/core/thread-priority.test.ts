// V8's background threads reniced, libuv's pool and the main thread left at
// the process's priority (src/core/thread-priority.ts), in a child process so
// the test runner's own threads are not touched.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { poolSize } from '../../src/core/thread-priority.js';
import { kioskConfigFile, startKioskProcess, type KioskProc } from '../helpers/processes.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'thread-priority-child.ts');

/** the child gets libuv's default pool of 4 */
function withoutPoolSize(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.UV_THREADPOOL_SIZE;
  return env;
}

/** nice of a thread: field 19 of /proc/PID/task/TID/stat (after the command name in parentheses) */
function niceOf(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

async function runChild(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; pid: number; result: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { env: withoutPoolSize() });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  while (!out.includes('\n')) await once(child.stdout, 'data');
  const { pid, result } = JSON.parse(out.split('\n')[0]!) as { pid: number; result: Record<string, unknown> };
  return { child, pid, result };
}

describe('background thread priority', function () {
  this.timeout(20_000);
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(async () => {
    if (!child) return;
    child.stdin.write('x\n');
    if (child.exitCode === null) await once(child, 'exit');
    child = undefined;
  });

  it('renices every thread but the main one and the worker pool', async () => {
    const r = await runChild([]);
    child = r.child;
    const res = r.result as { applied: boolean; nice: number; threads: number[]; pool: number[] };
    assert.equal(res.applied, true, JSON.stringify(res));
    assert.equal(res.pool.length, 4);
    assert.equal(new Set(res.pool).size, res.pool.length);
    // Node 20: V8's workers, its delayed-task thread, the inspector's signal thread
    assert.ok(res.threads.length >= 2, `background threads: ${res.threads.length}`);
    const tids = readdirSync(`/proc/${r.pid}/task`).map(Number);
    for (const t of res.pool) assert.ok(tids.includes(t), `pool thread ${t} is a thread of the child`);
    // relative to the priority the test runs at (0 normally)
    const base = os.getPriority(process.pid);
    assert.equal(niceOf(r.pid, r.pid), base, 'main thread');
    for (const t of res.pool) assert.equal(niceOf(r.pid, t), base, `pool thread ${t}`);
    for (const t of res.threads) assert.equal(niceOf(r.pid, t), Math.min(19, base + 10), `background thread ${t}`);
    // and every thread is one of the three kinds
    assert.deepEqual(tids.filter((t) => t !== r.pid && !res.pool.includes(t) && !res.threads.includes(t)), []);
  });

  it('reads the pool size as libuv does', () => {
    assert.equal(poolSize({}), 4);
    assert.equal(poolSize({ UV_THREADPOOL_SIZE: '8' }), 8);
    assert.equal(poolSize({ UV_THREADPOOL_SIZE: '' }), 1);
    assert.equal(poolSize({ UV_THREADPOOL_SIZE: '0' }), 1);
    assert.equal(poolSize({ UV_THREADPOOL_SIZE: '5000' }), 1024);
  });

  it('leaves all threads alone when the pool cannot meet (one worker busy)', async () => {
    const r = await runChild(['--busy-pool']);
    child = r.child;
    const res = r.result as { applied: boolean; reason: string };
    assert.equal(res.applied, false);
    assert.match(res.reason, /worker pool was busy \(\d of 4 threads met\)/);
    for (const t of readdirSync(`/proc/${r.pid}/task`).map(Number)) assert.equal(niceOf(r.pid, t), os.getPriority(process.pid), `thread ${t}`);
  });

  describe('the kiosk command', () => {
    let kiosk: KioskProc | undefined;
    afterEach(async () => {
      await kiosk?.stop();
      kiosk = undefined;
    });

    it('runs with V8\'s threads reniced and its main thread and worker pool as started', async () => {
      kiosk = await startKioskProcess(kioskConfigFile().file);
      await kiosk.proc.waitFor(/lower priority than the main thread/, 10_000);
      // Done before the kiosk starts: finding the pool holds all its threads, which a press's journal write needs.
      const out = kiosk.proc.output();
      assert.ok(out.indexOf('lower priority than the main thread') < out.indexOf('"msg":"ready"'), 'reniced after "ready"');
      const pid = kiosk.proc.pid;
      const base = os.getPriority(process.pid);
      const nice = readdirSync(`/proc/${pid}/task`).map(Number).map((t) => [t, niceOf(pid, t)] as const);
      assert.equal(niceOf(pid, pid), base, 'main thread');
      // V8's workers (4 by default) and its delayed-task thread at least; the worker pool's 4 untouched
      assert.ok(nice.filter(([, n]) => n === Math.min(19, base + 10)).length >= 5, JSON.stringify(nice));
      assert.ok(nice.filter(([t, n]) => t !== pid && n === base).length >= 4, JSON.stringify(nice));
      // the kiosk works: its health answers
      const h = (await (await fetch(kiosk.url + 'health')).json()) as { ok?: boolean };
      assert.ok(h);
    });

    it('leaves them alone with scheduling.backgroundNiceSteps 0', async () => {
      kiosk = await startKioskProcess(kioskConfigFile({ scheduling: { backgroundNiceSteps: 0 } }).file);
      await new Promise((r) => setTimeout(r, 300));
      const pid = kiosk.proc.pid;
      for (const t of readdirSync(`/proc/${pid}/task`).map(Number)) assert.equal(niceOf(pid, t), os.getPriority(process.pid), `thread ${t}`);
      assert.doesNotMatch(kiosk.proc.output(), /lower priority than the main thread/);
    });
  });
});
