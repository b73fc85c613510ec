// A reboot of the board, asked by the hub (kiosk.reboot): the board's boot id
// (how the hub tells that the board really came back from a reboot) and the
// configured reboot command, run without a shell.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Linux's id of the current boot: a new random UUID at every boot. */
const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
/** For tests only: a file to read the boot id from instead (a test "reboots" by writing a new one and starting the kiosk again). */
export const BOOT_ID_FILE_ENV = 'HELPPOINT_BOOT_ID_FILE';

/** The board's boot id, or undefined where there is none (not Linux): the hub then cannot confirm a reboot and does not ask for one. */
export function readBootId(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const id = readFileSync(env[BOOT_ID_FILE_ENV] || BOOT_ID_FILE, 'utf8').trim();
    return id && id.length <= 64 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** How long the reboot command may take to hand the reboot to the system (systemctl reboot returns at once). */
export const REBOOT_COMMAND_TIMEOUT_MS = 30_000;

/**
 * Runs the reboot command; resolves undefined once it exited 0 (the system
 * has the reboot), else why not: not found, a non-zero exit (with the end of
 * its error output), a signal, or no exit within the timeout (then killed).
 */
export function runRebootCommand(argv: readonly string[], timeoutMs = REBOOT_COMMAND_TIMEOUT_MS): Promise<string | undefined> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.resolve('no reboot command');
  return new Promise((resolve) => {
    let stderr = '';
    let done = false;
    const finish = (why: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(why);
    };
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-500)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(`${cmd} did not finish within ${timeoutMs / 1000} s`);
    }, timeoutMs);
    child.on('error', (err) => finish(`${cmd}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : err.message}`));
    child.on('close', (code, signal) => {
      const tail = stderr.trim().split('\n').pop()?.trim();
      if (code === 0) finish(undefined);
      else finish(`${cmd} ${signal ? `killed by ${signal}` : `exited ${code}`}${tail ? `: ${tail}` : ''}`);
    });
  });
}
