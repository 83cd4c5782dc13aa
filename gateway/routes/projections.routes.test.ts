import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { until } from '../../test/e2e/program.ts';
import { client, startMemorySystem } from '../../test/systems.ts';

interface Status {
  name: string;
  state: string;
  failedEvent: { id: string; position: string } | null;
  quarantined: { count: number; events: Array<{ eventId: string; actor: string; reason: string }> };
}

/**
 * Quarantine over REST on a whole system: the health projection meets an event its schema refuses
 * (written straight to the log, as a bad import or an old bug would have), stops, and an
 * administrator's recorded decision lets it through.
 */
describe('POST /api/v1/projections/:name/quarantine', () => {
  let system: System;
  let managerKey: string;
  let poisonId: string;
  const admin = () => client(system);
  const health = async () => {
    const r = await admin()('/api/v1/projections');
    return (r.json.projections as Status[]).find((p) => p.name === 'health')!;
  };
  const decisions = () => system.store.readStream('projection-health');

  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    const p = await admin()('/api/v1/principals', { body: { name: 'manager', roles: ['manager'] } });
    const k = await admin()('/api/v1/api-keys', { body: { name: 'manager', principalId: p.json.id } });
    managerKey = k.json.key as string;
    poisonId = randomUUID();
    await system.store.append(
      `health-${randomUUID()}`,
      [
        {
          id: poisonId,
          type: 'ServerHealthChanged',
          data: { status: 'not a health report' },
          metadata: { correlationId: 'import', causationId: randomUUID(), actor: 'test', schemaVersion: 1 },
        },
      ],
      'no-stream',
    );
    await until(async () => ((await health()).state === 'failed' ? true : undefined), 30_000);
  }, 60_000);
  afterAll(() => system?.stop());

  it('reports the event the projection stopped on', async () => {
    expect(await health()).toMatchObject({
      state: 'failed',
      failedEvent: { id: poisonId },
      quarantined: { count: 0 },
    });
  });

  it('refuses a bad body with 400, a non-administrator with 403, and appends nothing', async () => {
    const bad = [
      {},
      { eventId: poisonId },
      { eventId: poisonId, reason: '' },
      { eventId: poisonId, reason: 'x'.repeat(501) },
      { eventId: 'not-a-uuid', reason: 'why' },
      { eventId: poisonId, reason: 'why', actor: 'someone else' },
    ];
    for (const body of bad) {
      const r = await admin()('/api/v1/projections/health/quarantine', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    const denied = await client(system, managerKey)('/api/v1/projections/health/quarantine', {
      body: { eventId: poisonId, reason: 'why' },
    });
    expect(denied.status).toBe(403);
    expect(await decisions()).toEqual([]);
    expect((await health()).state).toBe('failed');
  });

  it('answers 404 for an unknown projection or an event it does not read', async () => {
    const unknown = await admin()('/api/v1/projections/nope/quarantine', {
      body: { eventId: poisonId, reason: 'why' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('PROJECTION.NOT_FOUND');
    const notRead = await admin()('/api/v1/projections/servers/quarantine', {
      body: { eventId: poisonId, reason: 'why' },
    });
    expect(notRead.status).toBe(404);
    expect(notRead.json.code).toBe('PROJECTION.EVENT_NOT_FOUND');
    expect(await decisions()).toEqual([]);
  });

  it('an administrator quarantines it (on record) and the projection is live again, without a restart', async () => {
    const me = await admin()('/api/v1/me');
    const r = await admin()('/api/v1/projections/health/quarantine', {
      body: { eventId: poisonId, reason: 'a health report from the broken 1.2 runner' },
    });
    expect(r.status, r.text).toBe(202);
    expect(r.json).toMatchObject({ id: poisonId, stream: 'projection-health', duplicate: false });
    expect(r.json.position).toMatch(/^\d+$/);
    const [decision] = await decisions();
    expect(decision).toMatchObject({
      type: 'ProjectionEventQuarantined',
      position: BigInt(r.json.position as string),
      metadata: { actor: me.json.id as string },
      data: { eventId: poisonId, reason: 'a health report from the broken 1.2 runner' },
    });

    await until(async () => ((await health()).state === 'live' ? true : undefined), 30_000);
    expect(await health()).toMatchObject({
      failedEvent: null,
      quarantined: {
        count: 1,
        events: [{ eventId: poisonId, reason: 'a health report from the broken 1.2 runner' }],
      },
    });
    const rebuilt = await admin()('/api/v1/projections/health/rebuild', { method: 'POST' });
    expect(rebuilt.status, rebuilt.text).toBe(200);
    expect(rebuilt.json).toMatchObject({ name: 'health', quarantined: 1 });
  });
});
