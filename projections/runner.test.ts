import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerServerEvents } from '../domains/servers/index.ts';
import { fixedClock } from '../kernel/clock.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import type { NewEvent } from '../kernel/envelope.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import { createSecretBox } from '../kernel/secrets.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../test/databases.ts';
import { serverCommandsAtTheEdge } from '../test/server-commands.ts';
import { advanceCheckpoint, CheckpointMovedError, ensureCheckpoint, readCheckpoint } from './checkpoints.ts';
import type { Projection } from './projection.ts';
import { createProjectionRunner, type ProjectionRunner } from './runner.ts';
import { serversProjection } from './servers/server.projection.ts';
import { listServers } from './servers/servers.queries.ts';
import { tableContents } from './tables.ts';

function newEvent(type: string, data: unknown = {}): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: { correlationId: 'c', causationId: randomUUID(), actor: 'test', schemaVersion: 1 },
  };
}

/**
 * A deliberately non-idempotent projection: each event inserts a row under a unique key, so an
 * event applied twice is a constraint violation, not a silent duplicate.
 */
function ledgerProjection(name: string, options: { poison?: () => boolean } = {}): Projection {
  return {
    name,
    version: 1,
    filter: { categories: [name] },
    tables: [name],
    async apply(trx, event, tables) {
      if (event.type === 'Poison' && options.poison?.()) throw new Error('cannot digest this event');
      await sql`INSERT INTO ${sql.id(tables[name]!)} (event_id, position) VALUES (${event.id}, ${event.position.toString()})`.execute(
        trx,
      );
    },
  };
}

