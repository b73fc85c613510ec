// Process guard: an uncaught exception or unhandled rejection is logged,
// recorded (by the caller's `record`, given at most 2 s), and the process
// exits with status 1 so its supervisor (systemd) starts a clean one.
import type { Logger } from './log.js';

export function guardProcess(log: Logger, record?: (what: 'uncaughtException' | 'unhandledRejection', err: unknown) => Promise<void>): void {
  let dying = false;
  const die = (what: 'uncaughtException' | 'unhandledRejection') => (err: unknown) => {
    log.fatal({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), what }, 'uncaught error: exiting');
    if (dying) return;
    dying = true;
    const timeout = new Promise((r) => setTimeout(r, 2000).unref());
    void Promise.race([record?.(what, err).catch(() => undefined), timeout]).finally(() => {
      log.flush?.();
      process.exit(1);
    });
  };
  process.on('uncaughtException', die('uncaughtException'));
  process.on('unhandledRejection', die('unhandledRejection'));
}
