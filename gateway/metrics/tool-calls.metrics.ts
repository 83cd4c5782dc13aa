import { Counter, Histogram, type Registry } from 'prom-client';
import type { CallTool, CallToolRequest } from '../../application/toolcalls/call-tool.ts';
import { isAppError } from '../../kernel/errors.ts';

/** Label of a tool the server does not list: a caller's made-up names never become series. */
export const UNKNOWN_TOOL = '(unknown)';

/**
 * Counts and times every call through callTool (MCP, REST and stdio alike), by server, tool and
 * outcome: `succeeded`, `tool_error` (the tool ran and answered isError), the error's kind
 * (`forbidden`, `rate_limited`, `upstream`, `timeout`, `not_found`…), or `error`. Server names come from the
 * catalog and tool names only from the server's own list, so the label sets stay as small as the
 * registry.
 */
export function instrumentCallTool(callTool: CallTool, metrics: Registry): CallTool {
  const calls = new Counter({
    name: 'switchyard_tool_calls_total',
    help: 'Tool calls through the gateway, by server, tool and outcome',
    labelNames: ['server', 'tool', 'outcome'] as const,
    registers: [metrics],
  });
  const duration = new Histogram({
    name: 'switchyard_tool_call_duration_seconds',
    help: 'Time from a tool call reaching the gateway to its answer, by server, tool and outcome',
    labelNames: ['server', 'tool', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [metrics],
  });
  return async (request: CallToolRequest) => {
    const end = duration.startTimer();
    const labels = {
      server: request.server.name,
      tool: request.server.tools.some((t) => t.name === request.tool) ? request.tool : UNKNOWN_TOOL,
    };
    let outcome = 'error';
    try {
      const answer = await callTool(request);
      outcome = answer.result.isError === true ? 'tool_error' : 'succeeded';
      return answer;
    } catch (e) {
      // An unknown (or concealed) tool answers as its endpoint says; it is still a refusal to count.
      if (isAppError(e)) outcome = e.kind;
      else if (labels.tool === UNKNOWN_TOOL) outcome = 'not_found';
      throw e;
    } finally {
      calls.inc({ ...labels, outcome });
      end({ ...labels, outcome });
    }
  };
}