async function createLedger(t: TestDatabase, name: string): Promise<void> {
  await sql`CREATE TABLE ${sql.id(name)} (event_id uuid PRIMARY KEY, position bigint NOT NULL)`.execute(t.db);
}

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'projection runner');
  describe.skipIf(!kind.available())(`projection runner [${kind.label}]`, () => {
    let t: TestDatabase;
    const runners: ProjectionRunner[] = [];
    const runnerFor = (options: Omit<Parameters<typeof createProjectionRunner>[0], 'store' | 'db'>) => {
      const r = createProjectionRunner({ store: t.store, db: t.db, retryDelayMs: 5, ...options });
      runners.push(r);
      return r;
    };

    beforeAll(async () => {
      t = await kind.open();
    });
    afterAll(async () => {
      for (const r of runners) await r.stop();
      await t?.close();
    });

    it('the checkpoint moves only by compare-and-set, never backwards', async () => {
      await ensureCheckpoint(t.db, 'cas', 1, new Date());
      await t.db.transaction().execute((trx) => advanceCheckpoint(trx, 'cas', 0n, 10n, new Date()));
      // A runner that still believes the checkpoint is at 0 loses, and its batch rolls back with it.
      await createLedger(t, 'cas_side_effects');
      await expect(
        t.db.transaction().execute(async (trx) => {
          await sql`INSERT INTO cas_side_effects VALUES (${randomUUID()}, 1)`.execute(trx);
          await advanceCheckpoint(trx, 'cas', 0n, 5n, new Date());
        }),
      ).rejects.toBeInstanceOf(CheckpointMovedError);
      await expect(
        t.db.transaction().execute((trx) => advanceCheckpoint(trx, 'cas', 10n, 5n, new Date())),
      ).rejects.toThrow(/back/);
      expect((await readCheckpoint(t.db, 'cas'))?.position).toBe(10n);
      expect(await tableContents(t.db, 'cas_side_effects', 'event_id')).toEqual([]);
    });

    it('two runners on one database apply every event exactly once', async () => {
      const name = 'ledger';
      await createLedger(t, name);
      const a = runnerFor({ projections: [ledgerProjection(name)], batchSize: 7 });
      const b = runnerFor({ projections: [ledgerProjection(name)], batchSize: 3 });
      await Promise.all([a.start(), b.start()]);
      let head = 0n;
      for (let i = 0; i < 10; i++) {
        const r = await t.store.append(
          `${name}-${i}`,
          Array.from({ length: 10 }, () => newEvent('Entry')),
          'no-stream',
        );
        head = r.position;
      }
      expect(await a.waitForPosition(name, head, 15_000)).toBe(true);
      expect(await b.waitForPosition(name, head, 15_000)).toBe(true);
      const rows = (await tableContents(t.db, name, 'position')) as Array<{ position: string }>;
      expect(rows).toHaveLength(100);
      for (const s of [...(await a.status()), ...(await b.status())]) {
        expect(s).toMatchObject({ state: 'live', lastError: null, checkpoint: head.toString() });
      }
    });

    it('a poisoned event fails the projection after a few attempts, naming the event; retry resumes', async () => {
      const name = 'poisoned';
      await createLedger(t, name);
      let poisoned = true;
      const runner = runnerFor({
        projections: [ledgerProjection(name, { poison: () => poisoned })],
        maxAttempts: 3,
      });
      await runner.start();
      const good = await t.store.append(`${name}-1`, [newEvent('Entry'), newEvent('Entry')], 'no-stream');
      const poison = newEvent('Poison');
      await t.store.append(`${name}-1`, [poison], 1n);
      const after = await t.store.append(`${name}-1`, [newEvent('Entry')], 2n);

      await until(async () => (await runner.statusOf(name)).state === 'failed');
      const failed = await runner.statusOf(name);
      expect(failed).toMatchObject({
        checkpoint: good.position.toString(),
        failedEvent: { id: poison.id },
        lagEvents: 2,
      });
      expect(failed.lastError).toMatch(/cannot digest this event/);
      expect(await tableContents(t.db, name, 'position')).toHaveLength(2);
      expect(await runner.waitForPosition(name, after.position, 200)).toBe(false);

      poisoned = false;
      await runner.retry(name);
      expect(await runner.waitForPosition(name, after.position, 10_000)).toBe(true);
      expect(await runner.statusOf(name)).toMatchObject({
        state: 'live',
        lastError: null,
        failedEvent: null,
      });
      expect(await tableContents(t.db, name, 'position')).toHaveLength(4);
    });

    it('a failed projection keeps trying its event and goes live by itself once the cause is gone', async () => {
      const name = 'poisoned_then_fixed';
      await createLedger(t, name);
      let poisoned = true;
      const runner = runnerFor({
        projections: [ledgerProjection(name, { poison: () => poisoned })],
        maxAttempts: 2,
      });
      await runner.start();
      const poison = newEvent('Poison');
      await t.store.append(`${name}-1`, [newEvent('Entry'), poison], 'no-stream');
      const after = await t.store.append(`${name}-1`, [newEvent('Entry')], 1n);
      await until(async () => (await runner.statusOf(name)).state === 'failed');
      expect(await runner.statusOf(name)).toMatchObject({
        failedEvent: { id: poison.id },
        runningHere: true,
      });
      // A deploy fixed the cause: no operator step, the loop's next attempt applies it.
      poisoned = false;
      expect(await runner.waitForPosition(name, after.position, 15_000)).toBe(true);
      expect(await runner.statusOf(name)).toMatchObject({
        state: 'live',
        lastError: null,
        failedEvent: null,
      });
      expect(await tableContents(t.db, name, 'position')).toHaveLength(3);
    });

    it('waits for a position with no event of its own, and times out on one not yet written', async () => {
      const name = 'waiting';
      await createLedger(t, name);
      const runner = runnerFor({ projections: [ledgerProjection(name)] });
      await runner.start();
      await t.store.append(`${name}-1`, [newEvent('Entry')], 'no-stream');
      const elsewhere = await t.store.append(`unrelated-${randomUUID()}`, [newEvent('Other')], 'no-stream');
      expect(await runner.waitForPosition(name, elsewhere.position, 10_000)).toBe(true);
      const t0 = Date.now();
      expect(await runner.waitForPosition(name, elsewhere.position * 2n, 300)).toBe(false);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      await expect(runner.waitForPosition('nope', 1n, 10)).rejects.toMatchObject({
        code: 'PROJECTION.NOT_FOUND',
      });
    });

    it('reports lag in events and time while behind', async () => {
      const name = 'lagging';
      await createLedger(t, name);
      const clock = fixedClock(new Date(Date.now() + 60_000));
      const runner = runnerFor({ projections: [ledgerProjection(name)], clock });
      const written = await t.store.append(
        `${name}-1`,
        [newEvent('Entry'), newEvent('Entry'), newEvent('Entry')],
        'no-stream',
      );
      await until(async () => (await t.store.countAfter(0n, { categories: [name] })) === 3);
      const status = await runner.statusOf(name);
      expect(status).toMatchObject({
        state: 'catching-up',
        checkpoint: '0',
        lagEvents: 3,
        runningHere: false,
      });
      expect(status.lagMs).toBeGreaterThanOrEqual(59_000);
      await runner.start();
      expect(await runner.waitForPosition(name, written.position, 10_000)).toBe(true);
      expect(await runner.statusOf(name)).toMatchObject({
        state: 'live',
        lagEvents: 0,
        lagMs: 0,
        runningHere: true,
      });
    });
  });

  warnIfSkipped(kind, 'servers rebuild');
  describe.skipIf(!kind.available())(`servers rebuild [${kind.label}]`, () => {
    let t: TestDatabase;
    let runner: ProjectionRunner;
    const clock = fixedClock('2026-05-01T00:00:00.000Z');
    const tick = (ms: number) => {
      clock.advance(ms);
      return clock.now();
    };
    const registry = registerServerEvents(new EventTypeRegistry());
    let servers: ReturnType<typeof serverCommandsAtTheEdge>;
    let seq = 0;
    const meta = (tenant?: string): CommandMeta => ({
      commandId: `cmd-${++seq}`,
      actor: tenant ? `user:${tenant}` : 'user:test',
      tenant,
      correlationId: 'rebuild',
      issuedAt: tick(1),
    });

    async function indexNames(): Promise<string[]> {
      const { rows } = await sql<{ indexname: string }>`
        SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'servers' ORDER BY 1`.execute(
        t.db,
      );
      return rows.map((r) => r.indexname);
    }

    /**
     * Registers and reshapes `count` servers: about 3 server events each. Returns the position of
     * the last write (the store's head may lag an append by a moment, so it is no measure of it).
     */
    async function writeServers(prefix: string, count: number): Promise<bigint> {
      let last = 0n;
      const track = <R extends { position: bigint | undefined }>(r: R): R => {
        if (r.position !== undefined && r.position > last) last = r.position;
        return r;
      };
      const secrets = createSecretBox(randomBytes(32));
      servers ??= serverCommandsAtTheEdge({ store: t.store, registry, secrets, clock });
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const r = track(
          await servers.register(
            {
              name: `${prefix}-${i}`,
              transport: { type: 'stdio', command: 'srv', env: { TOKEN: `secret-${i}` } },
              tags: [i % 2 ? 'odd' : 'even'],
            },
            // Tenants and owners vary, so the comparison below covers them.
            meta([undefined, 'team-a', 'team-b'][i % 3]),
          ),
        );
        ids.push(r.serverId);
      }
      for (const [i, id] of ids.entries()) {
        track(await servers.update(id, { description: `server ${i}`, tags: ['updated'] }, meta()));
        if (i % 2 === 0) track(await servers.disable(id, meta()));
        if (i % 4 === 0) track(await servers.enable(id, meta()));
        if (i % 5 === 0) track(await servers.remove(id, meta()));
      }
      return last;
    }

    beforeAll(async () => {
      t = await kind.open();
      runner = createProjectionRunner({
        store: t.store,
        db: t.db,
        projections: [serversProjection],
        registry,
        clock,
      });
      await runner.start();
    });
    afterAll(async () => {
      await runner?.stop();
      await t?.close();
    });

    it('rebuilds from the store alone into equal tables and the same checkpoint, readable throughout', async () => {
      const last = await writeServers('srv', 110);
      expect(await runner.waitForPosition('servers', last, 30_000)).toBe(true);
      const projected = await t.store.countAfter(0n, serversProjection.filter);
      expect(projected).toBeGreaterThanOrEqual(300);
      const live = await tableContents(t.db, 'servers', 'id');
      const liveCheckpoint = (await runner.statusOf('servers')).checkpoint;
      const indexesBefore = await indexNames();
      expect(live).toHaveLength(110);
      const owners = (live as Array<{ tenant: string; owner: string }>).map((r) => `${r.tenant}/${r.owner}`);
      expect(new Set(owners)).toEqual(
        new Set(['default/user:test', 'team-a/user:team-a', 'team-b/user:team-b']),
      );

      // Reads keep answering while the rebuild runs.
      let reading = true;
      let reads = 0;
      const reader = (async () => {
        while (reading) {
          const page = await listServers(t.db, { includeRemoved: true, limit: 500 });
          expect(page.items).toHaveLength(110);
          reads++;
        }
      })();
      const result = await runner.rebuild('servers');
      reading = false;
      await reader;
      expect(reads).toBeGreaterThan(0);

      expect(result).toMatchObject({ name: 'servers', events: projected, checkpoint: liveCheckpoint });
      expect(await tableContents(t.db, 'servers', 'id')).toEqual(live);
      expect((await runner.statusOf('servers')).checkpoint).toBe(liveCheckpoint);
      expect(await indexNames()).toEqual(indexesBefore);
      const { rows: leftovers } =
        await sql`SELECT tablename FROM pg_tables WHERE tablename LIKE 'servers__rebuild%'`.execute(t.db);
      expect(leftovers).toEqual([]);
      expect(JSON.stringify(live)).not.toContain('secret-1');
    });

    it('events written during a rebuild reach the swapped-in tables', async () => {
      const rebuilding = runner.rebuild('servers');
      const last = await writeServers('during', 12);
      await rebuilding;
      expect(await runner.waitForPosition('servers', last, 30_000)).toBe(true);
      const afterLive = await tableContents(t.db, 'servers', 'id');
      expect(afterLive).toHaveLength(122);
      // The live loop resumed after the swap; a second rebuild agrees with what it produced.
      await runner.rebuild('servers');
      expect(await tableContents(t.db, 'servers', 'id')).toEqual(afterLive);
      const both = await Promise.allSettled([runner.rebuild('servers'), runner.rebuild('servers')]);
      expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(both.find((r) => r.status === 'rejected')).toMatchObject({
        reason: { code: 'PROJECTION.REBUILD_IN_PROGRESS', kind: 'conflict' },
      });
    });

    it('a new projection version rebuilds on start', async () => {
      await runner.stop();
      const v2: Projection = {
        ...serversProjection,
        version: 2,
        // This version changes what apply does; its batch form would not know.
        applyBatch: undefined,
        async apply(trx, event, tables) {
          await serversProjection.apply(trx, event, tables);
          // What a new version might add: here, descriptions in upper case.
          await sql`UPDATE ${sql.id(tables.servers!)} SET description = upper(description)`.execute(trx);
        },
      };
      runner = createProjectionRunner({ store: t.store, db: t.db, projections: [v2], registry, clock });
      await runner.start();
      await until(async () => (await readCheckpoint(t.db, 'servers'))?.version === 2, 30_000);
      const { rows } = await sql<{
        n: string;
      }>`SELECT count(*) AS n FROM servers WHERE description LIKE 'SERVER %'`.execute(t.db);
      expect(Number(rows[0]?.n)).toBe(122);
      await until(async () => (await runner.statusOf('servers')).state === 'live', 30_000);
    });
  });
}
