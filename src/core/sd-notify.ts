// systemd notifications (Type=notify): READY=1 once serving, STOPPING=1, and
// WATCHDOG=1 at half the unit's WatchdogSec while the event loop runs. Sent
// with the `systemd-notify` tool (no native module); the unit needs
// NotifyAccess=all since the tool is a child process, and --pid names us.
// Outside systemd (no NOTIFY_SOCKET) every call does nothing.
import { execFile } from 'node:child_process';

let watchdog: NodeJS.Timeout | undefined;

function send(state: string): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', [`--pid=${process.pid}`, state], { timeout: 5000 }, () => undefined);
}

export function notifySystemd(state: string, opts: { watchdog?: boolean } = {}): void {
  send(state);
  const usec = Number(process.env.WATCHDOG_USEC);
  if (opts.watchdog && !watchdog && Number.isFinite(usec) && usec > 0) {
    // A blocked event loop stops these pings, and systemd restarts the process.
    watchdog = setInterval(() => send('WATCHDOG=1'), Math.max(1000, usec / 2000));
    watchdog.unref();
  }
}
