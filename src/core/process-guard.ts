// The process guard: an exception nobody caught, or a promise rejection
// nobody handled, means the process is in a state no code planned for. It is
// recorded synchronously (so the record survives the exit), the registered
// last actions run (the kiosk releases its door relay and writes what waited
// for an alarm call's set-up), it is logged and the process exits non-zero;
// systemd restarts it and the alarm resumes from its store. Carrying on would be worse: a half-dead timer loop or a call policy
// stuck "busy" silently ignores the next emergency press.
import { writeSync } from 'node:fs';
import type { Logger } from './log.js';

/** EX_SOFTWARE: an internal error; systemd's Restart=always starts the process again. */
export const GUARD_EXIT_CODE = 70;

export interface GuardOptions {
  log: Logger;
  /** synchronous, durable record of the failure (the kiosk's journal); must not throw */
  record?: (type: 'process.crash', data: { kind: string; message: string; stack?: string }) => void;
  /** an asynchronous last record (the hub's audit row in its database), given at most 2 s */
  finish?: (data: { kind: string; message: string; stack?: string }) => Promise<void>;
  /** tests replace the exit */
  exit?: (code: number) => void;
}

export interface ProcessGuard {
  /** a synchronous action to take before the process exits (best effort, each isolated) */
  onFatal(action: () => void): void;
  uninstall(): void;
}

export function installProcessGuard(opts: GuardOptions): ProcessGuard {
  const actions: (() => void)[] = [];
  let dying = false;
  const die = (kind: 'uncaughtException' | 'unhandledRejection', err: unknown) => {
    const exit = opts.exit ?? ((code: number) => process.exit(code));
    if (dying) return; // a second failure while dying: the first exit is on its way
    dying = true;
    const e = err instanceof Error ? err : new Error(String(err));
    const data = { kind, message: e.message.slice(0, 1000), ...(e.stack ? { stack: e.stack.slice(0, 4000) } : {}) };
    // stderr first, synchronously: the log stream is asynchronous and may not get out.
    try {
      writeSync(2, `fatal ${kind}: ${e.stack ?? e.message}\nexiting with ${GUARD_EXIT_CODE} to be restarted\n`);
    } catch {
      /* no stderr */
    }
    try {
      opts.record?.('process.crash', data);
    } catch {
      /* the record must not stop the exit */
    }
    // The last actions before the log line and its flush: a door released at once, and what they log goes out with it.
    for (const a of actions) {
      try {
        a();
      } catch {
        /* each last action is best effort */
      }
    }
    try {
      opts.log.fatal({ err: e, kind }, 'fatal: exiting to be restarted');
      (opts.log as { flush?: () => void }).flush?.();
    } catch {
      /* logging must not stop the exit */
    }
    if (!opts.finish) return exit(GUARD_EXIT_CODE);
    const cap = new Promise((r) => setTimeout(r, 2000).unref());
    void Promise.race([opts.finish(data).catch(() => undefined), cap]).finally(() => exit(GUARD_EXIT_CODE));
  };
  const onException = (err: unknown) => die('uncaughtException', err);
  const onRejection = (err: unknown) => die('unhandledRejection', err);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    onFatal: (a) => void actions.push(a),
    uninstall: () => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}
