import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import type { ToolCallOutcome, ToolCallStart } from './commands.ts';
import { registerToolCallEvents } from './events.ts';
import { findUnfinishedCalls, makeToolCallCommands, toolCallStream } from './handlers.ts';

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'tool-call commands');
  describe.skipIf(!kind.available())(`tool-call commands [${kind.label}]`, () => {
    let t: TestDatabase;
    const clock = fixedClock('2026-03-01T10:00:00.000Z');
    const registry = registerToolCallEvents(new EventTypeRegistry());
    let calls: ReturnType<typeof makeToolCallCommands>;
    const run = randomBytes(3).toString('hex');
    let seq = 0;
    const meta = (over: Partial<CommandMeta> = {}): CommandMeta => ({
      commandId: `cmd-${run}-${++seq}`,
      actor: 'user:test',
      correlationId: `corr-${seq}`,
      issuedAt: clock.now(),
      ...over,
    });
    const serverId = randomUUID();
    const hash = 'b'.repeat(64);
    const startInput = (callId: string): ToolCallStart => ({
      callId,
      serverId,
      serverName: 'everything',
      tool: 'echo',
      arguments: { message: 'hi' },
      actor: 'alice',
      via: 'mcp' as const,
      tenant: 'default',
      startedAt: clock.now(),
    });
    const failed = (callId: string, message: string): ToolCallOutcome => ({
      callId,
      outcome: 'failed',
      durationMs: 5,
      error: { kind: 'timeout', code: 'UPSTREAM.TIMEOUT', message },
      finishedAt: clock.now(),
    });

    beforeAll(async () => {
      t = await kind.open();
      calls = makeToolCallCommands({ store: t.store, registry, clock });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('records a call from start to outcome; a retried command appends nothing', async () => {
      const callId = randomUUID();
      const m = meta();
      const started = await calls.start(startInput(callId), m);
      expect(started).toMatchObject({ callId, revision: 0n, duplicate: false });
      expect(await calls.start(startInput(callId), m)).toMatchObject({ revision: 0n, duplicate: true });
      await expect(calls.start(startInput(callId), meta())).rejects.toMatchObject({
        code: 'TOOLCALL.ALREADY_STARTED',
        kind: 'conflict',
      });
      const done = await calls.complete(
        {
          callId,
          outcome: 'succeeded',
          durationMs: 12,
          resultBytes: 40,
          resultHash: hash,
          isError: false,
          finishedAt: clock.now(),
        },
        meta(),
      );
      expect(done.events.map((e) => e.type)).toEqual(['ToolCallSucceeded']);
      const events = await t.store.readStream(toolCallStream(callId));
      expect(events.map((e) => e.type)).toEqual(['ToolCallStarted', 'ToolCallSucceeded']);
      // The record as callTool built it, times as ISO text: one shape from the edge to the event.
      expect(events[0]?.data).toEqual({ ...startInput(callId), startedAt: clock.now().toISOString() });
      expect(events[1]?.data).toMatchObject({ durationMs: 12, serverId, tool: 'echo' });
      await expect(calls.complete(failed(callId, 'z'), meta())).rejects.toMatchObject({
        code: 'TOOLCALL.ALREADY_FINISHED',
      });
    });

    it('a record the event schema refuses appends nothing', async () => {
      const callId = randomUUID();
      await expect(calls.start({ ...startInput(callId), via: 'pigeon' as never }, meta())).rejects.toThrow(
        /via/,
      );
      expect(await t.store.readStream(toolCallStream(callId))).toEqual([]);
      await expect(calls.abandon({ callId, reason: 'x', at: clock.now() }, meta())).rejects.toMatchObject({
        code: 'TOOLCALL.NOT_STARTED',
      });
    });

    it('recovery finds the calls a crash cut off and abandons them once', async () => {
      clock.advance(60_000);
      const cutOff = randomUUID();
      const finished = randomUUID();
      const late = randomUUID();
      await calls.start(startInput(cutOff), meta());
      await calls.start(startInput(finished), meta());
      const lastFinish = await calls.complete(failed(finished, 'slow'), meta());
      const restartedAt = new Date(clock.now().getTime() + 1);
      clock.advance(10);
      const afterRestart = await calls.start(startInput(late), meta());
      // The global log shows an append a moment after it returns: wait for our last one (appended
      // after the others, so at the highest position).
      expect(afterRestart.position!).toBeGreaterThan(lastFinish.position!);
      while ((await t.store.headPosition()) < afterRestart.position!)
        await new Promise((r) => setTimeout(r, 10));

      const unfinished = await findUnfinishedCalls(t.store, {
        startedBefore: restartedAt,
        registry,
        pageSize: 2,
      });
      const ids = unfinished.map((c) => c.callId);
      expect(ids).toContain(cutOff);
      expect(ids).not.toContain(finished);
      expect(ids).not.toContain(late);
      expect(unfinished.find((c) => c.callId === cutOff)).toMatchObject({
        serverId,
        tool: 'echo',
        actor: 'alice',
      });

      const recovery = meta();
      const abandoned = await calls.abandonUnfinished(
        { startedBefore: restartedAt, reason: 'gateway restarted' },
        recovery,
      );
      expect(abandoned.map((c) => c.callId)).toContain(cutOff);
      const events = await t.store.readStream(toolCallStream(cutOff));
      expect(events.map((e) => e.type)).toEqual(['ToolCallStarted', 'ToolCallAbandoned']);
      expect(events[1]?.data).toMatchObject({ reason: 'gateway restarted' });
      // The same recovery again (a crash during recovery) appends nothing.
      const again = await calls.abandonUnfinished(
        { startedBefore: restartedAt, reason: 'gateway restarted' },
        recovery,
      );
      expect(again).toEqual([]);
      expect(await t.store.readStream(toolCallStream(cutOff))).toHaveLength(2);
      // A result that reached a client after all is still recorded.
      const lateResult = await calls.complete(
        {
          callId: cutOff,
          outcome: 'succeeded',
          durationMs: 70_000,
          resultBytes: 2,
          resultHash: hash,
          isError: false,
          finishedAt: clock.now(),
        },
        meta(),
      );
      expect(lateResult.events.map((e) => e.type)).toEqual(['ToolCallSucceeded']);
    });
  });
}
