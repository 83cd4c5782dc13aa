import { describe, expect, it } from 'vitest';
import { spec } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import type { ToolCallCommand } from './commands.ts';
import { toolCallDecider } from './decider.ts';
import type { ToolCallEvent } from './events.ts';
import { registerToolCallEvents } from './events.ts';

const callId = '0b8e7f61-3c2d-4a5b-9e8f-7a6b5c4d3e2f';
const serverId = '6f1c2a43-5d7e-4b8f-9a0b-1c2d3e4f5a6b';
const t0 = new Date('2026-03-01T12:00:00.000Z');
const t1 = new Date('2026-03-01T12:00:00.250Z');
const hash = 'a'.repeat(64);

const start: ToolCallCommand = {
  type: 'StartToolCall',
  data: {
    callId,
    serverId,
    serverName: 'everything',
    tool: 'echo',
    arguments: { message: 'hi', token: '[redacted]' },
    actor: 'alice',
    via: 'mcp',
    sessionId: 'sess-1',
    tenant: 'team-a',
    startedAt: t0,
  },
};
const succeed = (isError = false): ToolCallCommand => ({
  type: 'CompleteToolCall',
  data: {
    callId,
    outcome: 'succeeded',
    durationMs: 250,
    resultBytes: 42,
    resultHash: hash,
    isError,
    finishedAt: t1,
  },
});
const fail: ToolCallCommand = {
  type: 'CompleteToolCall',
  data: {
    callId,
    outcome: 'failed',
    durationMs: 250,
    error: { kind: 'timeout', code: 'UPSTREAM.TIMEOUT', message: 'no answer in 250 ms' },
    finishedAt: t1,
  },
};
const abandon: ToolCallCommand = {
  type: 'AbandonToolCall',
  data: { callId, reason: 'gateway restarted', at: t1 },
};

const started: ToolCallEvent = {
  type: 'ToolCallStarted',
  data: {
    callId,
    serverId,
    serverName: 'everything',
    tool: 'echo',
    arguments: { message: 'hi', token: '[redacted]' },
    actor: 'alice',
    via: 'mcp',
    sessionId: 'sess-1',
    tenant: 'team-a',
    startedAt: t0.toISOString(),
  },
};
const succeeded = (isError = false): ToolCallEvent => ({
  type: 'ToolCallSucceeded',
  data: {
    callId,
    serverId,
    tool: 'echo',
    durationMs: 250,
    resultBytes: 42,
    resultHash: hash,
    isError,
    finishedAt: t1.toISOString(),
  },
});
const failed: ToolCallEvent = {
  type: 'ToolCallFailed',
  data: {
    callId,
    serverId,
    tool: 'echo',
    durationMs: 250,
    error: { kind: 'timeout', code: 'UPSTREAM.TIMEOUT', message: 'no answer in 250 ms' },
    finishedAt: t1.toISOString(),
  },
};
const abandoned: ToolCallEvent = {
  type: 'ToolCallAbandoned',
  data: { callId, serverId, tool: 'echo', reason: 'gateway restarted', abandonedAt: t1.toISOString() },
};

const given = spec(toolCallDecider).given;

describe('StartToolCall', () => {
  it('starts a call', () => {
    given([]).when(start).thenEmits([started]);
  });
  it('a call id starts one call only', () => {
    given([started]).when(start).thenThrows('TOOLCALL.ALREADY_STARTED');
    given([started, succeeded()]).when(start).thenThrows('TOOLCALL.ALREADY_STARTED');
  });
});

describe('CompleteToolCall', () => {
  it('records a success, and a tool-reported error as a success with isError', () => {
    given([started]).when(succeed()).thenEmits([succeeded()]);
    given([started])
      .when(succeed(true))
      .thenEmits([succeeded(true)]);
  });
  it('records a failure with its error', () => {
    given([started]).when(fail).thenEmits([failed]);
  });
  it('refuses a call never started, and a second outcome', () => {
    given([]).when(succeed()).thenThrows('TOOLCALL.NOT_STARTED');
    given([started, succeeded()]).when(fail).thenThrows('TOOLCALL.ALREADY_FINISHED');
    given([started, failed]).when(succeed()).thenThrows('TOOLCALL.ALREADY_FINISHED');
  });
  it('records an outcome that arrives after the call was abandoned: the result reached someone', () => {
    given([started, abandoned]).when(succeed()).thenEmits([succeeded()]);
    given([started, abandoned, succeeded()]).when(fail).thenThrows('TOOLCALL.ALREADY_FINISHED');
  });
});

describe('AbandonToolCall', () => {
  it('abandons a running call', () => {
    given([started]).when(abandon).thenEmits([abandoned]);
  });
  it('abandoning a finished or abandoned call appends nothing', () => {
    given([started, succeeded()]).when(abandon).thenEmits([]);
    given([started, failed]).when(abandon).thenEmits([]);
    given([started, abandoned]).when(abandon).thenEmits([]);
  });
  it('refuses a call never started', () => {
    given([]).when(abandon).thenThrows('TOOLCALL.NOT_STARTED');
  });
});

describe('events', () => {
  // Records are not parsed on their way in (callTool builds them); the event schemas check what is
  // appended.
  const registry = registerToolCallEvents(new EventTypeRegistry());
  const finished = { callId, serverId, tool: 't', durationMs: 1, finishedAt: '2026-03-01T10:00:00.000Z' };
  it('a failure needs its error, a success its result hash', () => {
    expect(() => registry.validate('ToolCallFailed', finished)).toThrow();
    expect(() =>
      registry.validate('ToolCallSucceeded', { ...finished, resultBytes: 1, isError: false }),
    ).toThrow();
    expect(() =>
      registry.validate('ToolCallSucceeded', {
        ...finished,
        resultBytes: 1,
        isError: false,
        resultHash: 'nope',
      }),
    ).toThrow();
  });
  it('arguments must be an object, the channel a known one, the tenant a tenant id', () => {
    const data = started.data as Record<string, unknown>;
    expect(() => registry.validate('ToolCallStarted', data)).not.toThrow();
    expect(() => registry.validate('ToolCallStarted', { ...data, arguments: [1] })).toThrow();
    expect(() => registry.validate('ToolCallStarted', { ...data, via: 'carrier-pigeon' })).toThrow();
    expect(() => registry.validate('ToolCallStarted', { ...data, tenant: 'Team A' })).toThrow();
  });
  it('every event the decider produces passes its schema', () => {
    const produced = [
      ...given([]).when(start).events(),
      ...given([started]).when(succeed(true)).events(),
      ...given([started]).when(fail).events(),
      ...given([started]).when(abandon).events(),
    ];
    expect(produced).toHaveLength(4);
    for (const e of produced) expect(() => registry.validate(e.type, e.data)).not.toThrow();
  });
  it('a call started before tenancy reads as the default tenant', () => {
    const { tenant: _, ...old } = started.data as Record<string, unknown>;
    expect(registry.upcast('ToolCallStarted', 1, old)).toMatchObject({ tenant: 'default' });
  });
});
