// systemd notification (sd_notify) for the kiosk and the hub: READY=1 when
// the program is ready, STOPPING=1 when it stops, and WATCHDOG=1 pings while
// the event loop is healthy (a loop blocked or lagging beyond `maxLagMs`
// withholds the ping, so systemd restarts a process that is alive but stuck).
//
// Why `systemd-notify` and not a library: the protocol is one datagram on a
// unix socket, and Node has no unix datagram sockets. Every npm package that
// sends one is native (sd-notify links libsystemd; unix-dgram builds with
// node-gyp; neither ships prebuilt binaries), so it would be compiled on every
// board and could fail there. systemd-notify ships with systemd itself; since
// systemd 246 it waits until the manager has read the message, so a message
// from this short-lived child is attributed to our unit (the unit sets
// NotifyAccess=all; as root it even sends with our PID). A message costs one
// fork+exec: READY once, a ping every WatchdogSec/2.
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from './log.js';

export interface Notifier {
  /** true when started by systemd with NOTIFY_SOCKET */
  readonly enabled: boolean;
  /** the watchdog interval systemd asked for (WATCHDOG_USEC), if any */
  readonly watchdogMs?: number;
  /** pings sent, pings withheld because the loop lagged */
  readonly stats: { pings: number; withheld: number; failures: number };
  ready(status?: string): void;
  status(text: string): void;
  stopping(): void;
  /** stops the watchdog timer (tests, shutdown) */
  close(): void;
}

export interface NotifyOptions {
  log?: Logger;
  /** the environment systemd gave us (default process.env; the NOTIFY_SOCKET/WATCHDOG_* keys are removed from it so children do not inherit them) */
  env?: NodeJS.ProcessEnv;
  /** the largest event-loop delay (ms) in a ping interval that still counts as healthy; default min(2000, interval) */
  maxLagMs?: number;
  /** the command that sends (default systemd-notify) */
  command?: string;
}

export function startNotify(opts: NotifyOptions = {}): Notifier {
  const env = opts.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  const usec = Number(env.WATCHDOG_USEC);
  const forPid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : process.pid;
  // Like sd_notify(unset_environment=1): a child process (sipp, arecord, ...) must never speak for us.
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  const stats = { pings: 0, withheld: 0, failures: 0 };
  const log = opts.log;
  const command = opts.command ?? 'systemd-notify';
  const watchdogMs = socket && usec > 0 && forPid === process.pid ? usec / 1000 : undefined;

  let sending = false;
  const queue: string[][] = [];
  let warned = false;
  const send = (fields: string[]) => {
    if (!socket) return;
    queue.push(fields);
    if (!sending) void drain();
  };
  const drain = async () => {
    sending = true;
    while (queue.length) {
      // pings queued behind a slow send collapse into one
      const fields = queue.shift()!;
      if (fields[0] === 'WATCHDOG=1' && queue.some((q) => q[0] === 'WATCHDOG=1')) continue;
      const err = await run(command, fields, socket!);
      if (err) {
        stats.failures++;
        if (!warned) log?.error({ err, fields }, 'systemd notification failed');
        warned = true;
      } else if (fields[0] === 'WATCHDOG=1') stats.pings++;
    }
    sending = false;
  };

  let timer: NodeJS.Timeout | undefined;
  let histogram: ReturnType<typeof monitorEventLoopDelay> | undefined;
  if (watchdogMs) {
    const every = watchdogMs / 2;
    const maxLagMs = opts.maxLagMs ?? Math.min(2000, every);
    histogram = monitorEventLoopDelay({ resolution: 20 });
    histogram.enable();
    let last = performance.now();
    timer = setInterval(() => {
      const now = performance.now();
      // The largest delay the loop saw since the last tick, and how late this tick itself is.
      const lag = Math.max(histogram!.max / 1e6, now - last - every);
      histogram!.reset();
      last = now;
      if (lag > maxLagMs) {
        stats.withheld++;
        log?.warn({ lagMs: Math.round(lag), maxLagMs }, 'event loop blocked: watchdog ping withheld');
        return;
      }
      send(['WATCHDOG=1']);
    }, every);
    timer.unref();
  }

  return {
    enabled: !!socket,
    watchdogMs,
    stats,
    ready: (status) => send(['READY=1', ...(status ? [`STATUS=${status}`] : [])]),
    status: (text) => send([`STATUS=${text}`]),
    stopping: () => send(['STOPPING=1']),
    close: () => {
      clearInterval(timer);
      histogram?.disable();
    },
  };
}

/** Runs systemd-notify once; resolves with the reason when it failed. */
function run(command: string, fields: string[], socket: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let stderr = '';
    const child = spawn(command, fields, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: socket }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (e) => (clearTimeout(t), resolve(e.message)));
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve(code === 0 ? undefined : `${command} ${signal ? `killed by ${signal}` : `exit ${code}`}${stderr.trim() ? `: ${stderr.trim().slice(0, 200)}` : ''}`);
    });
  });
}
