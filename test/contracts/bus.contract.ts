import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus, ConsumeOptions, Consumer } from '../../bus/bus.port.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { AppError } from '../../kernel/errors.ts';

export interface BusFixture {
  bus: Bus;
  teardown(): Promise<void>;
}

type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;

/** Polls until `check` returns something truthy (and returns it), so tests hold on a loaded machine. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 20_000, what = 'condition' }: { timeoutMs?: number; what?: string } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Events with unique ids, per-stream revisions and increasing (deliberately not dense) positions. */
export function eventFactory(): (stream: string, type: string, data?: unknown) => RecordedEvent {
  let position = 100n;
  const revisions = new Map<string, bigint>();
  return (stream, type, data = {}) => {
    position += BigInt(1 + Math.floor(Math.random() * 3));
    const revision = revisions.get(stream) ?? 0n;
    revisions.set(stream, revision + 1n);
    return {
      id: randomUUID(),
      type,
      stream,
      revision,
      position,
      data,
      metadata: {
        correlationId: randomUUID(),
        causationId: randomUUID(),
        actor: 'test',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        schemaVersion: 1,
      },
      recordedAt: new Date(),
    };
  };
}

const ids = (events: readonly RecordedEvent[]) => events.map((e) => e.id);

/**
 * The behaviour every Bus adapter must show. `factory` gives a fresh, empty bus per test (its own
 * streams and subjects); `teardown` removes whatever it created.
 */
