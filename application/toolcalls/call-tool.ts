import { createHash } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Authorizer } from '../../domains/access/index.ts';
import { upstreamToolName } from '../../domains/servers/index.ts';
import {
  redactArguments,
  type ToolCallCommands,
  type ToolCallOutcome,
  type ToolCallStart,
} from '../../domains/toolcalls/index.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { IdGenerator } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { PersonalDataVault } from '../../kernel/personal-data.ts';
import { credentialLabel, type Principal } from '../../kernel/principal.ts';
import { findUnstorable, sanitizeStorable } from '../../kernel/storable.ts';
import { inSpan } from '../../kernel/tracing.ts';
import type { CallOptions, Upstreams } from '../../runners/upstream.port.ts';
import { type InFlight, resultTooLarge } from './call-limits.ts';

/** Where callTool's records go: the toolcalls domain's commands, through the event store. */
export type ToolCallJournal = Pick<ToolCallCommands, 'start' | 'complete'>;

/** The server a call goes to, as the catalog lists it (its tools as discovered, their schemas too). */
export interface CallTarget {
  serverId: string;
  name: string;
  tenant: string;
  owner: string;
  tools: ReadonlyArray<{ name: string; inputSchema?: unknown }>;
  /** Served name → the upstream's own name, for tools the server serves renamed. */
  toolOrigins?: Readonly<Record<string, string>> | undefined;
}

export interface CallToolRequest {
  server: CallTarget;
  tool: string;
  args: Record<string, unknown>;
  principal: Principal;
  /** What a caller who may not see the tool gets: exactly what an unknown tool gets on its endpoint. */
  unknownTool: () => Error;
  via: 'mcp' | 'rest';
  sessionId?: string | undefined;
  correlationId: string;
  /** The trace context of the request that carried the call (its HTTP `traceparent` header). */
  traceparent?: string | undefined;
  /** The MCP request's own `params._meta.traceparent`, when the client sent one: the call's parent. */
  metaTraceparent?: string | undefined;
  options?: CallOptions;
}

export interface CallToolDeps {
  upstreams: Upstreams;
  authz: Authorizer;
  /** Rate limits per principal and tool (throws when one is exceeded). */
  limits: { tool(principal: Principal, server: string, tool: string): Promise<unknown> };
  /** Calls in flight per principal and per server, and the largest result handed back. */
  inFlight: InFlight;
  journal: ToolCallJournal;
  /** Extra argument key patterns to redact (SWITCHYARD_REDACT_KEYS), besides the built-in rules. */
  redactPatterns?: readonly (RegExp | string)[];
  /**
   * Seals the recorded arguments with the caller's data key (crypto-shredding, kernel/personal-data.ts):
   * the log holds only ciphertext of them, readable until the caller is erased. Without it they are
   * recorded in clear (redacted all the same).
   */
  vault?: Pick<PersonalDataVault, 'sealFields'>;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
}

/**
 * callTool, the one use case every edge calls a tool through (/mcp, /servers/<name>/mcp, REST, and
 * the stdio bridge, which speaks to /mcp): it looks the tool up, refuses arguments the log cannot
 * hold, authorizes, applies rate limits and in-flight caps, and records the call. Every tool call is recorded as ToolCallStarted then
 * ToolCallSucceeded or ToolCallFailed. The start is durably appended before the upstream sees the
 * call — a tool that writes a file cannot have run without a record of it — and the outcome before
 * the result is handed back; if the log cannot be written the caller gets an error, and the upstream
 * is never called (start) or its result withheld (outcome).
 * A call cut off by a crash keeps only its start and is marked abandoned on recovery.
 *
 * Throws AppError for calls that did not produce a tool result (upstream down, timeout, unknown
 * tool…); the MCP layer turns those into `isError` results, REST into problem documents.
 */
