// Structured logging: one JSON line per event, always carrying the kiosk (or
// hub) id. Secrets are redacted by key wherever they appear in a logged object.
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password', '*.password', '*.*.password', '*.*.*.password',
  'token', '*.token', '*.*.token', '*.*.*.token',
  'secret', '*.secret', '*.*.secret',
  'authorization', '*.authorization', 'headers.authorization',
  'key', 'tls.key', '*.tls.key',
];

export function createLogger(opts: {
  name: 'kiosk' | 'hub' | 'demo' | 'cli';
  id: string;
  level?: LevelWithSilent;
  destination?: DestinationStream;
}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { [opts.name === 'hub' ? 'hub' : 'kiosk']: opts.id, pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
