/** A tool call as GET /api/v1/tool-calls answers it (ToolCallView). */
export interface ToolCall {
  id: string;
  serverId: string;
  serverName: string;
  tool: string;
  actor: string;
  tenant: string;
  via: 'mcp' | 'rest';
  sessionId: string | null;
  status: CallStatus;
  isError: boolean;
  arguments: Record<string, unknown>;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  resultBytes: number | null;
  resultHash: string | null;
  error: { kind: string; code: string; message: string } | null;
  abandonReason: string | null;
  revision: string;
  position: string;
}

export type CallStatus = 'running' | 'succeeded' | 'failed' | 'abandoned';
export const STATUSES: CallStatus[] = ['running', 'succeeded', 'failed', 'abandoned'];

export interface ToolCallPage {
  items: ToolCall[];
  nextCursor: string | null;
}

/** The filters of the log, as the hash query and GET /tool-calls both name them. */
export interface CallFilter {
  server: string;
  tool: string;
  actor: string;
  status: string;
  from: string;
  to: string;
}

export const CALL_FILTER_KEYS = ['server', 'tool', 'actor', 'status', 'from', 'to'] as const;

export function callFilterOf(query: URLSearchParams): CallFilter {
  const f = { server: '', tool: '', actor: '', status: '', from: '', to: '' };
  for (const key of CALL_FILTER_KEYS) f[key] = query.get(key) ?? '';
  return f;
}

/** The filter as the API's query (empty ones left out). */
export function callQuery(f: CallFilter): string {
  const q = new URLSearchParams();
  for (const key of CALL_FILTER_KEYS) if (f[key]) q.set(key, f[key]);
  return q.toString();
}

/** The stream holding one call's events (domains/toolcalls: `toolcall-<callId>`). */
export const callStream = (id: string) => `toolcall-${id}`;

/** `2026-01-02T03:04` (a datetime-local input, the reader's time) for an ISO instant, '' if none. */
export function localInput(iso: string): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The ISO instant (UTC) of a datetime-local value, '' if none. */
export function isoOf(local: string): string {
  const d = new Date(local);
  return !local || Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