export function makeCallTool(deps: CallToolDeps) {
  const log = deps.logger.child({ module: 'call-tool' });
  return function callTool(request: CallToolRequest): Promise<{ callId: string; result: CallToolResult }> {
    // The call's span: the HTTP request's child, the parent of its records, the bus request to a
    // runner and the upstream request (whose `_meta` carries it on).
    return inSpan(
      `tools/call ${request.tool}`,
      {
        traceparent: request.traceparent,
        remoteParent: request.metaTraceparent,
        attributes: {
          'mcp.method.name': 'tools/call',
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': request.tool,
          'switchyard.server': request.server.name,
          'switchyard.via': request.via,
        },
      },
      async (span) => {
        const answer = await callToolTraced(request);
        span.setAttribute('switchyard.call_id', answer.callId);
        if (answer.result.isError === true) span.setAttribute('switchyard.outcome', 'tool_error');
        return answer;
      },
    );
  };

  async function callToolTraced(
    request: CallToolRequest,
  ): Promise<{ callId: string; result: CallToolResult }> {
    const { server, principal } = request;
    // Looked up here, for every edge alike: a tool the server does not list is unknown.
    const tool = server.tools.find((t) => t.name === request.tool);
    if (!tool) throw request.unknownTool();
    // A tool served under another name is still the upstream's tool to everything below the edge.
    const upstreamTool = upstreamToolName(server.toolOrigins, request.tool);
    // Arguments the log cannot hold are refused before anything runs: no call without its record.
    const bad = findUnstorable(request.args);
    if (bad) {
      throw new AppError('validation', 'REQUEST.UNSTORABLE', `argument ${bad.path} ${bad.reason}`, {
        errors: [{ path: `arguments.${bad.path}`, message: bad.reason }],
      });
    }
    // Authorized here, for MCP, REST and stdio alike; nothing reaches the upstream or the log first.
    // A tool the caller would not see listed answers exactly as an unknown tool does; one it sees
    // but may not call with these arguments (a policy on them) is refused as forbidden.
    const resource = {
      kind: 'tool',
      tenant: server.tenant,
      server: server.name,
      tool: upstreamTool,
      owner: server.owner,
    } as const;
    const listed = deps.authz.decide(principal, 'tool.call', resource, { phase: 'list' });
    if (listed.effect === 'deny' && !listed.missingScopes) {
      deps.authz.require(principal, 'tool.call', resource, {
        phase: 'list',
        hidden: request.unknownTool,
        conceal: true,
      });
    }
    const decision = deps.authz.require(principal, 'tool.call', resource, {
      args: request.args,
      phase: 'call',
    });
    await deps.limits.tool(principal, server.name, upstreamTool);
    // The call's one record, from here to the event: arguments redacted before they are stored —
    // by key name, value shape and the tool's schema hints (kernel/redaction.ts).
    const start: ToolCallStart = {
      callId: deps.ids.uuid(),
      serverId: server.serverId,
      serverName: server.name,
      tool: upstreamTool,
      ...(upstreamTool !== request.tool && { servedAs: request.tool }),
      arguments: await sealed(
        principal.id,
        redactArguments(request.args, { patterns: deps.redactPatterns ?? [], inputSchema: tool.inputSchema }),
      ),
      actor: principal.id,
      via: request.via,
      ...(request.sessionId !== undefined && { sessionId: sessionHash(request.sessionId) }),
      tenant: server.tenant,
      authz: { policyVersion: decision.policyVersion, reasons: decision.reasons },
      startedAt: deps.clock.now(),
    };
    // Who, why and when, for both records: the caller, in the server's tenant.
    const meta = (): CommandMeta => ({
      commandId: deps.ids.uuid(),
      actor: principal.id,
      tenant: server.tenant,
      credential: credentialLabel(principal.credential),
      correlationId: request.correlationId,
      traceparent: request.traceparent,
      issuedAt: deps.clock.now(),
    });
    const release = deps.inFlight.acquire(principal.id, server.serverId);
    try {
      return await run(start, meta, request, release);
    } finally {
      release();
    }
  }

  /** Redacted arguments, sealed with the caller's key when there is a vault (each value; names stay). */
  function sealed(principalId: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    return deps.vault ? deps.vault.sealFields(principalId, args) : Promise.resolve(args);
  }

  async function run(
    start: ToolCallStart,
    meta: () => CommandMeta,
    request: CallToolRequest,
    release: () => void,
  ): Promise<{ callId: string; result: CallToolResult }> {
    const { callId, startedAt } = start;
    try {
      await deps.journal.start(start, meta());
    } catch (e) {
      log.error(
        { err: e, callId, correlationId: request.correlationId },
        'could not record the start of a tool call; not calling it',
      );
      throw new AppError(
        'unavailable',
        'AUDIT.UNAVAILABLE',
        'the tool call could not be recorded in the audit log',
        {
          callId,
        },
      );
    }

    let result: CallToolResult | undefined;
    let failure: AppError | undefined;
    try {
      result = await deps.upstreams.callTool(
        request.server.serverId,
        start.tool,
        request.args,
        request.options,
      );
    } catch (e) {
      failure = isAppError(e)
        ? e
        : new AppError('upstream', 'UPSTREAM.FAILED', `the upstream call failed: ${(e as Error).message}`);
    }
    // The upstream is done with it: free its slot before the outcome is written.
    release();
    const finishedAt = deps.clock.now();
    const body = result === undefined ? undefined : JSON.stringify(result);
    const bytes = body === undefined ? 0 : Buffer.byteLength(body);
    if (bytes > deps.inFlight.caps.maxResultBytes) {
      failure = resultTooLarge(bytes, deps.inFlight.caps.maxResultBytes);
    }
    const durationMs = finishedAt.getTime() - startedAt.getTime();
    const resultHash = body === undefined ? undefined : createHash('sha256').update(body).digest('hex');
    const outcome: ToolCallOutcome = failure
      ? {
          callId,
          outcome: 'failed',
          durationMs,
          // An upstream's message is data it chose: what the log cannot hold in it is replaced.
          error: sanitizeStorable({
            kind: failure.kind,
            code: failure.code,
            message: clip(failure.message, MAX_ERROR_MESSAGE),
          }),
          // Something came back that is not handed on (too large): its size and hash are kept.
          ...(resultHash !== undefined && { resultBytes: bytes, resultHash }),
          finishedAt,
        }
      : {
          callId,
          outcome: 'succeeded',
          durationMs,
          resultBytes: bytes,
          resultHash: resultHash!,
          isError: result?.isError === true,
          finishedAt,
        };
    try {
      await deps.journal.complete(outcome, meta());
    } catch (e) {
      log.error(
        { err: e, callId, correlationId: request.correlationId },
        'could not record the tool call; withholding its result',
      );
      throw new AppError(
        'unavailable',
        'AUDIT.UNAVAILABLE',
        'the tool call could not be recorded in the audit log',
        { callId },
      );
    }
    if (failure) throw failure;
    return { callId, result: result! };
  }
}

export type CallTool = ReturnType<typeof makeCallTool>;

/** The longest error message a call's record keeps (the rest is cut, marked with an ellipsis). */
const MAX_ERROR_MESSAGE = 2000;

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Session ids are bearer-like: what is recorded is a hash that ties calls of one session together. */
export function sessionHash(sessionId: string): string {
  return createHash('sha256').update(`mcp-session\n${sessionId}`).digest('hex').slice(0, 32);
}
