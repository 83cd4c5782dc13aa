import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.env',
  '*.headers',
  '*.secret',
  '*.token',
  '*.password',
];

/** The one root logger; modules take `logger.child({ module })`. */
export function createLogger(options: { level?: string; destination?: 1 | 2 } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { app: 'switchyard' },
    redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination === 2 ? pino(opts, pino.destination(2)) : pino(opts);
}

/** A logger that drops everything; for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
