import type {
  CallToolResult,
  CreateMessageRequest,
  CreateMessageResult,
  ElicitRequest,
  ElicitResult,
  GetPromptResult,
  ListRootsResult,
  LoggingMessageNotification,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * What a runner needs to reach one registered server: its registration with every secret opened.
 * Built by the runner host from the server's events; never stored or logged in this form.
 */
export interface UpstreamSpec {
  serverId: string;
  name: string;
  /** Revision of the server stream this spec was built from; a higher one replaces the connections. */
  revision: bigint;
  transport:
    | {
        type: 'stdio';
        command: string;
        args: string[];
        env: Record<string, string>;
        cwd?: string | undefined;
      }
    | { type: 'streamable-http'; url: string; headers: Record<string, string> }
    | { type: 'sse'; url: string; headers: Record<string, string> };
  /**
   * Instances: for stdio, the same command started `replicas` times; for HTTP/SSE the `url` above
   * plus `extraUrls`. Calls are spread by `loadBalancing`; `weights` index instances in order.
   */
  replicas: number;
  extraUrls: string[];
  loadBalancing: 'round-robin' | 'least-connections' | 'weighted';
  weights: number[];
  /** stdio / sse: at most this many upstream sessions of their own for client sessions, per instance. */
  clientSessions: number;
  connectTimeoutMs: number;
  callTimeoutMs: number;
}

/** Requests the single-server endpoint forwards as they are. */
export const PASSTHROUGH_METHODS = [
  'completion/complete',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
] as const;
export type PassthroughMethod = (typeof PASSTHROUGH_METHODS)[number];

/** Everything a server offers, every page listed. */
export interface Catalog {
  serverInfo: { name: string; version: string } | undefined;
  protocolVersion: string | undefined;
  instructions: string | undefined;
  capabilities: Record<string, unknown>;
  tools: Tool[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  prompts: Prompt[];
}

/**
 * Requests an upstream sends back while serving a call; relayed to the client that caused the call.
 * Absent handlers mean the client cannot serve them: the upstream gets a "method not found" error.
 */
export interface ClientSideHandlers {
  /**
   * Who the call is for (an MCP session, or one id per sessionless request). Server-initiated
   * messages that carry no reference to their call are only routed when every call that could
   * take them belongs to one caller.
   */
  caller?: string;
  /**
   * The caller makes this one request only (a 2026-07-28 request: it has no session). Where callers
   * get upstream sessions of their own (stdio, HTTP+SSE), one opened for it is closed as soon as the
   * request ends: no later request will use it, and a caller's session never serves another.
   */
  oneShot?: boolean;
  onProgress?: (progress: {
    progress: number;
    total?: number | undefined;
    message?: string | undefined;
  }) => void;
  onLog?: (params: LoggingMessageNotification['params']) => void;
  createMessage?: (
    params: CreateMessageRequest['params'],
    signal: AbortSignal,
  ) => Promise<CreateMessageResult>;
  elicit?: (params: ElicitRequest['params'], signal: AbortSignal) => Promise<ElicitResult>;
  listRoots?: (signal: AbortSignal) => Promise<ListRootsResult>;
}

export interface CallOptions extends ClientSideHandlers {
  signal?: AbortSignal;
  /** Overrides the server's callTimeoutMs. */
  timeoutMs?: number;
}

export type InstanceState = 'starting' | 'healthy' | 'unhealthy' | 'stopped' | 'error';

export interface InstanceStatus {
  index: number;
  /** e.g. the pid of a stdio process, or the URL. */
  target: string;
  state: InstanceState;
  inFlight: number;
  restarts: number;
  circuit: 'closed' | 'open' | 'half-open';
  lastError?: string | undefined;
  /** The process id of a stdio instance, while its process runs. */
  pid?: number | undefined;
  /** When the current session (for stdio: process) came up, ISO 8601; absent while it is down. */
  startedAt?: string | undefined;
  /** How the previous session (process) ended, and when: exit code and last stderr line, or why. */
  lastExit?: { at: string; reason: string } | undefined;
  /**
   * stdio, HTTP+SSE: upstream sessions (stdio: processes) open now for callers of their own, a
   * spare included, besides the instance's own session (see CallerSessions); 0 while clients take turns.
   */
  callerSessions?: number | undefined;
}

export interface UpstreamStatus {
  serverId: string;
  name: string;
  revision: string;
  instances: InstanceStatus[];
}

/** Why a list changed: the aggregator re-lists and re-discovers on these. */
export interface ListChanged {
  serverId: string;
  kind: 'tools' | 'resources' | 'prompts';
}

/**
 * The runner side of the gateway: owns the connections to upstream MCP servers. One local
 * implementation (runners/pool) holds the processes and sessions; a remote one sends the same calls
 * over NATS (`sy.exec.<serverId>`) to the runners that host the server.
 *
 * Errors are AppErrors: `upstream` (502: the server failed or answered garbage), `unavailable` (503:
 * no healthy instance, circuit open, not hosted here), `timeout` (504), `not_found` (unknown server).
 * A tool that ran and reported failure is a normal result with `isError: true`, not an exception.
 *
 * Codes, by kind:
 * - upstream: UPSTREAM.CONNECTION_LOST (the server died or broke the protocol during the request;
 *   the message says how: exit code and last stderr line, or the garbage it wrote),
 *   UPSTREAM.CONNECTION_FAILED (could not reach it), UPSTREAM.BAD_RESULT (an invalid answer),
 *   UPSTREAM.ERROR (a JSON-RPC error answer; `details.mcpCode`/`mcpMessage`/`mcpData` carry it as
 *   sent, and the gateway relays it to the caller unchanged).
 * - validation: UPSTREAM.INVALID_PARAMS (the server answered -32602; the same details).
 * - not_found: UPSTREAM.UNKNOWN_SERVER (not running here), UPSTREAM.METHOD_NOT_FOUND (-32601),
 *   UPSTREAM.RESOURCE_NOT_FOUND (-32002).
 * - unavailable: UPSTREAM.NO_HEALTHY_INSTANCE (every instance down, starting, parked or with its
 *   circuit open; the message lists them), UPSTREAM.NOT_HOSTED and UPSTREAM.RUNNER_LOST (remote).
 * - timeout: UPSTREAM.TIMEOUT (no answer within the call timeout, reset by progress),
 *   UPSTREAM.CANCELLED (the caller's signal aborted; the upstream got notifications/cancelled).
 */
export interface Upstreams {
  /** Starts (or reconfigures, when the revision is higher) the connections for a server. Idempotent. */
  ensure(spec: UpstreamSpec): Promise<void>;
  /** Stops a server's instances and reaps their process trees. Idempotent. */
  stop(serverId: string): Promise<void>;
  /** Lists every page of tools, resources, resource templates and prompts. */
  discover(serverId: string, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Catalog>;
  callTool(
    serverId: string,
    tool: string,
    args: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<CallToolResult>;
  readResource(serverId: string, uri: string, options?: CallOptions): Promise<ReadResourceResult>;
  getPrompt(
    serverId: string,
    prompt: string,
    args: Record<string, string>,
    options?: CallOptions,
  ): Promise<GetPromptResult>;
  /**
   * Any other client-to-server request, passed through unchanged (completion/complete,
   * logging/setLevel, resources/subscribe …) for the single-server endpoint. Treated as
   * idempotent (retried on another instance if the connection fails).
   *
   * `resources/subscribe` and `resources/unsubscribe` (with a `uri`) are counted per
   * `options.caller`, since one upstream session serves every client: the upstream is asked to
   * subscribe for the first caller of a URI and to unsubscribe when the last one unsubscribes. A
   * caller that goes away must unsubscribe what it subscribed. Unsubscribing what the caller did
   * not subscribe answers `{}` without asking the upstream.
   */
  request(
    serverId: string,
    method: PassthroughMethod,
    params: Record<string, unknown> | undefined,
    options?: CallOptions,
  ): Promise<Record<string, unknown>>;
  /** MCP ping to one healthy instance; resolves with the round trip in ms. */
  ping(serverId: string, options?: { timeoutMs?: number }): Promise<number>;
  status(serverId?: string): UpstreamStatus[];
  /** Subscribes to list_changed notifications from any upstream; returns the unsubscribe. */
  onListChanged(listener: (change: ListChanged) => void): () => void;
  /**
   * Subscribes to `notifications/resources/updated` of any upstream, for the URIs some caller
   * subscribed to through request(); returns the unsubscribe. Listeners filter by caller themselves.
   */
  onResourceUpdated(listener: (serverId: string, uri: string) => void): () => void;
  /** Stops everything and reaps every process. */
  close(): Promise<void>;
}
