/**
 * A tiny leveled logger that writes to stderr, never stdout.
 *
 * Over the stdio transport, stdout carries the MCP protocol itself (one JSON-RPC message per line):
 * a single stray `console.log` corrupts the stream and the client drops the connection. Everything
 * meant for a human therefore goes to stderr, which MCP clients (and Switchyard) capture as the
 * server's log.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

let threshold = SEVERITY.info;

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function setLogLevel(level: LogLevel): void {
  threshold = SEVERITY[level];
}

function write(level: Exclude<LogLevel, 'silent'>, message: string, error?: unknown): void {
  if (SEVERITY[level] < threshold) return;
  let line = `${new Date().toISOString()} ${level.padEnd(5)} ${message}`;
  if (error !== undefined) {
    line += ` ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  process.stderr.write(`${line}\n`);
}

export const log = {
  debug: (message: string) => write('debug', message),
  info: (message: string) => write('info', message),
  warn: (message: string, error?: unknown) => write('warn', message, error),
  error: (message: string, error?: unknown) => write('error', message, error),
};
