import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { readSse, type SseMessage } from '../../cli/sse.ts';
import type { RecordedEventJson } from '../../kernel/envelope.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { type System, startSystem } from '../../runtime/compose.ts';
import { parseConfig } from '../../runtime/config.ts';
import { TEST_ADMIN_KEY } from '../../test/access.ts';
import { hasPostgres } from '../../test/services.ts';
import { client, distributedTestEnv, startMemorySystem } from '../../test/systems.ts';

/**
 * The live event feeds against a whole system: embedded (PGlite, in-process bus) and distributed
 * (real PostgreSQL, whose store wakes subscribers with LISTEN/NOTIFY, and NATS).
 */

interface Feed {
  status: number;
  /** The next event (skipping comments), or the final `end`. */
  next(): Promise<SseMessage>;
  close(): void;
}

async function openSse(
  system: System,
  query: string,
  options: { token?: string; lastEventId?: string } = {},
): Promise<Feed & { text: () => Promise<string> }> {
  const stop = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? TEST_ADMIN_KEY}` };
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
  const res = await fetch(`${system.url}/api/v1/events/stream${query}`, { headers, signal: stop.signal });
  if (res.status !== 200)
    return { status: res.status, next: fail, close: () => stop.abort(), text: () => res.text() };
  const messages = readSse(res.body!);
  return {
    status: res.status,
    async next() {
      const r = await messages.next();
      if (r.done) throw new Error('the stream ended without an end event');
      return r.value;
    },
    close: () => stop.abort(),
    text: () => Promise.resolve(''),
  };
}

async function fail(): Promise<never> {
  throw new Error('no stream');
}

async function openWs(system: System, query: string, token = TEST_ADMIN_KEY, inUrl = false) {
  const url = `${system.url!.replace(/^http/, 'ws')}/api/v1/events/ws${query}${
    inUrl ? `${query ? '&' : '?'}access_token=${encodeURIComponent(token)}` : ''
  }`;
  const socket = new WebSocket(url, inUrl ? {} : { headers: { authorization: `Bearer ${token}` } });
  const queue: unknown[] = [];
  const waiting: Array<(m: unknown) => void> = [];
  let closed: { code: number } | undefined;
  const closedP = new Promise<{ code: number }>((resolve) =>
    socket.once('close', (code) => {
      closed = { code };
      resolve(closed);
    }),
  );
  socket.on('message', (data) => {
    const m = JSON.parse(String(data));
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    socket.once('error', reject);
  });
  return {
    socket,
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift() as Record<string, unknown>)
        : new Promise<Record<string, unknown>>((resolve) => waiting.push(resolve as (m: unknown) => void)),
    closed: () => closedP,
    isClosed: () => closed !== undefined,
    close: () => socket.close(),
  };
}

const parse = (m: SseMessage) => JSON.parse(m.data) as RecordedEventJson;

/** A category of its own per test, so that tests of one system do not see each other's events. */
const freshCategory = () => `live${randomBytes(4).toString('hex')}`;

async function append(
  system: System,
  stream: string,
  tenant: string,
  type = 'Probed',
  n = 1,
): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  await system.store.append(
    stream,
    ids.map((id, i) => ({
      id,
      type,
      data: { i },
      metadata: { correlationId: id, causationId: id, actor: 'test', tenant, schemaVersion: 1 },
    })),
    'any',
  );
  return ids;
}

interface Kind {
  label: string;
  available: () => boolean;
  start(): Promise<{ system: System; drop(): Promise<void> }>;
}

const kinds: Kind[] = [
  {
    label: 'embedded',
    available: () => true,
    async start() {
      return {
        system: await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' }),
        drop: async () => {},
      };
    },
  },
  {
    label: 'postgres',
    available: hasPostgres,
    async start() {
      const env = await distributedTestEnv('live');
      const system = await startSystem(parseConfig({ ...env.env, SWITCHYARD_PORT: '0' }), silentLogger());
      return { system, drop: () => env.drop() };
    },
  },
];

for (const kind of kinds) {
  describe.skipIf(!kind.available())(`live events [${kind.label}]`, () => {
    let system: System;
    let drop: () => Promise<void>;
    const keys = { managerA: '', managerB: '' };

    beforeAll(async () => {
      ({ system, drop } = await kind.start());
      const admin = client(system);
      const ok = async (path: string, body: unknown) => {
        const r = await admin(path, { body });
        expect(r.status, `${path}: ${r.text}`).toBeLessThan(300);
        return r.json as Record<string, unknown>;
      };
      await ok('/api/v1/tenants', { id: 'team-b', name: 'Team B' });
      const a = await ok('/api/v1/principals', { name: 'manager-a', roles: ['manager'] });
      keys.managerA = (await ok('/api/v1/api-keys', { name: 'a', principalId: a.id })).key as string;
      const b = await ok('/api/v1/principals', { name: 'manager-b', roles: ['manager'], tenant: 'team-b' });
      keys.managerB = (await ok('/api/v1/api-keys', { name: 'b', principalId: b.id })).key as string;
    }, 120_000);
    afterAll(async () => {
      await system?.stop();
      await drop?.();
    });

    it('SSE: an event appended after the feed opened arrives on it, with its global position as id', async () => {
      const cat = freshCategory();
      const feed = await openSse(system, `?category=${cat}`);
      expect(feed.status).toBe(200);
      const [id] = await append(system, `${cat}-1`, 'default');
      const m = await feed.next();
      feed.close();
      const e = parse(m);
      expect(e.id).toBe(id);
      expect(m.event).toBe('message');
      expect(m.id).toBe(e.position);
      const [stored] = await system.store.readStream(`${cat}-1`);
      expect(e.position).toBe(stored!.position.toString());
    });

    it('SSE: resuming with Last-Event-ID gives exactly the events missed, none twice', async () => {
      const cat = freshCategory();
      const first = await append(system, `${cat}-1`, 'default', 'Probed', 3);
      const feed = await openSse(system, `?category=${cat}`);
      const seen = [parse(await feed.next()), parse(await feed.next())];
      feed.close();
      expect(seen.map((e) => e.id)).toEqual(first.slice(0, 2));
      const more = await append(system, `${cat}-2`, 'default', 'Probed', 2);
      // `after=0` in the URL as EventSource keeps it: the header wins.
      const resumed = await openSse(system, `?category=${cat}&after=0`, { lastEventId: seen[1]!.position });
      const got = [];
      for (let i = 0; i < 3; i++) got.push(parse(await resumed.next()).id);
      expect(got).toEqual([first[2], ...more]);
      const [marker] = await append(system, `${cat}-3`, 'default');
      expect(parse(await resumed.next()).id).toBe(marker);
      resumed.close();
      // `after` in the query resumes the same way.
      const byQuery = await openSse(system, `?category=${cat}&after=${seen[1]!.position}`);
      expect(parse(await byQuery.next()).id).toBe(first[2]);
      byQuery.close();
    });

    it('SSE: filters by type and by stream as /events does', async () => {
      const cat = freshCategory();
      await append(system, `${cat}-1`, 'default', 'Skipped');
      const [wanted] = await append(system, `${cat}-1`, 'default', 'Wanted');
      const [other] = await append(system, `${cat}-2`, 'default', 'Wanted');
      const byType = await openSse(system, `?category=${cat}&type=Wanted`);
      expect([parse(await byType.next()).id, parse(await byType.next()).id]).toEqual([wanted, other]);
      byType.close();
      const byStream = await openSse(system, `?stream=${cat}-2`);
      expect(parse(await byStream.next()).id).toBe(other);
      const [later] = await append(system, `${cat}-2`, 'default', 'Skipped');
      await append(system, `${cat}-1`, 'default', 'Wanted');
      const [last] = await append(system, `${cat}-2`, 'default', 'Wanted');
      expect([parse(await byStream.next()).id, parse(await byStream.next()).id]).toEqual([later, last]);
      byStream.close();
    });

    it('SSE: bad filters and cursors are refused as on /events, before anything streams', async () => {
      for (const [query, headers] of [
        ['?limit=5', {}],
        ['?stream=server-1&category=server', {}],
        ['?after=-1', {}],
        ['?after=99999999999999999999', {}],
        ['', { lastEventId: 'abc' }],
      ] as const) {
        const feed = await openSse(system, query, headers);
        expect(feed.status, query).toBe(400);
        expect(await feed.text()).toContain('"status":400');
      }
      expect((await client(system)('/api/v1/events?stream=server-1&category=server')).status).toBe(400);
    });

    it("SSE: another tenant's manager sees none of tenant A's events; A's manager none of B's", async () => {
      const cat = freshCategory();
      const ofB = await openSse(system, `?category=${cat}`, { token: keys.managerB });
      const ofA = await openSse(system, `?category=${cat}`, { token: keys.managerA });
      expect([ofA.status, ofB.status]).toEqual([200, 200]);
      await append(system, `${cat}-a`, 'default', 'Probed', 3);
      const [b] = await append(system, `${cat}-b`, 'team-b');
      const [a] = await append(system, `${cat}-a`, 'default');
      expect(parse(await ofB.next()).id).toBe(b);
      const seenByA = [];
      for (let i = 0; i < 4; i++) seenByA.push(parse(await ofA.next()));
      expect(seenByA.at(-1)!.id).toBe(a);
      expect(seenByA.every((e) => e.metadata.tenant === 'default')).toBe(true);
      ofA.close();
      ofB.close();
      // A reader may not read the log at all (events.read needs mcp:manage).
      expect((await openSse(system, '', { token: '' })).status).toBe(401);
    });

    it('SSE: a secret given at registration is not in the feed', async () => {
      const feed = await openSse(system, '?category=server&type=ServerRegistered', { token: keys.managerA });
      const secret = `sk-live-${randomBytes(12).toString('hex')}`;
      const r = await client(system, keys.managerA)('/api/v1/servers', {
        body: {
          name: `secretive-${randomBytes(3).toString('hex')}`,
          transport: {
            type: 'streamable-http',
            url: 'http://127.0.0.1:9/mcp',
            headers: { 'x-api-key': secret },
          },
        },
      });
      expect(r.status, r.text).toBe(202);
      const m = await feed.next();
      feed.close();
      expect(parse(m).stream).toBe(r.json.stream);
      expect(m.data).not.toContain(secret);
    });

    it('WebSocket: live, resumable with after, scoped to the tenant, with the token in the query for browsers', async () => {
      const cat = freshCategory();
      const ws = await openWs(system, `?category=${cat}`, keys.managerA);
      const [x] = await append(system, `${cat}-1`, 'team-b');
      const [y, z] = await append(system, `${cat}-1`, 'default', 'Probed', 2);
      const m1 = await ws.next();
      expect(m1).toMatchObject({ kind: 'event', event: { id: y } });
      expect((await ws.next()).event).toMatchObject({ id: z });
      ws.close();
      await ws.closed();
      void x;
      const resumed = await openWs(system, `?category=${cat}&after=${m1.id}`, keys.managerA, true);
      expect((await resumed.next()).event).toMatchObject({ id: z });
      const [w] = await append(system, `${cat}-2`, 'default');
      expect((await resumed.next()).event).toMatchObject({ id: w });
      resumed.close();
      await expect(openWs(system, `?category=${cat}`, 'sy_nope')).rejects.toThrow(/401/);
      // A plain GET (no upgrade) is told to upgrade.
      expect((await client(system)('/api/v1/events/ws')).status).toBe(426);
    });

    it('stopping the gateway ends open feeds with a final end event, and stop does not hang', async () => {
      const cat = freshCategory();
      const sse = await openSse(system, `?category=${cat}`);
      const ws = await openWs(system, `?category=${cat}`);
      const [id] = await append(system, `${cat}-1`, 'default');
      const seen = parse(await sse.next());
      expect(seen.id).toBe(id);
      expect((await ws.next()).event).toMatchObject({ id });
      await system.stop();
      const end = await sse.next();
      expect(end.event).toBe('end');
      expect(JSON.parse(end.data)).toEqual({ reason: 'shutdown', lastEventId: seen.position });
      expect(await ws.next()).toEqual({ kind: 'end', reason: 'shutdown', lastEventId: seen.position });
      expect((await ws.closed()).code).toBe(1001);
    });
  });
}
