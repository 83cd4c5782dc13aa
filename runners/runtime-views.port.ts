import type { InstanceStatus } from './upstream.port.ts';

/** One line a server process wrote to stderr, as a runner keeps it (secrets already taken out). */
export interface StderrLine {
  /** Increases by one per line across every server of the runner: its cursor for following. */
  seq: number;
  /** When the runner read it (ISO 8601). */
  at: string;
  /** Which of the server's instances wrote it, and the pid of its process then. */
  instance: number;
  pid: number;
  line: string;
}

/** A stderr line with the runner it came from. */
export interface ServerLogLine extends StderrLine {
  runner: string;
}

/** Where each runner's lines were read up to: runner id → last `seq` seen. */
export type LogCursor = Record<string, number>;

/** An instance of a server on one runner, as operators see it. */
export interface InstanceView extends InstanceStatus {
  runner: string;
  /** Since `startedAt`, when the instance is up. */
  uptimeMs: number | null;
}

export interface ServerRuntimeView {
  serverId: string;
  instances: InstanceView[];
  /** Runners that answered and host the server. */
  runners: string[];
  /** Runners that did not answer in time: what they hold is missing here. */
  unreachable: string[];
}

export interface ServerLogsView {
  lines: ServerLogLine[];
  /** Pass back as `after` to read only what came since. */
  cursor: LogCursor;
  unreachable: string[];
}

/**
 * What the runners know of a server at this moment and nothing stores: its instances (processes or
 * sessions) and their recent stderr. Gathered from every runner — the one in this process when
 * embedded, every runner over the bus in distributed mode (runners/remote/runtime-views.remote.ts).
 */
export interface RuntimeViews {
  instances(serverId: string): Promise<ServerRuntimeView>;
  /** Lines after `after` (per runner), oldest first, at most the last `limit` (default 200). */
  logs(serverId: string, options?: { after?: LogCursor; limit?: number }): Promise<ServerLogsView>;
}

/** Instances of one runner's status, named by the runner. */
export function instanceViews(runner: string, instances: InstanceStatus[], now: Date): InstanceView[] {
  return instances.map((i) => ({
    ...i,
    runner,
    uptimeMs: i.startedAt ? Math.max(0, now.getTime() - Date.parse(i.startedAt)) : null,
  }));
}

/** Lines of several runners in one order: by time read, then by runner and sequence. */
export function mergeLines(lines: ServerLogLine[], limit: number): ServerLogLine[] {
  const sorted = [...lines].sort(
    (a, b) => a.at.localeCompare(b.at) || a.runner.localeCompare(b.runner) || a.seq - b.seq,
  );
  return sorted.slice(Math.max(0, sorted.length - limit));
}
