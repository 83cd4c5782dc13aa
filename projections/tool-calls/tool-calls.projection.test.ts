import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerServerEvents } from '../../domains/servers/index.ts';
import {
  makeToolCallCommands,
  redactArguments,
  registerToolCallEvents,
} from '../../domains/toolcalls/index.ts';
import { fixedClock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { createSecretBox } from '../../kernel/secrets.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { serverCommandsAtTheEdge } from '../../test/server-commands.ts';
import { createProjectionRunner, type ProjectionRunner } from '../runner.ts';
import { serversProjection } from '../servers/server.projection.ts';
import { getServer } from '../servers/servers.queries.ts';
import { tableContents } from '../tables.ts';
import { serverStats } from '../tool-stats/tool-stats.queries.ts';
import { toolCallsProjection } from './tool-calls.projection.ts';
import { getToolCall, listToolCalls, runningCallsStartedBefore } from './tool-calls.queries.ts';

const hash = 'c'.repeat(64);

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'tool-call read models');
  describe.skipIf(!kind.available())(`tool-call log and stats [${kind.label}]`, () => {
    let t: TestDatabase;
    let runner: ProjectionRunner;
    const clock = fixedClock('2026-04-01T09:00:00.000Z');
    const registry = registerToolCallEvents(registerServerEvents(new EventTypeRegistry()));
    let calls: ReturnType<typeof makeToolCallCommands>;
    let seq = 0;
    const meta = (tenant?: string): CommandMeta => ({
      commandId: `cmd-${++seq}`,
      actor: 'system:test',
      tenant,
      correlationId: `c-${seq}`,
      issuedAt: clock.now(),
    });
    let alpha: string;
    let beta: string;
    let last = 0n;
    const track = <R extends { position: bigint | undefined }>(r: R): R => {
      if (r.position !== undefined && r.position > last) last = r.position;
      return r;
    };
    const callIds: Record<string, string> = {};

    /** One call on `serverId`: started now, finished `durationMs` later as `outcome`. */
    async function call(
      label: string,
      serverId: string,
      tool: string,
      outcome: 'succeeded' | 'tool-error' | 'failed' | 'abandoned' | 'running',
      durationMs = 0,
      options: {
        actor?: string;
        tick?: number;
        /** The call's own tenant (the start input's). */
        tenant?: string;
        /** The tenant of the command that starts it (meta.tenant). */
        metaTenant?: string;
      } = {},
    ): Promise<string> {
      clock.advance(options.tick ?? 1000);
      const callId = randomUUID();
      callIds[label] = callId;
      track(
        await calls.start(
          {
            callId,
            serverId,
            serverName: serverId === alpha ? 'alpha' : 'beta',
            tool,
            arguments: redactArguments({ text: label, apiKey: 'sk-live-123' }),
            actor: options.actor ?? 'alice',
            via: 'mcp',
            sessionId: 'sess-1',
            // The call's tenant is the server's; the command's (meta) only says who asked.
            tenant: options.tenant ?? options.metaTenant ?? 'default',
            startedAt: clock.now(),
          },
          meta(options.metaTenant),
        ),
      );
      const finishedAt = new Date(clock.now().getTime() + durationMs);
      if (outcome === 'succeeded' || outcome === 'tool-error') {
        track(
          await calls.complete(
            {
              callId,
              outcome: 'succeeded',
              durationMs,
              resultBytes: 123,
              resultHash: hash,
              isError: outcome === 'tool-error',
              finishedAt,
            },
            meta(),
          ),
        );
      } else if (outcome === 'failed') {
        track(
          await calls.complete(
            {
              callId,
              outcome: 'failed',
              durationMs,
              error: { kind: 'timeout', code: 'UPSTREAM.TIMEOUT', message: 'no answer' },
              finishedAt,
            },
            meta(),
          ),
        );
      } else if (outcome === 'abandoned') {
        track(await calls.abandon({ callId, reason: 'gateway restarted', at: finishedAt }, meta()));
      }
      return callId;
    }

    beforeAll(async () => {
      t = await kind.open();
      const servers = serverCommandsAtTheEdge({
        store: t.store,
        registry,
        secrets: createSecretBox(randomBytes(32)),
        clock,
      });
      calls = makeToolCallCommands({ store: t.store, registry, clock });
      runner = createProjectionRunner({
        store: t.store,
        db: t.db,
        projections: [serversProjection, toolCallsProjection],
        registry,
        clock,
      });
      await runner.start();
      alpha = track(
        await servers.register({ name: 'alpha', transport: { type: 'stdio', command: 'a' } }, meta()),
      ).serverId;
      beta = track(
        await servers.register({ name: 'beta', transport: { type: 'stdio', command: 'b' } }, meta()),
      ).serverId;

      // alpha/echo: durations 10, 20, 30, 40, 100 (one a tool-reported error), one abandoned.
      await call('e10', alpha, 'echo', 'succeeded', 10);
      await call('e20', alpha, 'echo', 'tool-error', 20);
      await call('e30', alpha, 'echo', 'succeeded', 30, {
        actor: 'bob',
        tenant: 'team-b',
        metaTenant: 'team-a',
      });
      await call('e40', alpha, 'echo', 'succeeded', 40);
      await call('e100', alpha, 'echo', 'succeeded', 100);
      await call('eAbandoned', alpha, 'echo', 'abandoned');
      // alpha/add: one failure of 5 ms.
      await call('a5', alpha, 'add', 'failed', 5);
      // beta: two calls started at the same instant (the id breaks the tie), one still running.
      await call('b1', beta, 'sum', 'succeeded', 7, { metaTenant: 'team-a' });
      await call('b2', beta, 'sum', 'succeeded', 9, { tick: 0 });
      await call('eRunning', alpha, 'echo', 'running');
      expect(await runner.waitForPosition('tool_calls', last, 15_000)).toBe(true);
      expect(await runner.waitForPosition('servers', last, 15_000)).toBe(true);
    });
    afterAll(async () => {
      await runner?.stop();
      await t?.close();
    });

    it('one row per call, with its outcome, redacted arguments and error', async () => {
      const failed = await getToolCall(t.db, callIds.a5!);
      expect(failed).toMatchObject({
        serverId: alpha,
        serverName: 'alpha',
        tool: 'add',
        actor: 'alice',
        via: 'mcp',
        sessionId: 'sess-1',
        status: 'failed',
        isError: false,
        arguments: { text: 'a5', apiKey: '[redacted]' },
        durationMs: 5,
        error: { kind: 'timeout', code: 'UPSTREAM.TIMEOUT', message: 'no answer' },
        revision: '1',
      });
      expect(Date.parse(failed!.finishedAt!) - Date.parse(failed!.startedAt)).toBe(5);
      expect(await getToolCall(t.db, callIds.e20!)).toMatchObject({
        status: 'succeeded',
        isError: true,
        resultBytes: 123,
        resultHash: hash,
        error: null,
      });
      expect(await getToolCall(t.db, callIds.eAbandoned!)).toMatchObject({
        status: 'abandoned',
        abandonReason: 'gateway restarted',
        durationMs: null,
      });
      expect(await getToolCall(t.db, callIds.eRunning!)).toMatchObject({
        status: 'running',
        finishedAt: null,
      });
      expect(await getToolCall(t.db, randomUUID())).toBeUndefined();
      expect(await getToolCall(t.db, 'nope')).toBeUndefined();
      const rows = JSON.stringify(await tableContents(t.db, 'tool_calls', 'id'));
      expect(rows).not.toContain('sk-live-123');
    });

    it('lists newest first, filters, and pages with a cursor that never repeats or skips', async () => {
      const all = await listToolCalls(t.db, { limit: 500 });
      expect(all.items.map((c) => c.id)).toHaveLength(10);
      expect(all.items[0]?.id).toBe(callIds.eRunning);
      const starts = all.items.map((c) => c.startedAt);
      expect([...starts].sort().reverse()).toEqual(starts);

      const paged: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const page = await listToolCalls(t.db, { limit: 3, cursor });
        paged.push(...page.items.map((c) => c.id));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(paged).toEqual(all.items.map((c) => c.id));

      const ids = (o: Parameters<typeof listToolCalls>[1]) =>
        listToolCalls(t.db, o).then((p) => p.items.map((c) => c.id).sort());
      expect(await ids({ serverId: beta })).toEqual([callIds.b1, callIds.b2].sort());
      expect(await ids({ serverName: 'beta' })).toEqual([callIds.b1, callIds.b2].sort());
      expect(await ids({ tool: 'add' })).toEqual([callIds.a5]);
      expect(await ids({ status: 'abandoned' })).toEqual([callIds.eAbandoned]);
      expect(await ids({ actor: 'bob' })).toEqual([callIds.e30]);
      const e30 = await getToolCall(t.db, callIds.e30!);
      const e40 = await getToolCall(t.db, callIds.e40!);
      expect(await ids({ from: new Date(e30!.startedAt), to: new Date(e40!.startedAt) })).toEqual([
        callIds.e30,
      ]);
      expect(await ids({ serverId: alpha, status: 'succeeded', tool: 'echo' })).toHaveLength(5);
      expect(await ids({ serverId: 'not-a-uuid' })).toEqual([]);
      await expect(listToolCalls(t.db, { cursor: 'garbage' })).rejects.toMatchObject({
        code: 'QUERY.INVALID_CURSOR',
      });
      await expect(listToolCalls(t.db, { limit: 501 })).rejects.toMatchObject({
        code: 'QUERY.INVALID_LIMIT',
      });
    });

    it('stats: calls, errors, exact p50/p95 per server and per tool, last used', async () => {
      const running = await getToolCall(t.db, callIds.eRunning!);
      const stats = await serverStats(t.db, alpha);
      // Server: durations 5, 10, 20, 30, 40, 100 → p50 = 25, p95 = 40 + 0.75 × 60 = 85.
      expect(stats).toMatchObject({
        calls: 7,
        errors: 3,
        running: 1,
        p50Ms: 25,
        p95Ms: 85,
        lastUsedAt: running!.startedAt,
      });
      expect(stats.errorRate).toBeCloseTo(3 / 7, 10);
      // The average of the finished calls' durations: (5 + 10 + 20 + 30 + 40 + 100) / 6.
      expect(stats.avgMs).toBeCloseTo(205 / 6, 0);
      expect(stats.tools).toEqual([
        {
          tool: 'add',
          calls: 1,
          errors: 1,
          errorRate: 1,
          running: 0,
          avgMs: 5,
          p50Ms: 5,
          p95Ms: 5,
          lastUsedAt: (await getToolCall(t.db, callIds.a5!))!.startedAt,
        },
        {
          tool: 'echo',
          // echo: 10, 20, 30, 40, 100 → p50 = 30, p95 = 40 + 0.8 × 60 = 88.
          calls: 6,
          errors: 2,
          errorRate: 2 / 6,
          running: 1,
          avgMs: 40,
          p50Ms: 30,
          p95Ms: 88,
          lastUsedAt: running!.startedAt,
        },
      ]);
      expect((await getServer(t.db, alpha))?.stats).toEqual(stats);
      expect(await serverStats(t.db, randomUUID())).toMatchObject({
        calls: 0,
        errorRate: null,
        avgMs: null,
        p50Ms: null,
        lastUsedAt: null,
        tools: [],
      });
      const recent = await serverStats(t.db, alpha, { since: new Date(Date.parse(running!.startedAt) - 1) });
      expect(recent).toMatchObject({ calls: 0, running: 1, tools: [{ tool: 'echo', running: 1 }] });
    });

    it("a call is its tenant's (the start input's, else the command's): listed and found for it only", async () => {
      const ids = async (tenant?: string) =>
        (await listToolCalls(t.db, { tenant, limit: 500 })).items.map((c) => c.id).sort();
      expect(await ids('team-b')).toEqual([callIds.e30]);
      expect(await ids('team-a')).toEqual([callIds.b1]);
      expect(await ids('default')).toHaveLength(8);
      expect(await ids(undefined)).toHaveLength(10);
      expect(await getToolCall(t.db, callIds.e30!)).toMatchObject({ tenant: 'team-b', actor: 'bob' });
      expect(await getToolCall(t.db, callIds.e30!, { tenant: 'team-a' })).toBeUndefined();
      expect(await getToolCall(t.db, callIds.b1!, { tenant: 'team-a' })).toMatchObject({ tenant: 'team-a' });
      // A tenant's stats of a server count its own calls only.
      expect(await serverStats(t.db, alpha, { tenant: 'team-b' })).toMatchObject({
        calls: 1,
        tools: [{ tool: 'echo', calls: 1, p50Ms: 30 }],
      });
      expect((await getServer(t.db, alpha, { tenant: 'default' }))?.stats).toMatchObject({ calls: 6 });
    });

    it('finds the running calls started before a cutoff (the abandon sweep), and only those', async () => {
      const started = new Date((await getToolCall(t.db, callIds.eRunning!))!.startedAt);
      expect(await runningCallsStartedBefore(t.db, new Date(started.getTime() + 1))).toEqual([
        callIds.eRunning,
      ]);
      expect(await runningCallsStartedBefore(t.db, started)).toEqual([]);
    });

    it('rebuilds from the store alone into an equal log', async () => {
      const live = await tableContents(t.db, 'tool_calls', 'id');
      const result = await runner.rebuild('tool_calls');
      expect(result.events).toBe(19);
      expect(await tableContents(t.db, 'tool_calls', 'id')).toEqual(live);
      expect(await serverStats(t.db, alpha)).toMatchObject({ p50Ms: 25, p95Ms: 85 });
    });
  });
}