export function describeBusContract(
  name: string,
  factory: () => Promise<BusFixture>,
  options: { skip?: boolean } = {},
): void {
  describe.skipIf(options.skip ?? false)(`Bus contract: ${name}`, () => {
    let fixture: BusFixture;
    let bus: Bus;
    let make: ReturnType<typeof eventFactory>;
    const consumers: Consumer[] = [];

    beforeEach(async () => {
      fixture = await factory();
      bus = fixture.bus;
      make = eventFactory();
    });

    afterEach(async () => {
      await Promise.allSettled(consumers.splice(0).map((c) => c.stop()));
      await fixture.teardown();
    });

    async function collect(
      options: Omit<ConsumeOptions, 'handler'>,
      handler?: (e: RecordedEvent) => Promise<void>,
    ): Promise<{ events: RecordedEvent[]; consumer: Consumer; maxConcurrent: () => number }> {
      const events: RecordedEvent[] = [];
      let running = 0;
      let maxConcurrent = 0;
      const consumer = await bus.consume({
        ...options,
        handler: async (e) => {
          running++;
          maxConcurrent = Math.max(maxConcurrent, running);
          try {
            await handler?.(e);
            events.push(e);
          } finally {
            running--;
          }
        },
      });
      consumers.push(consumer);
      return { events, consumer, maxConcurrent: () => maxConcurrent };
    }

    it('reports the last published event, and nothing for an empty bus', async () => {
      expect(await bus.lastPublished()).toBeUndefined();
      await bus.publish([]);
      expect(await bus.lastPublished()).toBeUndefined();
      const batch = [
        make('server-1', 'ServerRegistered'),
        make('server-1', 'ServerEnabled'),
        make('tool-9', 'X'),
      ];
      await bus.publish(batch);
      expect(await bus.lastPublished()).toEqual({ eventId: batch[2]!.id, position: batch[2]!.position });
    });

    it('stores a re-published event id once', async () => {
      const [a, b, c, d] = [make('s-1', 'A'), make('s-1', 'B'), make('s-2', 'C'), make('s-2', 'D')];
      await bus.publish([a!, b!, c!]);
      await bus.publish([b!, c!]);
      await bus.publish([c!, d!]);
      expect((await bus.info()).stream.messages).toBe(4);
      expect(await bus.lastPublished()).toEqual({ eventId: d!.id, position: d!.position });
      const seen = await collect({ name: uniqueConsumer('dedup') });
      await eventually(() => seen.events.length >= 4, { what: '4 events' });
      expect(ids(seen.events)).toEqual(ids([a!, b!, c!, d!]));
    });

    it('delivers events one at a time in global order across categories, honouring filters', async () => {
      const all: RecordedEvent[] = [];
      for (let i = 0; i < 10; i++) {
        all.push(make(`server-${i % 3}`, i % 2 ? 'ServerEnabled' : 'ServerRegistered', { i }));
        all.push(make(`toolcall-${i}`, 'ToolCallStarted', { i }));
        all.push(make(`template-t${i % 2}`, 'TemplateSynced', { i }));
      }
      await bus.publish(all.slice(0, 15));
      const everything = await collect({ name: uniqueConsumer('all') }, () => sleepMs(1));
      const toolcalls = await collect({ name: uniqueConsumer('tc'), filter: { categories: ['toolcall'] } });
      const registered = await collect({
        name: uniqueConsumer('reg'),
        filter: { types: ['ServerRegistered'] },
      });
      const two = await collect({
        name: uniqueConsumer('two'),
        filter: { categories: ['server', 'template'], types: ['ServerEnabled', 'TemplateSynced'] },
      });
      await bus.publish(all.slice(15));

      await eventually(() => everything.events.length === all.length, { what: 'all events' });
      const want = (p: (e: RecordedEvent) => boolean) => ids(all.filter(p));
      await eventually(() => toolcalls.events.length === 10, { what: 'toolcall events' });
      await eventually(() => registered.events.length === 5, { what: 'ServerRegistered events' });
      await eventually(() => two.events.length === 15, { what: 'server+template events' });
      await sleepMs(200); // nothing more may trickle in
      expect(ids(everything.events)).toEqual(ids(all));
      expect(everything.maxConcurrent()).toBe(1);
      expect(ids(toolcalls.events)).toEqual(want((e) => e.stream.startsWith('toolcall-')));
      expect(ids(registered.events)).toEqual(want((e) => e.type === 'ServerRegistered'));
      expect(ids(two.events)).toEqual(want((e) => e.type === 'ServerEnabled' || e.type === 'TemplateSynced'));
      const first = everything.events[0]!;
      expect(first).toEqual(all[0]);
      expect(typeof first.position).toBe('bigint');
      expect(first.recordedAt).toBeInstanceOf(Date);
    });

    it('resumes a stopped durable consumer where it acked: nothing acked comes back, nothing is lost', async () => {
      const all = Array.from({ length: 20 }, (_, i) => make(`order-${i % 4}`, 'OrderPlaced', { i }));
      await bus.publish(all.slice(0, 12));
      const name = uniqueConsumer('durable');
      const first = await collect({ name }, () => sleepMs(15));
      await eventually(() => first.events.length >= 4, { what: '4 events' });
      await first.consumer.stop();
      const acked = ids(first.events);
      expect(acked.length).toBeLessThan(12);
      await bus.publish(all.slice(12));

      const second = await collect({ name });
      await eventually(() => acked.length + second.events.length >= all.length, { what: 'the rest' });
      await sleepMs(200);
      expect([...acked, ...ids(second.events)]).toEqual(ids(all));
    });

    it('starts a new consumer at the tail when asked for new events only', async () => {
      const old = [make('a-1', 'Old'), make('a-1', 'Old')];
      await bus.publish(old);
      const fresh = await collect({ name: uniqueConsumer('new'), startAt: 'new' });
      const later = [make('a-1', 'New')];
      await bus.publish(later);
      await eventually(() => fresh.events.length >= 1, { what: 'the new event' });
      await sleepMs(100);
      expect(ids(fresh.events)).toEqual(ids(later));
    });

    it('parks an event that keeps failing after maxDeliver attempts, and later events get through', async () => {
      const all = Array.from({ length: 5 }, (_, i) => make(`job-${i}`, 'JobQueued', { i }));
      const poison = all[1]!;
      await bus.publish(all);
      const name = uniqueConsumer('park');
      const calls: Array<{ id: string; attempt: number }> = [];
      const ok: string[] = [];
      const consumer = await bus.consume({
        name,
        maxDeliver: 3,
        retryDelayMs: 20,
        handler: async (e, info) => {
          calls.push({ id: e.id, attempt: info.deliveryCount });
          if (e.id === poison.id) throw new Error(`boom on ${e.id}`);
          ok.push(e.id);
        },
      });
      consumers.push(consumer);
      await eventually(() => ok.length === 4, { what: 'the healthy events' });
      expect(ok).toEqual(ids(all.filter((e) => e !== poison)));
      // Ordered: every attempt at the poison event comes before the next event is handed out.
      expect(calls.slice(1, 4)).toEqual([1, 2, 3].map((attempt) => ({ id: poison.id, attempt })));
      const parked = await eventually(async () => {
        const d = await bus.deadLetters(name);
        return d.length === 1 ? d : undefined;
      });
      expect(parked[0]!.consumer).toBe(name);
      expect(parked[0]!.event).toEqual(poison);
      expect(parked[0]!.error).toContain(`boom on ${poison.id}`);
      expect((await bus.deadLetters()).map((d) => d.event.id)).toContain(poison.id);
      expect(await bus.deadLetters(uniqueConsumer('nobody'))).toEqual([]);
      const info = await bus.info();
      expect(info.deadLetters).toBeGreaterThanOrEqual(1);
      expect(info.consumers.map((c) => c.name)).toContain(name);
    });

    it('watches positions: every watcher of a name sees each new matching position, in order, until stopped', async () => {
      await bus.publish([make('server-0', 'ServerRegistered')]); // before the watch: not seen
      const name = uniqueConsumer('watch');
      const seen: bigint[][] = [[], [], []];
      const watch = (i: number, filter?: { categories: string[] }) =>
        bus.watch({ name, ...(filter && { filter }), onPosition: (p) => seen[i]!.push(p) });
      const [a, b, c] = [
        await watch(0),
        await watch(1),
        await watch(2, { categories: ['toolcall', 'template'] }),
      ];
      consumers.push(a, b, c);
      const all: RecordedEvent[] = [];
      for (let i = 0; i < 12; i++) {
        all.push(make(`server-${i % 3}`, 'ServerEnabled'));
        all.push(make(`toolcall-${i}`, 'ToolCallStarted'));
        all.push(make(`template-t${i % 2}`, 'TemplateSynced'));
      }
      await bus.publish(all.slice(0, 20));
      await bus.publish(all.slice(20));
      const positions = (p: (e: RecordedEvent) => boolean) => all.filter(p).map((e) => e.position);
      await eventually(() => seen[0]!.length === all.length && seen[1]!.length === all.length, {
        what: 'every position, by both watchers of the same name',
      });
      await eventually(() => seen[2]!.length === 24, { what: 'the filtered positions' });
      expect(seen[0]).toEqual(positions(() => true));
      expect(seen[1]).toEqual(positions(() => true));
      expect(seen[2]).toEqual(positions((e) => !e.stream.startsWith('server-')));
      const listed = (await bus.info()).consumers.filter((x) => x.name.startsWith(name));
      expect(listed).toHaveLength(3);
      await a.stop();
      await bus.publish([make('server-1', 'ServerEnabled')]);
      await eventually(() => seen[1]!.length === all.length + 1, { what: 'the next position' });
      await sleepMs(100);
      expect(seen[0]).toHaveLength(all.length);
      expect((await bus.info()).consumers.filter((x) => x.name.startsWith(name))).toHaveLength(2);
    });

    it('reports stream, subjects and consumers', async () => {
      await bus.publish([make('server-1', 'ServerRegistered'), make('server-2', 'ServerRegistered')]);
      await bus.publish([make('toolcall-1', 'ToolCallStarted')]);
      const name = uniqueConsumer('info');
      const seen = await collect({ name, filter: { categories: ['server'] } });
      await eventually(() => seen.events.length === 2, { what: '2 events' });
      const info = await bus.info();
      const prefix = bus.names.subjectPrefix;
      expect(info.stream.name).toBe(bus.names.eventsStream);
      expect(info.stream.messages).toBe(3);
      expect(info.subjects).toEqual({
        [`${prefix}.events.server.server-registered`]: 2,
        [`${prefix}.events.toolcall.tool-call-started`]: 1,
      });
      const c = await eventually(async () => {
        const found = (await bus.info()).consumers.find((x) => x.name === name);
        return found && found.ackPending === 0 ? found : undefined;
      });
      expect(c.filterSubjects).toEqual([`${prefix}.events.server.*`]);
      expect(c.pending).toBe(0);
    });

    it('shares commands between the members of a queue group, answering each request once', async () => {
      const handled = { a: 0, b: 0 };
      const serve = (who: 'a' | 'b') =>
        bus.serveCommands({
          category: 'math',
          queue: 'workers',
          handler: async (cmd) => {
            handled[who]++;
            const { x, y } = cmd.payload as { x: number; y: number };
            return { sum: x + y, name: cmd.name, trace: cmd.headers['x-trace'] };
          },
        });
      const servers = [await serve('a'), await serve('b')];
      try {
        const replies = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            bus.request(
              'math',
              'AddNumbers',
              { x: i, y: 1 },
              { headers: { 'x-trace': `t${i}` }, timeoutMs: 10_000 },
            ),
          ),
        );
        expect(replies).toEqual(
          Array.from({ length: 40 }, (_, i) => ({ sum: i + 1, name: 'AddNumbers', trace: `t${i}` })),
        );
        expect(handled.a + handled.b).toBe(40);
        expect(handled.a).toBeGreaterThan(0);
        expect(handled.b).toBeGreaterThan(0);
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
    });

    it('carries AppError kind, code and details across; other errors become internal', async () => {
      const server = await bus.serveCommands({
        category: 'servers',
        queue: 'w',
        handler: async (cmd) => {
          if (cmd.name === 'Register') {
            throw new AppError('conflict', 'SERVER.NAME_TAKEN', 'name taken', { name: 'github' });
          }
          throw new Error('kaput');
        },
      });
      try {
        const conflict = await bus
          .request('servers', 'Register', { name: 'github' })
          .catch((e: unknown) => e);
        expect(conflict).toBeInstanceOf(AppError);
        expect(conflict).toMatchObject({
          kind: 'conflict',
          code: 'SERVER.NAME_TAKEN',
          message: 'name taken',
          details: { name: 'github' },
        });
        const internal = await bus.request('servers', 'Other', null).catch((e: unknown) => e);
        expect(internal).toBeInstanceOf(AppError);
        expect(internal).toMatchObject({ kind: 'internal', message: 'kaput' });
      } finally {
        await server.close();
      }
    });

    it("answers 'unavailable' when no worker serves a category, also after the last one leaves", async () => {
      const none = await bus.request('nobody', 'Anything', {}).catch((e: unknown) => e);
      expect(none).toBeInstanceOf(AppError);
      expect(none).toMatchObject({ kind: 'unavailable', code: 'BUS.NO_RESPONDERS' });
      const server = await bus.serveCommands({
        category: 'brief',
        queue: 'w',
        handler: async (cmd) => (cmd.name === 'Ping' ? 'ok' : undefined),
      });
      expect(await bus.request('brief', 'Ping', {})).toBe('ok');
      expect(await bus.request('brief', 'Fire', {})).toBeUndefined();
      await server.close();
      const gone = await eventually(async () => {
        const e = await bus.request('brief', 'Ping', {}, { timeoutMs: 1000 }).catch((err: unknown) => err);
        return e instanceof AppError && e.kind === 'unavailable' ? e : undefined;
      });
      expect(gone.code).toBe('BUS.NO_RESPONDERS');
    });

    it('serves requests on subjects of its own, shared by a queue group, with headers and AppErrors', async () => {
      const handled = { a: 0, b: 0 };
      const serve = (who: 'a' | 'b') =>
        bus.serveSubject({
          subject: 'exec.server-1',
          queue: 'runners-server-1',
          handler: async (msg) => {
            handled[who]++;
            const { n } = msg.payload as { n: number };
            if (n < 0) throw new AppError('upstream', 'UPSTREAM.FAILED', 'negative', { n });
            return { n: n * 2, subject: msg.subject, trace: msg.headers['x-trace'] };
          },
        });
      const servers = [await serve('a'), await serve('b')];
      try {
        const replies = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            bus.requestSubject(
              'exec.server-1',
              { n: i },
              { headers: { 'x-trace': `t${i}` }, timeoutMs: 10_000 },
            ),
          ),
        );
        expect(replies).toEqual(
          Array.from({ length: 30 }, (_, i) => ({ n: i * 2, subject: 'exec.server-1', trace: `t${i}` })),
        );
        expect(handled.a + handled.b).toBe(30);
        expect(handled.a).toBeGreaterThan(0);
        expect(handled.b).toBeGreaterThan(0);
        const failed = await bus.requestSubject('exec.server-1', { n: -1 }).catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(AppError);
        expect(failed).toMatchObject({ kind: 'upstream', code: 'UPSTREAM.FAILED', details: { n: -1 } });
        // Another subject, even under the same prefix token, is not served.
        const none = await bus.requestSubject('exec.server-2', {}).catch((e: unknown) => e);
        expect(none).toMatchObject({ kind: 'unavailable', code: 'BUS.NO_RESPONDERS' });
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
      const gone = await eventually(async () => {
        const e = await bus
          .requestSubject('exec.server-1', {}, { timeoutMs: 1000 })
          .catch((err: unknown) => err);
        return e instanceof AppError && e.kind === 'unavailable' ? e : undefined;
      });
      expect(gone.code).toBe('BUS.NO_RESPONDERS');
    });

    it('fans published messages out to every subscriber, in order, with wildcards', async () => {
      const exact: unknown[] = [];
      const star: string[] = [];
      const rest: string[] = [];
      const queued: number[] = [];
      const subs = [
        await bus.subscribeSubject({
          subject: 'exec.call.c1.progress',
          handler: (m) => exact.push(m.payload),
        }),
        await bus.subscribeSubject({ subject: 'exec.call.*.progress', handler: (m) => star.push(m.subject) }),
        await bus.subscribeSubject({ subject: 'exec.call.c1.>', handler: (m) => rest.push(m.subject) }),
        await bus.subscribeSubject({
          subject: 'exec.call.c1.progress',
          queue: 'q',
          handler: () => queued.push(1),
        }),
        await bus.subscribeSubject({
          subject: 'exec.call.c1.progress',
          queue: 'q',
          handler: () => queued.push(2),
        }),
      ];
      try {
        for (let i = 0; i < 20; i++) {
          await bus.publishSubject('exec.call.c1.progress', { i }, { headers: { 'x-i': String(i) } });
        }
        await bus.publishSubject('exec.call.c1.log', { level: 'info' });
        await bus.publishSubject('exec.call.c2.progress', { other: true });
        await eventually(() => exact.length === 20 && rest.length === 21 && star.length === 21, {
          what: 'every copy',
        });
        await eventually(() => queued.length === 20, { what: 'one copy per queue group' });
        expect(exact).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
        expect(rest.at(-1)).toBe('exec.call.c1.log');
        expect(star.at(-1)).toBe('exec.call.c2.progress');
        await subs[0]!.close();
        await bus.publishSubject('exec.call.c1.progress', { i: 99 });
        await eventually(() => rest.length === 22, { what: 'the last message' });
        await sleepMs(100);
        expect(exact).toHaveLength(20);
      } finally {
        await Promise.all(subs.map((s) => s.close()));
      }
    });

    it('refuses subjects that could escape the prefix, and gives up on timeout or abort', async () => {
      for (const bad of ['', 'a..b', 'a.b c', 'a.>.b', '$JS.API', 'a.*']) {
        const e = await bus.requestSubject(bad, {}).catch((err: unknown) => err);
        expect(e, bad).toMatchObject({ kind: 'validation', code: 'BUS.BAD_SUBJECT' });
      }
      await expect(bus.serveSubject({ subject: 'a.>.b', handler: async () => 1 })).rejects.toMatchObject({
        code: 'BUS.BAD_SUBJECT',
      });
      const slow = await bus.serveSubject({
        subject: 'exec.slow',
        handler: async () => {
          await sleepMs(1500);
          return 'late';
        },
      });
      try {
        const started = Date.now();
        const timedOut = await bus
          .requestSubject('exec.slow', {}, { timeoutMs: 200 })
          .catch((e: unknown) => e);
        expect(timedOut).toMatchObject({ kind: 'timeout', code: 'BUS.TIMEOUT' });
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 100);
        const aborted = await bus
          .requestSubject('exec.slow', {}, { timeoutMs: 10_000, signal: controller.signal })
          .catch((e: unknown) => e);
        expect(aborted).toMatchObject({ kind: 'timeout', code: 'BUS.CANCELLED' });
        expect(Date.now() - started).toBeLessThan(1400);
      } finally {
        await slow.close();
      }
    });

    it("answers 'timeout' when the worker does not reply in time", async () => {
      const server = await bus.serveCommands({
        category: 'slow',
        queue: 'w',
        handler: async () => {
          await sleepMs(1500);
          return 'late';
        },
      });
      try {
        const started = Date.now();
        const e = await bus.request('slow', 'Work', {}, { timeoutMs: 200 }).catch((err: unknown) => err);
        expect(e).toBeInstanceOf(AppError);
        expect(e).toMatchObject({ kind: 'timeout', code: 'BUS.TIMEOUT' });
        expect(Date.now() - started).toBeLessThan(1400);
      } finally {
        await server.close();
      }
    });
  });
}

function uniqueConsumer(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
