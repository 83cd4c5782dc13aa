import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { applyAll } from '../projection.ts';
import { tableContents } from '../tables.ts';
import { toolCallsProjection } from './tool-calls.projection.ts';

type Step = 'start' | 'succeed' | 'fail' | 'abandon';

/** One call's events as the log could hold them: a start, then outcomes (an abandoned call can still finish). */
const callSteps: fc.Arbitrary<Step[]> = fc.oneof(
  fc.constant<Step[]>(['start']),
  fc.constantFrom<Step[]>(['start', 'succeed'], ['start', 'fail'], ['start', 'abandon']),
  fc.constantFrom<Step[]>(['start', 'abandon', 'succeed'], ['start', 'abandon', 'fail']),
);

function events(calls: Step[][], startAt: bigint): RecordedEvent[][] {
  let position = startAt;
  return calls.map((steps) => {
    const callId = randomUUID();
    const serverId = randomUUID();
    const at = new Date(Date.UTC(2026, 11, 5, 6, 0, Number(position % 60n))).toISOString();
    return steps.map((step, revision) => {
      const base = { callId, serverId, tool: 'echo' };
      const data =
        step === 'start'
          ? {
              ...base,
              serverName: 's',
              arguments: { text: `t${position}`, n: [1, { x: null }] },
              actor: 'alice',
              via: 'mcp',
              sessionId: 'abc',
              tenant: 'default',
              startedAt: at,
            }
          : step === 'succeed'
            ? {
                ...base,
                durationMs: 7,
                resultBytes: 12,
                resultHash: 'a'.repeat(64),
                isError: revision === 2,
                finishedAt: at,
              }
            : step === 'fail'
              ? {
                  ...base,
                  durationMs: 9,
                  error: { kind: 'upstream', code: 'UPSTREAM.FAILED', message: 'boom' },
                  finishedAt: at,
                }
              : { ...base, reason: 'crash', abandonedAt: at };
      const type = {
        start: 'ToolCallStarted',
        succeed: 'ToolCallSucceeded',
        fail: 'ToolCallFailed',
        abandon: 'ToolCallAbandoned',
      }[step];
      position += 1n;
      return {
        id: randomUUID(),
        type,
        stream: `toolcall-${callId}`,
        revision: BigInt(revision),
        position,
        data,
        metadata: { correlationId: 'c', causationId: 'c', actor: 'alice', schemaVersion: 1 },
        recordedAt: new Date(at),
      };
    });
  });
}

/** Interleaves the calls' events in log order, keeping each call's own order. */
function interleave(perCall: RecordedEvent[][], picks: number[]): RecordedEvent[] {
  const queues = perCall.map((q) => [...q]);
  const out: RecordedEvent[] = [];
  let i = 0;
  while (queues.some((q) => q.length > 0)) {
    const open = queues.filter((q) => q.length > 0);
    out.push(open[(picks[i++ % picks.length] ?? 0) % open.length]!.shift()!);
  }
  return out;
}

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'tool_calls batches');
  describe.skipIf(!kind.available())(`tool_calls applied in batches [${kind.label}]`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await kind.open();
      await sql`CREATE TABLE tool_calls_one (LIKE tool_calls INCLUDING ALL)`.execute(t.db);
      await sql`CREATE TABLE tool_calls_many (LIKE tool_calls INCLUDING ALL)`.execute(t.db);
    });
    afterAll(() => t?.close());

    it('writes exactly what applying the events one by one writes, however the log is cut into batches', {
      timeout: 120_000,
    }, async () => {
      let position = 0n;
      await fc.assert(
        fc.asyncProperty(
          fc.array(callSteps, { minLength: 1, maxLength: 12 }),
          fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
          fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
          fc.boolean(),
          async (calls, picks, cuts, replay) => {
            const log = interleave(events(calls, position), picks);
            position += BigInt(log.length);
            // Some batches are applied twice at once (a redelivery): nothing may change the second time.
            await t.db.transaction().execute(async (trx) => {
              for (const e of log) await toolCallsProjection.apply(trx, e, { tool_calls: 'tool_calls_one' });
              for (let i = 0, c = 0; i < log.length; c++) {
                const batch = log.slice(i, i + cuts[c % cuts.length]!);
                await applyAll(toolCallsProjection, trx, batch, { tool_calls: 'tool_calls_many' });
                if (replay)
                  await applyAll(toolCallsProjection, trx, batch, { tool_calls: 'tool_calls_many' });
                i += batch.length;
              }
              // A late redelivery of some stretch of the log: changes nothing on either side.
              if (replay) {
                const from = picks[0]! % log.length;
                const late = log.slice(from, from + 1 + (picks.at(-1)! % 4));
                for (const e of late)
                  await toolCallsProjection.apply(trx, e, { tool_calls: 'tool_calls_one' });
                await applyAll(toolCallsProjection, trx, late, { tool_calls: 'tool_calls_many' });
              }
            });
            expect(await tableContents(t.db, 'tool_calls_many', 'id')).toEqual(
              await tableContents(t.db, 'tool_calls_one', 'id'),
            );
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
