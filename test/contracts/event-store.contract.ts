import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMetadata, NewEvent, RecordedEvent } from '../../kernel/envelope.ts';
import { AppError, WrongExpectedRevisionError } from '../../kernel/errors.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';

/** Runs inside an append's transaction just before it commits; awaiting delays it, throwing rolls it back. */
export type BeforeCommitHook = (stream: string, events: readonly NewEvent[]) => Promise<void>;

export interface ContractSubject {
  store: EventStore;
  teardown(): Promise<void>;
  /**
   * Adapters that can hold an append's transaction open or roll it back on demand (test hooks)
   * offer this; the gap-safety test then mixes slow and rolled-back appends into its load.
   */
  setBeforeCommit?: (hook: BeforeCommitHook | undefined) => void;
  /**
   * False for stores that append an `appendMany` stream by stream (EventStoreDB): a conflict there
   * leaves the entries before it written. Default true: all or nothing.
   */
  appendManyIsAtomic?: boolean;
}

/**
 * The behaviour every EventStore adapter must show. One store serves the whole suite and is never
 * assumed empty: each test works in its own stream category, so the suite also runs against a
 * shared server such as EventStoreDB.
 */
export function describeEventStoreContract(name: string, factory: () => Promise<ContractSubject>): void {
  // Generous limits: on a loaded machine, slow appends to the same log hold back its visible end
  // (see event-store/postgres/horizon.ts).
  describe(`EventStore contract: ${name}`, { timeout: 90_000 }, () => {
    let subject: ContractSubject;
    let store: EventStore;

    beforeAll(async () => {
      subject = await factory();
      store = subject.store;
    });

    afterAll(async () => {
      await subject?.teardown();
    });

    describe('append and readStream', () => {
      it('appends to a new stream and reads it back forwards, with every envelope field', async () => {
        const stream = `${category()}-${randomUUID()}`;
        const events = [
          event('thing-created', { n: 1, nested: { list: [1, 'two'] } }),
          event('thing-renamed', 'a string'),
        ];
        const before = Date.now();

        const result = await store.append(stream, events, 'no-stream');

        expect(result.nextExpectedRevision).toBe(1n);
        expect(result.duplicate).toBe(false);
        const read = await store.readStream(stream);
        expect(read.map((e) => e.id)).toEqual(events.map((e) => e.id));
        expect(read.map((e) => e.revision)).toEqual([0n, 1n]);
        expect(read.map((e) => e.type)).toEqual(['thing-created', 'thing-renamed']);
        expect(read[0]!.data).toEqual({ n: 1, nested: { list: [1, 'two'] } });
        expect(read[1]!.data).toBe('a string');
        expect(read[0]!.metadata).toEqual(events[0]!.metadata);
        expect(read.every((e) => e.stream === stream)).toBe(true);
        expect(read[1]!.position).toBe(result.position);
        expect(read[0]!.position).toBeLessThan(read[1]!.position);
        for (const e of read) {
          expect(e.recordedAt).toBeInstanceOf(Date);
          // The store's clock, not ours: allow for skew between the test and the server.
          expect(Math.abs(e.recordedAt.getTime() - before)).toBeLessThan(60_000);
        }
        expect(await store.streamRevision(stream)).toBe(1n);
      });

      it('reads backwards, from a revision, and at most maxCount events', async () => {
        const stream = `${category()}-${randomUUID()}`;
        await store.append(
          stream,
          range(5).map((i) => event('counted', { i })),
          'no-stream',
        );

        const revisions = async (options: Parameters<EventStore['readStream']>[1]) =>
          (await store.readStream(stream, options)).map((e) => e.revision);
        expect(await revisions({ direction: 'backwards' })).toEqual([4n, 3n, 2n, 1n, 0n]);
        expect(await revisions({ fromRevision: 2n })).toEqual([2n, 3n, 4n]);
        expect(await revisions({ fromRevision: 1n, maxCount: 2 })).toEqual([1n, 2n]);
        expect(await revisions({ direction: 'backwards', fromRevision: 3n, maxCount: 2 })).toEqual([3n, 2n]);
        expect(await revisions({ direction: 'backwards', maxCount: 1 })).toEqual([4n]);
        expect(await revisions({ fromRevision: 9n })).toEqual([]);
      });

      it('reads an unknown stream as empty, with no revision', async () => {
        const stream = `${category()}-${randomUUID()}`;
        expect(await store.readStream(stream)).toEqual([]);
        expect(await store.readStream(stream, { direction: 'backwards' })).toEqual([]);
        expect(await store.streamRevision(stream)).toBeUndefined();
      });

      it('refuses an empty append and malformed event ids, writing nothing', async () => {
        const stream = `${category()}-${randomUUID()}`;
        await expect(store.append(stream, [], 'any')).rejects.toMatchObject({ kind: 'validation' });
        await expect(
          store.append(stream, [{ ...event('x'), id: 'not-a-uuid' }], 'any'),
        ).rejects.toMatchObject({
          kind: 'validation',
        });
        const twice = event('x');
        await expect(store.append(stream, [twice, twice], 'any')).rejects.toMatchObject({
          kind: 'validation',
        });
        expect(await store.readStream(stream)).toEqual([]);
      });
    });

    describe('expected revision', () => {
      it("'no-stream' creates a stream once, then fails with a concurrency error", async () => {
        const stream = `${category()}-${randomUUID()}`;
        await store.append(stream, [event('a')], 'no-stream');

        const error = await store.append(stream, [event('b')], 'no-stream').catch((e: unknown) => e);

        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({
          kind: 'concurrency',
          code: 'EVENT_STORE.WRONG_EXPECTED_REVISION',
          stream,
        });
        expect((error as WrongExpectedRevisionError).actual).toBe('0');
        expect(await store.streamRevision(stream)).toBe(0n);
      });

      it('an exact revision must match the last event', async () => {
        const stream = `${category()}-${randomUUID()}`;
        await store.append(stream, [event('a'), event('b')], 'no-stream');

        await expect(store.append(stream, [event('c')], 0n)).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        await expect(store.append(stream, [event('c')], 2n)).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        const ok = await store.append(stream, [event('c')], 1n);
        expect(ok.nextExpectedRevision).toBe(2n);

        const missing = `${category()}-${randomUUID()}`;
        const error = await store.append(missing, [event('a')], 0n).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect((error as WrongExpectedRevisionError).actual).toBe('no-stream');
      });

      it("'stream-exists' needs the stream; 'any' takes whatever is there", async () => {
        const stream = `${category()}-${randomUUID()}`;
        await expect(store.append(stream, [event('a')], 'stream-exists')).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        expect((await store.append(stream, [event('a')], 'any')).nextExpectedRevision).toBe(0n);
        expect((await store.append(stream, [event('b')], 'stream-exists')).nextExpectedRevision).toBe(1n);
        expect((await store.append(stream, [event('c')], 'any')).nextExpectedRevision).toBe(2n);
        expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['a', 'b', 'c']);
      });

      it('of concurrent appends at the same revision exactly one wins; the others get a concurrency error', async () => {
        const stream = `${category()}-${randomUUID()}`;
        await store.append(stream, [event('a')], 'no-stream');

        const outcomes = await Promise.allSettled(range(8).map(() => store.append(stream, [event('b')], 0n)));

        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(7);
        for (const o of lost) expect(o.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.streamRevision(stream)).toBe(1n);
      });
    });

    describe('idempotent append', () => {
      it('appending the same event ids again returns the original result and appends nothing', async () => {
        const stream = `${category()}-${randomUUID()}`;
        const events = [event('a'), event('b')];
        const first = await store.append(stream, events, 'no-stream');
        await store.append(stream, [event('c')], 1n);

        // A retried command carries the expected revision it had the first time.
        const again = await store.append(stream, events, 'no-stream');

        expect(again).toEqual({ ...first, duplicate: true });
        expect(await store.streamRevision(stream)).toBe(2n);
        expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['a', 'b', 'c']);
      });

      it('a partial overlap with stored ids is a conflict, and nothing is appended', async () => {
        const stream = `${category()}-${randomUUID()}`;
        const stored = event('a');
        await store.append(stream, [stored], 'no-stream');

        const error = await store.append(stream, [stored, event('b')], 'any').catch((e: unknown) => e);

        expect(error).toBeInstanceOf(AppError);
        expect(error).toMatchObject({ kind: 'conflict', code: 'EVENT_STORE.PARTIAL_DUPLICATE' });
        expect((await store.readStream(stream)).map((e) => e.type)).toEqual(['a']);
      });
    });

    describe('appendMany', () => {
      it('appends to several streams at once, each at its expected revision, in the order given', async () => {
        const cat = category();
        const existing = `${cat}-existing`;
        await store.append(existing, [event('opened'), event('noted')], 'no-stream');
        const start = await store.headPosition();
        const fresh = `${cat}-fresh`;
        const any = `${cat}-any`;

        const results = await store.appendMany([
          { stream: fresh, events: [event('a'), event('b')], expected: 'no-stream' },
          { stream: existing, events: [event('c')], expected: 1n },
          { stream: any, events: [event('d')], expected: 'any' },
        ]);

        expect(results.map((r) => [r.nextExpectedRevision, r.duplicate])).toEqual([
          [1n, false],
          [2n, false],
          [0n, false],
        ]);
        expectIncreasing(results.map((r) => r.position));
        expect((await store.readStream(fresh)).map((e) => e.type)).toEqual(['a', 'b']);
        expect((await store.readStream(existing)).map((e) => e.type)).toEqual(['opened', 'noted', 'c']);
        expect(await store.streamRevision(any)).toBe(0n);
        const [lastOfFresh] = await store.readStream(fresh, { direction: 'backwards', maxCount: 1 });
        expect(lastOfFresh!.position).toBe(results[0]!.position);
        await untilVisible(store, results[2]!.position);
        const logged = await store.readAll({ after: start, filter: { categories: [cat] } });
        expect(logged.map((e) => e.type)).toEqual(['a', 'b', 'c', 'd']);
        expectIncreasing(logged.map((e) => e.position));
      });

      it("fails with the conflicting stream's concurrency error, appending nothing where atomic", async () => {
        const cat = category();
        const existing = `${cat}-existing`;
        await store.append(existing, [event('opened')], 'no-stream');
        const before = `${cat}-before`;
        const after = `${cat}-after`;

        const error = await store
          .appendMany([
            { stream: before, events: [event('a')], expected: 'no-stream' },
            { stream: existing, events: [event('b')], expected: 5n },
            { stream: after, events: [event('c')], expected: 'no-stream' },
          ])
          .catch((e: unknown) => e);

        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ kind: 'concurrency', stream: existing, actual: '0' });
        expect(await store.streamRevision(existing)).toBe(0n);
        expect(await store.streamRevision(after)).toBeUndefined();
        if (subject.appendManyIsAtomic !== false) expect(await store.streamRevision(before)).toBeUndefined();
        else expect(await store.streamRevision(before)).toBe(0n);

        const missing = await store
          .appendMany([
            { stream: `${cat}-x`, events: [event('x')], expected: 'any' },
            { stream: `${cat}-missing`, events: [event('y')], expected: 'stream-exists' },
          ])
          .catch((e: unknown) => e);
        expect(missing).toMatchObject({ kind: 'concurrency', stream: `${cat}-missing`, actual: 'no-stream' });
      });

      it('answers a replayed entry with its first result and appends the others; ids stored in part fail', async () => {
        const cat = category();
        const first = [
          { stream: `${cat}-1`, events: [event('a'), event('b')], expected: 'no-stream' as const },
          { stream: `${cat}-2`, events: [event('c')], expected: 'no-stream' as const },
        ];
        const original = await store.appendMany(first);

        // The whole batch again (a retried command): nothing new.
        expect(await store.appendMany(first)).toEqual(original.map((r) => ({ ...r, duplicate: true })));
        // One entry replayed beside a new one.
        const mixed = await store.appendMany([
          first[1]!,
          { stream: `${cat}-3`, events: [event('d')], expected: 'no-stream' },
        ]);
        expect(mixed[0]).toEqual({ ...original[1]!, duplicate: true });
        expect(mixed[1]).toMatchObject({ nextExpectedRevision: 0n, duplicate: false });
        expect((await store.readStream(`${cat}-1`)).map((e) => e.type)).toEqual(['a', 'b']);
        expect((await store.readStream(`${cat}-2`)).map((e) => e.type)).toEqual(['c']);

        const partial = await store
          .appendMany([
            { stream: `${cat}-4`, events: [event('e')], expected: 'no-stream' },
            { stream: `${cat}-1`, events: [first[0]!.events[0]!, event('f')], expected: 'any' },
          ])
          .catch((e: unknown) => e);
        expect(partial).toMatchObject({ kind: 'conflict', code: 'EVENT_STORE.PARTIAL_DUPLICATE' });
        expect((await store.readStream(`${cat}-1`)).map((e) => e.type)).toEqual(['a', 'b']);
        if (subject.appendManyIsAtomic !== false)
          expect(await store.streamRevision(`${cat}-4`)).toBeUndefined();
      });

      it('refuses invalid batches before writing anything', async () => {
        const cat = category();
        const ok = { stream: `${cat}-ok`, events: [event('a')], expected: 'no-stream' as const };
        const shared = event('twice');
        const invalid: Array<[string, Parameters<EventStore['appendMany']>[0]]> = [
          ['EVENT_STORE.EMPTY_APPEND', []],
          ['EVENT_STORE.EMPTY_APPEND', [ok, { stream: `${cat}-empty`, events: [], expected: 'any' }]],
          ['EVENT_STORE.DUPLICATE_STREAM', [ok, { ...ok, events: [event('b')] }]],
          [
            'EVENT_STORE.DUPLICATE_EVENT_ID',
            [
              { ...ok, events: [shared] },
              { stream: `${cat}-other`, events: [shared], expected: 'any' },
            ],
          ],
          ['EVENT_STORE.INVALID_STREAM', [ok, { stream: '$system', events: [event('c')], expected: 'any' }]],
          [
            'EVENT_STORE.INVALID_EVENT_ID',
            [ok, { stream: `${cat}-bad`, events: [{ ...event('d'), id: 'nope' }], expected: 'any' }],
          ],
          ['EVENT_STORE.INVALID_EXPECTED_REVISION', [{ ...ok, expected: -1n }]],
        ];
        for (const [code, appends] of invalid) {
          await expect(store.appendMany(appends), code).rejects.toMatchObject({ kind: 'validation', code });
        }
        expect(await store.streamRevision(ok.stream)).toBeUndefined();
        expect(await store.streamRevision(`${cat}-other`)).toBeUndefined();
      });
    });

    describe('global log', () => {
      it('readAll returns events in append order after a position, filtered by category and type', async () => {
        const cat = category();
        const other = category();
        const start = await store.headPosition();
        const s1 = `${cat}-1`;
        const s2 = `${cat}-2`;
        await store.append(s1, [event('opened'), event('noted')], 'no-stream');
        await store.append(`${other}-1`, [event('opened')], 'no-stream');
        await store.append(s2, [event('opened')], 'no-stream');
        const last = await store.append(s1, [event('closed')], 1n);
        await untilVisible(store, last.position);

        const all = await store.readAll({ after: start, filter: { categories: [cat, other] } });
        expect(all.map((e) => `${e.stream}:${e.type}`)).toEqual([
          `${s1}:opened`,
          `${s1}:noted`,
          `${other}-1:opened`,
          `${s2}:opened`,
          `${s1}:closed`,
        ]);
        expectIncreasing(all.map((e) => e.position));

        const mine = await store.readAll({ after: start, filter: { categories: [cat] } });
        expect(mine.map((e) => e.type)).toEqual(['opened', 'noted', 'opened', 'closed']);

        const opened = await store.readAll({
          after: start,
          filter: { categories: [cat], types: ['opened'] },
        });
        expect(opened.map((e) => e.stream)).toEqual([s1, s2]);

        const page = await store.readAll({ after: start, maxCount: 2, filter: { categories: [cat] } });
        expect(page.map((e) => e.type)).toEqual(['opened', 'noted']);
        const next = await store.readAll({
          after: page[1]!.position,
          maxCount: 2,
          filter: { categories: [cat] },
        });
        expect(next.map((e) => e.type)).toEqual(['opened', 'closed']);

        const empty = await store.readAll({ after: mine.at(-1)!.position, filter: { categories: [cat] } });
        expect(empty).toEqual([]);
        const none = await store.readAll({ after: start, filter: { categories: [cat], types: [] } });
        expect(none).toEqual([]);
      });

      it('readAll without a filter includes every new event', async () => {
        const stream = `${category()}-${randomUUID()}`;
        const start = await store.headPosition();
        const result = await store.append(stream, [event('a'), event('b')], 'no-stream');
        await untilVisible(store, result.position);

        const all = await store.readAll({ after: start, maxCount: 10_000 });

        const mine = all.filter((e) => e.stream === stream);
        expect(mine.map((e) => e.type)).toEqual(['a', 'b']);
        expect(mine[1]!.position).toBe(result.position);
        expectIncreasing(all.map((e) => e.position));
      });

      it('headPosition and countAfter follow appends', async () => {
        const cat = category();
        const start = await store.headPosition();
        const first = await store.append(`${cat}-1`, [event('a'), event('b')], 'no-stream');
        await untilVisible(store, first.position);
        expect(await store.headPosition()).toBe(first.position);
        const second = await store.append(`${cat}-2`, [event('a')], 'no-stream');
        await untilVisible(store, second.position);
        expect(await store.headPosition()).toBe(second.position);

        expect(await store.countAfter(start, { categories: [cat] })).toBe(3);
        expect(await store.countAfter(start, { categories: [cat], types: ['b'] })).toBe(1);
        expect(await store.countAfter(first.position, { categories: [cat] })).toBe(1);
        expect(await store.countAfter(second.position, { categories: [cat] })).toBe(0);
        expect(await store.countAfter(start)).toBeGreaterThanOrEqual(3);
      });

      it('caughtUp says whether a reader has anything left to read up to a position', async () => {
        const cat = category();
        const other = category();
        const start = await store.headPosition();
        const first = await store.append(`${cat}-1`, [event('a'), event('b')], 'no-stream');
        const second = await store.append(`${cat}-2`, [event('a')], 'no-stream');
        await untilVisible(store, second.position);
        expect(await store.caughtUp(start, second.position, { categories: [cat] })).toBe(false);
        expect(await store.caughtUp(first.position, second.position, { categories: [cat] })).toBe(false);
        expect(await store.caughtUp(second.position, second.position, { categories: [cat] })).toBe(true);
        expect(await store.caughtUp(first.position, second.position, { types: ['b'] })).toBe(true);
        expect(await store.caughtUp(start, second.position, { categories: [other] })).toBe(true);
        expect(await store.caughtUp(start, second.position, { categories: [] })).toBe(true);
        // Past the head: nothing there yet is readable, so no reader is caught up with it.
        expect(await store.caughtUp(second.position, second.position + 2n ** 40n)).toBe(false);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up from a position, then delivers events appended after it subscribed', async () => {
        const cat = category();
        const start = await store.headPosition();
        await store.append(
          `${cat}-1`,
          range(5).map((i) => event('early', { i })),
          'no-stream',
        );

        const controller = new AbortController();
        const seen: RecordedEvent[] = [];
        const done = consume(
          store.subscribeToAll({
            after: start,
            filter: { categories: [cat] },
            signal: controller.signal,
            batchSize: 2,
          }),
          seen,
        );
        await waitUntil(() => seen.length === 5, 30_000, 'catch-up');

        await store.append(`${cat}-2`, [event('late')], 'no-stream');
        await store.append(`${cat}-1`, [event('later')], 4n);
        await waitUntil(() => seen.length === 7, 30_000, 'live events');
        controller.abort();
        await done;

        expect(seen.map((e) => e.type)).toEqual([
          'early',
          'early',
          'early',
          'early',
          'early',
          'late',
          'later',
        ]);
        expectIncreasing(seen.map((e) => e.position));
        expect(seen.every((e) => e.position > start)).toBe(true);
      });

      it('starts strictly after the given position and applies type filters live', async () => {
        const cat = category();
        const first = await store.append(`${cat}-1`, [event('skip'), event('keep')], 'no-stream');
        const controller = new AbortController();
        const seen: RecordedEvent[] = [];
        const done = consume(
          store.subscribeToAll({
            after: first.position - 1n,
            filter: { categories: [cat], types: ['keep'] },
            signal: controller.signal,
          }),
          seen,
        );
        await waitUntil(() => seen.length === 1, 30_000, 'catch-up');
        await store.append(`${cat}-1`, [event('skip'), event('keep')], 1n);
        await waitUntil(() => seen.length === 2, 30_000, 'live event');
        controller.abort();
        await done;
        expect(seen.map((e) => `${e.type}@${e.revision}`)).toEqual(['keep@1', 'keep@3']);
      });

      it('ends when its signal aborts, even while waiting for events, and never starts when already aborted', async () => {
        const controller = new AbortController();
        const seen: RecordedEvent[] = [];
        const done = consume(
          store.subscribeToAll({
            after: await store.headPosition(),
            filter: { categories: [category()] },
            signal: controller.signal,
          }),
          seen,
        );
        await sleep(150);
        const aborted = Date.now();
        controller.abort();
        await done;
        expect(Date.now() - aborted).toBeLessThan(5_000);
        expect(seen).toEqual([]);

        const preAborted = store.subscribeToAll({ signal: AbortSignal.abort() });
        const items: RecordedEvent[] = [];
        await consume(preAborted, items);
        expect(items).toEqual([]);
      });

      it('ends when the consumer breaks out of the loop', async () => {
        const cat = category();
        const start = await store.headPosition();
        await store.append(
          `${cat}-1`,
          range(3).map(() => event('x')),
          'no-stream',
        );
        let count = 0;
        for await (const _ of store.subscribeToAll({ after: start, filter: { categories: [cat] } })) {
          count++;
          if (count === 2) break;
        }
        expect(count).toBe(2);
      });
    });

    describe('gap safety under concurrent writers', () => {
      it('a tailing reader sees every committed event exactly once, in order, and no rolled-back event', async () => {
        const withHooks = subject.setBeforeCommit !== undefined;
        const cat = category();
        const streams = range(24).map((i) => `${cat}-s${i}`);
        const start = await store.headPosition();
        const fates = new Map<string, 'slow' | 'fail'>();
        let slowRuns = 0;
        let failRuns = 0;
        subject.setBeforeCommit?.(async (_stream, events) => {
          const fate = fates.get(events[0]!.id);
          if (fate === 'slow') {
            slowRuns++;
            await sleep(20 + Math.random() * 80);
          } else if (fate === 'fail') {
            failRuns++;
            await sleep(Math.random() * 30);
            throw new Error('deliberate rollback (test)');
          }
        });

        const controller = new AbortController();
        const tailed: RecordedEvent[] = [];
        const tail = consume(
          store.subscribeToAll({
            after: start,
            filter: { categories: [cat] },
            signal: controller.signal,
            batchSize: 7,
          }),
          tailed,
        );
        // A second reader pages through readAll while the writers run.
        const paged: RecordedEvent[] = [];
        const pager = (async () => {
          let after = start;
          while (!controller.signal.aborted) {
            const page = await store.readAll({ after, maxCount: 5, filter: { categories: [cat] } });
            paged.push(...page);
            after = page.at(-1)?.position ?? after;
            if (page.length < 5) await sleep(10);
          }
        })();

        const committed = new Set<string>();
        const rolledBack = new Set<string>();
        try {
          await Promise.all(
            range(16).map(async () => {
              for (let k = 0; k < 15; k++) {
                const stream = streams[Math.floor(Math.random() * streams.length)]!;
                const events = range(1 + Math.floor(Math.random() * 3)).map((i) => event('loaded', { i }));
                const roll = Math.random();
                const fate = !withHooks ? 'ok' : roll < 0.15 ? 'fail' : roll < 0.3 ? 'slow' : 'ok';
                if (fate !== 'ok') fates.set(events[0]!.id, fate);
                // Some writers hold an exact expected revision, so the lock is contended both ways.
                const expected =
                  Math.random() < 0.25 ? ((await store.streamRevision(stream)) ?? 'no-stream') : 'any';
                // Some append to a second stream in the same call, in any order of the two: the
                // streams' locks must not deadlock, and the two appends commit (or not) together.
                const other = streams[Math.floor(Math.random() * streams.length)]!;
                const also =
                  Math.random() < 0.3 && other !== stream
                    ? { stream: other, events: [event('loaded', { also: true })], expected: 'any' as const }
                    : undefined;
                const written = [...events, ...(also?.events ?? [])];
                try {
                  if (also) await store.appendMany([{ stream, events, expected }, also]);
                  else await store.append(stream, events, expected);
                  if (fate === 'fail')
                    throw new Error('an append whose transaction was rolled back reported success');
                  for (const e of written) committed.add(e.id);
                } catch (error) {
                  if (fate === 'fail' && !(error instanceof WrongExpectedRevisionError)) {
                    for (const e of written) rolledBack.add(e.id);
                  } else if (!(error instanceof WrongExpectedRevisionError)) {
                    throw error;
                  }
                }
              }
            }),
          );
          await waitUntil(
            () => tailed.length >= committed.size && paged.length >= committed.size,
            60_000,
            `readers to see ${committed.size} events`,
          );
          // Time for anything that should not be there (duplicates, rolled-back events) to show up.
          await sleep(300);
        } finally {
          controller.abort();
          subject.setBeforeCommit?.(undefined);
          await Promise.allSettled([tail, pager]);
        }

        if (withHooks) {
          expect(slowRuns).toBeGreaterThan(0);
          expect(failRuns).toBeGreaterThan(0);
          expect(rolledBack.size).toBeGreaterThan(0);
        }
        expect(committed.size).toBeGreaterThan(100);

        for (const [label, seen] of [
          ['subscribeToAll', tailed],
          ['readAll', paged],
        ] as const) {
          const ids = seen.map((e) => e.id);
          expect(new Set(ids).size, `${label}: no event twice`).toBe(ids.length);
          expect(new Set(ids), `${label}: exactly the committed events`).toEqual(committed);
          expect(
            ids.filter((id) => rolledBack.has(id)),
            `${label}: no rolled-back event`,
          ).toEqual([]);
          expectIncreasing(seen.map((e) => e.position));
          for (const stream of streams) {
            const revisions = seen.filter((e) => e.stream === stream).map((e) => e.revision);
            expect(revisions, `${label}: ${stream} in revision order`).toEqual(
              range(revisions.length).map((i) => BigInt(i)),
            );
          }
        }
        for (const stream of streams) {
          const stored = (await store.readStream(stream)).map((e) => e.id);
          expect(tailed.filter((e) => e.stream === stream).map((e) => e.id)).toEqual(stored);
        }
      }, 180_000);
    });
  });
}

function category(): string {
  return `c${randomBytes(6).toString('hex')}`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function metadata(): EventMetadata {
  return {
    correlationId: randomUUID(),
    causationId: randomUUID(),
    actor: 'test:contract',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    schemaVersion: 1,
  };
}

function event(type: string, data: unknown = { at: 'test' }): NewEvent {
  return { id: randomUUID(), type, data, metadata: metadata() };
}

function expectIncreasing(positions: readonly bigint[]): void {
  for (let i = 1; i < positions.length; i++) {
    if (positions[i]! <= positions[i - 1]!) {
      throw new Error(`positions not strictly increasing at ${i}: ${positions[i - 1]} then ${positions[i]}`);
    }
  }
}

async function consume(subscription: AsyncIterable<RecordedEvent>, into: RecordedEvent[]): Promise<void> {
  for await (const e of subscription) into.push(e);
}

/**
 * The global log may show an append a moment after it returns: the Postgres store waits for older
 * appends still in flight to end before it shows newer ones.
 */
async function untilVisible(store: EventStore, position: bigint): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await store.headPosition()) < position) {
    if (Date.now() > deadline)
      throw new Error(`position ${position} not visible in the global log after 30 s`);
    await sleep(10);
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
