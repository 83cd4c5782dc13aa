import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectionStream, registerOperationEvents } from '../domains/operations/index.ts';
import { systemClock } from '../kernel/clock.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import type { NewEvent } from '../kernel/envelope.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../test/databases.ts';
import type { Projection } from './projection.ts';
import { makeProjectionQuarantine } from './quarantine.ts';
import { createProjectionRunner, type ProjectionRunner } from './runner.ts';
import { tableContents } from './tables.ts';

function newEvent(type: string): NewEvent {
  return {
    id: randomUUID(),
    type,
    data: {},
    metadata: { correlationId: 'c', causationId: randomUUID(), actor: 'test', schemaVersion: 1 },
  };
}

/** One row per event applied; an event of type `Poison` can never be applied. */
function ledger(name: string): Projection {
  return {
    name,
    version: 1,
    filter: { categories: [name] },
    tables: [name],
    async apply(trx, event, tables) {
      if (event.type === 'Poison') throw new Error('cannot digest this event');
      await sql`INSERT INTO ${sql.id(tables[name]!)} (event_id, position) VALUES (${event.id}, ${event.position.toString()})`.execute(
        trx,
      );
    },
  };
}

async function until(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let seq = 0;
const meta = (actor = 'user:operator'): CommandMeta => ({
  commandId: randomUUID(),
  actor,
  tenant: 'default',
  correlationId: `quarantine-${++seq}`,
  issuedAt: new Date(),
});

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'projection quarantine');
  describe.skipIf(!kind.available())(`projection quarantine [${kind.label}]`, () => {
    let t: TestDatabase;
    const runners: ProjectionRunner[] = [];
    const registry = registerOperationEvents(new EventTypeRegistry());

    function setup(name: string) {
      const projection = ledger(name);
      const runner = () => {
        const r = createProjectionRunner({
          store: t.store,
          db: t.db,
          projections: [projection],
          maxAttempts: 2,
          retryDelayMs: 5,
        });
        runners.push(r);
        return r;
      };
      const quarantine = makeProjectionQuarantine({
        store: t.store,
        db: t.db,
        registry,
        clock: systemClock,
        projections: [projection],
      });
      const append = async (stream: string, types: string[]) => {
        const events = types.map(newEvent);
        const r = await t.store.append(`${name}-${stream}`, events, 'any');
        return { events, position: r.position };
      };
      const rows = async () => (await tableContents(t.db, name, 'position')).length;
      const decisions = () => t.store.readStream(projectionStream(name));
      return { projection, runner, quarantine, append, rows, decisions };
    }

    beforeAll(async () => {
      t = await kind.open();
    });
    afterAll(async () => {
      for (const r of runners) await r.stop();
      await t?.close();
    });

    async function createLedger(name: string): Promise<void> {
      await sql`CREATE TABLE ${sql.id(name)} (event_id uuid PRIMARY KEY, position bigint NOT NULL)`.execute(
        t.db,
      );
    }

    it('a projection stops on an event it cannot apply; quarantining it resumes it, and a rebuild skips it', async () => {
      const name = 'qledger';
      await createLedger(name);
      const s = setup(name);
      const runner = s.runner();
      await runner.start();
      await s.append('1', ['Entry', 'Entry']);
      const { events } = await s.append('1', ['Poison']);
      const poison = events[0]!;
      await s.append('1', ['Entry']);

      await until(async () => (await runner.statusOf(name)).state === 'failed');
      const failed = await runner.statusOf(name);
      expect(failed).toMatchObject({ failedEvent: { id: poison.id }, quarantined: { count: 0, events: [] } });
      expect(failed.lastError).toMatch(/cannot digest this event/);
      expect(await s.rows()).toBe(2);

      const decided = await s.quarantine.quarantine(
        name,
        { eventId: poison.id, reason: 'malformed by the March import' },
        meta('user:alice'),
      );
      expect(decided.events).toHaveLength(1);

      // The decision is in the log: who, why, where the event is and what the projection failed with.
      const [recorded] = await s.decisions();
      expect(recorded).toMatchObject({
        type: 'ProjectionEventQuarantined',
        metadata: { actor: 'user:alice' },
        data: {
          projection: name,
          eventId: poison.id,
          eventType: 'Poison',
          stream: `${name}-1`,
          reason: 'malformed by the March import',
        },
      });
      expect((recorded!.data as { error: string }).error).toMatch(/cannot digest this event/);

      // No restart: the runner resumes by itself, skipping exactly that event.
      await until(async () => (await runner.statusOf(name)).state === 'live');
      const later = await s.append('1', ['Entry']);
      expect(await runner.waitForPosition(name, later.position, 15_000)).toBe(true);
      const live = await runner.statusOf(name);
      expect(live).toMatchObject({
        state: 'live',
        lastError: null,
        failedEvent: null,
        quarantined: {
          count: 1,
          events: [{ eventId: poison.id, actor: 'user:alice', reason: 'malformed by the March import' }],
        },
      });
      expect(await s.rows()).toBe(4);
      const liveRows = await tableContents(t.db, name, 'position');

      const rebuilt = await runner.rebuild(name);
      expect(rebuilt).toMatchObject({ events: 4, quarantined: 1, checkpoint: live.checkpoint });
      expect(await tableContents(t.db, name, 'position')).toEqual(liveRows);

      // Quarantining it again records nothing more.
      const again = await s.quarantine.quarantine(name, { eventId: poison.id, reason: 'again' }, meta());
      expect(again.events).toEqual([]);
      expect(await s.decisions()).toHaveLength(1);
    });

    it('an event not quarantined still stops the projection', async () => {
      const name = 'qsecond';
      await createLedger(name);
      const s = setup(name);
      const runner = s.runner();
      await runner.start();
      const first = (await s.append('1', ['Entry', 'Poison'])).events[1]!;
      await until(async () => (await runner.statusOf(name)).state === 'failed');
      await s.quarantine.quarantine(name, { eventId: first.id, reason: 'known bad' }, meta());
      await until(async () => (await runner.statusOf(name)).state === 'live');

      const second = (await s.append('1', ['Entry', 'Poison', 'Entry'])).events[1]!;
      await until(async () => (await runner.statusOf(name)).state === 'failed');
      expect(await runner.statusOf(name)).toMatchObject({
        failedEvent: { id: second.id },
        quarantined: { count: 1, events: [{ eventId: first.id }] },
      });
      expect(await s.rows()).toBe(2);
    });

    it('every runner on the database honours a decision taken elsewhere, live and in a rebuild', async () => {
      const name = 'qshared';
      await createLedger(name);
      const s = setup(name);
      const a = s.runner();
      const b = s.runner();
      await Promise.all([a.start(), b.start()]);
      await s.append('1', ['Entry']);
      const poison = (await s.append('1', ['Poison'])).events[0]!;
      const after = await s.append('2', ['Entry', 'Entry']);
      await until(async () => (await a.statusOf(name)).state === 'failed');
      await until(async () => (await b.statusOf(name)).state === 'failed');

      // Decided by neither runner (another gateway): both resume.
      await s.quarantine.quarantine(name, { eventId: poison.id, reason: 'skip it' }, meta());
      expect(await a.waitForPosition(name, after.position, 15_000)).toBe(true);
      await until(async () => (await a.statusOf(name)).state === 'live');
      await until(async () => (await b.statusOf(name)).state === 'live');
      expect(await s.rows()).toBe(3);

      // A runner created afterwards (another process) rebuilds without the event.
      const c = s.runner();
      const rebuilt = await c.rebuild(name);
      expect(rebuilt).toMatchObject({ events: 3, quarantined: 1 });
      expect(await s.rows()).toBe(3);
      expect((await c.statusOf(name)).quarantined.count).toBe(1);
    });

    it('a rebuild names the event it cannot apply; quarantined beforehand, the rebuild goes through', async () => {
      const name = 'qrebuild';
      await createLedger(name);
      const s = setup(name);
      await s.append('1', ['Entry']);
      const poison = (await s.append('1', ['Poison'])).events[0]!;
      await s.append('1', ['Entry']);
      // Never run live: the rebuild is the first to meet the event.
      const runner = s.runner();
      const error = await runner.rebuild(name).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'PROJECTION.REBUILD_FAILED', details: { eventId: poison.id } });
      expect(String((error as Error).message)).toMatch(/cannot digest this event/);

      // Not the event a live loop failed on: found in the log, recorded without an error.
      await s.quarantine.quarantine(name, { eventId: poison.id, reason: 'before the rebuild' }, meta());
      expect((await s.decisions())[0]?.data).toMatchObject({ eventId: poison.id, error: null });
      expect(await runner.rebuild(name)).toMatchObject({ events: 2, quarantined: 1 });
      expect(await s.rows()).toBe(2);

      // Released, the next rebuild meets it again.
      await s.quarantine.release(name, { eventId: poison.id, reason: 'fixed in apply' }, meta());
      expect((await runner.statusOf(name)).quarantined.count).toBe(0);
      await expect(runner.rebuild(name)).rejects.toMatchObject({ code: 'PROJECTION.REBUILD_FAILED' });
    });

    it('refuses an unknown projection, an event not in the log and one the projection does not read', async () => {
      const name = 'qrefuse';
      await createLedger(name);
      const s = setup(name);
      const elsewhere = newEvent('Entry');
      await t.store.append(`unrelated-${randomUUID()}`, [elsewhere], 'no-stream');
      await expect(
        s.quarantine.quarantine('nope', { eventId: randomUUID(), reason: 'x' }, meta()),
      ).rejects.toMatchObject({ code: 'PROJECTION.NOT_FOUND', kind: 'not_found' });
      await expect(
        s.quarantine.quarantine(name, { eventId: randomUUID(), reason: 'x' }, meta()),
      ).rejects.toMatchObject({ code: 'PROJECTION.EVENT_NOT_FOUND', kind: 'not_found' });
      await expect(
        s.quarantine.quarantine(name, { eventId: elsewhere.id, reason: 'x' }, meta()),
      ).rejects.toMatchObject({ code: 'PROJECTION.EVENT_NOT_FOUND' });
      await expect(
        s.quarantine.release(name, { eventId: elsewhere.id, reason: 'x' }, meta()),
      ).rejects.toMatchObject({ code: 'PROJECTION.NOT_QUARANTINED' });
      expect(await s.decisions()).toEqual([]);
    });
  });
}
