import { redactArguments, type ToolCallCommands } from '../../domains/toolcalls/index.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { randomIds } from '../../kernel/ids.ts';
import { sanitizeStorable } from '../../kernel/storable.ts';
import type { ToolCallRecorder } from './call-tool.ts';

const callMeta = (
  actor: string,
  correlationId: string,
  traceparent: string | undefined,
  who: { tenant: string; credential: string },
): CommandMeta => ({
  commandId: randomIds.uuid(),
  actor,
  ...who,
  correlationId,
  traceparent,
  issuedAt: new Date(),
});

/**
 * callTool's journal: each call's start and outcome as toolcalls commands, in the caller's name
 * (actor, tenant, credential, correlation). Arguments are redacted here, before they are stored —
 * by key name, value shape and the tool's schema hints (kernel/redaction.ts).
 */
export function toolCallJournal(
  commands: ToolCallCommands,
  redactPatterns?: readonly (RegExp | string)[],
): ToolCallRecorder {
  return {
    async started(call) {
      await commands.start(
        {
          callId: call.callId,
          serverId: call.serverId,
          serverName: call.serverName,
          tool: call.tool,
          arguments: redactArguments(call.arguments, {
            patterns: redactPatterns ?? [],
            inputSchema: call.inputSchema,
          }),
          actor: call.actor,
          via: call.via,
          ...(call.sessionId !== undefined && { sessionId: call.sessionId }),
          tenant: call.tenant,
          authz: call.authz,
          startedAt: call.startedAt,
        },
        callMeta(call.actor, call.correlationId, call.traceparent, {
          tenant: call.tenant,
          credential: call.credential,
        }),
      );
    },
    async finished(call, start) {
      const meta = callMeta(start.actor, start.correlationId, start.traceparent, {
        tenant: start.tenant,
        credential: start.credential,
      });
      if (call.outcome === 'succeeded') {
        await commands.complete(
          {
            callId: call.callId,
            outcome: 'succeeded',
            durationMs: call.durationMs,
            resultBytes: call.resultBytes,
            resultHash: call.resultHash!,
            isError: call.isError,
            finishedAt: call.finishedAt,
          },
          meta,
        );
      } else {
        await commands.complete(
          {
            callId: call.callId,
            outcome: 'failed',
            durationMs: call.durationMs,
            error: sanitizeStorable(
              call.error ?? { kind: 'internal', code: 'UNKNOWN', message: 'unknown failure' },
            ),
            finishedAt: call.finishedAt,
          },
          meta,
        );
      }
    },
  };
}
