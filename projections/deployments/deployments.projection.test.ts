import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, registerDeploymentEvents } from '../../domains/deployments/index.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { liveTableNames } from '../projection.ts';
import { createProjectionRunner, type ProjectionRunner } from '../runner.ts';
import { tableContents } from '../tables.ts';
import { deploymentsProjection } from './deployments.projection.ts';
import { getDeployment, listDeployments } from './deployments.queries.ts';

const at = (minute: number, second = 0) => new Date(Date.UTC(2026, 11, 7, 10, minute, second)).toISOString();

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'deployments read model');
  describe.skipIf(!kind.available())(`deployments read model [${kind.label}]`, () => {
    let t: TestDatabase;
    let runner: ProjectionRunner;
    const registry = registerDeploymentEvents(new EventTypeRegistry());
    let last = 0n;

    async function append(stream: string, events: Array<[string, unknown]>): Promise<void> {
      const r = await t.store.append(
        stream,
        events.map(([type, data]) => ({
          id: randomUUID(),
          type,
          data: registry.validate(type, data),
          metadata: {
            correlationId: randomUUID(),
            causationId: randomUUID(),
            actor: 'alice',
            schemaVersion: 1,
          },
        })),
        'any',
      );
      if (r.position > last) last = r.position;
    }

    const requested = (id: string, server: string, minute: number, tenant: string) =>
      [
        'DeploymentRequested',
        {
          deploymentId: id,
          serverName: server,
          source: { kind: 'directory', path: `apps/${server}` },
          run: null,
          replicas: 2,
          health: {
            expectedTools: ['add'],
            smoke: { tool: 'add', arguments: { a: 1, b: 2, apiToken: 'sk-live-123' } },
          },
          timeouts: DEFAULT_TIMEOUTS,
          tenant,
          owner: 'alice',
          requestedAt: at(minute),
        },
      ] as [string, unknown];
    const started = (id: string, step: string, minute: number, second: number) =>
      [
        'DeploymentStepStarted',
        { deploymentId: id, step, deadline: at(minute + 5, second), at: at(minute, second) },
      ] as [string, unknown];
    const completed = (id: string, step: string, minute: number, second: number, result = {}) =>
      [
        'DeploymentStepCompleted',
        { deploymentId: id, step, durationMs: 1000, log: `${step} ok`, result, at: at(minute, second + 1) },
      ] as [string, unknown];

    const ids = {
      ok: randomUUID(),
      failed: randomUUID(),
      running: randomUUID(),
      other: randomUUID(),
      queued: randomUUID(),
      dequeued: randomUUID(),
    };
    const serverId = randomUUID();

    beforeAll(async () => {
      t = await kind.open();
      runner = createProjectionRunner({
        store: t.store,
        db: t.db,
        projections: [deploymentsProjection],
        registry,
      });
      await runner.start();
      // Succeeded: every step, then the end.
      await append(`deployment-${ids.ok}`, [
        requested(ids.ok, 'calc', 1, 'team-a'),
        started(ids.ok, 'build', 1, 0),
        completed(ids.ok, 'build', 1, 0),
        started(ids.ok, 'start', 1, 2),
        completed(ids.ok, 'start', 1, 2, { tools: ['add'] }),
        started(ids.ok, 'health', 1, 4),
        completed(ids.ok, 'health', 1, 4, { tools: ['add'] }),
        started(ids.ok, 'switch', 1, 6),
        completed(ids.ok, 'switch', 1, 6, { serverId, registered: true }),
        started(ids.ok, 'drain', 1, 8),
        completed(ids.ok, 'drain', 1, 8),
        [
          'DeploymentSucceeded',
          {
            deploymentId: ids.ok,
            serverName: 'calc',
            serverId,
            revision: 1,
            durationMs: 10_000,
            at: at(1, 10),
          },
        ],
      ]);
      // Rolled back: health failed, start and build undone in reverse.
      await append(`deployment-${ids.failed}`, [
        requested(ids.failed, 'calc', 2, 'team-a'),
        started(ids.failed, 'build', 2, 0),
        completed(ids.failed, 'build', 2, 0),
        started(ids.failed, 'start', 2, 2),
        completed(ids.failed, 'start', 2, 2),
        started(ids.failed, 'health', 2, 4),
        [
          'DeploymentStepFailed',
          {
            deploymentId: ids.failed,
            step: 'health',
            durationMs: 3000,
            reason: 'tool add was not listed',
            log: 'listed: sub',
            result: {},
            at: at(2, 7),
          },
        ],
        [
          'DeploymentStepCompensated',
          { deploymentId: ids.failed, step: 'start', note: 'stopped 2', at: at(2, 8) },
        ],
        [
          'DeploymentStepCompensated',
          { deploymentId: ids.failed, step: 'build', note: 'removed', at: at(2, 9) },
        ],
        [
          'DeploymentRolledBack',
          {
            deploymentId: ids.failed,
            serverName: 'calc',
            failedStep: 'health',
            reason: 'tool add was not listed',
            durationMs: 9000,
            at: at(2, 9),
          },
        ],
      ]);
      // Still building, asked to stop; and another tenant's.
      await append(`deployment-${ids.running}`, [
        requested(ids.running, 'weather', 3, 'team-a'),
        started(ids.running, 'build', 3, 0),
        ['DeploymentStopRequested', { deploymentId: ids.running, reason: 'stopped by alice', at: at(3, 1) }],
      ]);
      await append(`deployment-${ids.other}`, [requested(ids.other, 'calc', 4, 'team-b')]);
      // Waiting behind another deployment of its server; and one whose turn came.
      const queued = (id: string, minute: number) => {
        const [type, data] = requested(id, 'queue', minute, 'team-c');
        return [type, { ...(data as object), queued: true }] as [string, unknown];
      };
      await append(`deployment-${ids.queued}`, [queued(ids.queued, 5)]);
      await append(`deployment-${ids.dequeued}`, [
        queued(ids.dequeued, 6),
        ['DeploymentDequeued', { deploymentId: ids.dequeued, at: at(7) }],
        started(ids.dequeued, 'build', 7, 1),
      ]);
      expect(await runner.waitForPosition('deployments', last, 15_000)).toBe(true);
    });
    afterAll(async () => {
      await runner?.stop();
      await t?.close();
    });

    it('a deployment that went live: every step with its timing and log, the revision and the server', async () => {
      const d = await getDeployment(t.db, ids.ok);
      expect(d).toMatchObject({
        id: ids.ok,
        tenant: 'team-a',
        owner: 'alice',
        server: 'calc',
        serverId,
        source: { kind: 'directory', path: 'apps/calc' },
        replicas: 2,
        status: 'succeeded',
        currentStep: null,
        revision: 1,
        failedStep: null,
        reason: null,
        durationMs: 10_000,
        requestedAt: at(1),
        finishedAt: at(1, 10),
        streamRevision: '11',
      });
      expect(d!.steps.map((s) => [s.step, s.outcome, s.durationMs, s.log])).toEqual([
        ['build', 'completed', 1000, 'build ok'],
        ['start', 'completed', 1000, 'start ok'],
        ['health', 'completed', 1000, 'health ok'],
        ['switch', 'completed', 1000, 'switch ok'],
        ['drain', 'completed', 1000, 'drain ok'],
      ]);
      expect(d!.steps[0]).toEqual({
        step: 'build',
        outcome: 'completed',
        startedAt: at(1, 0),
        deadline: at(6, 0),
        endedAt: at(1, 1),
        durationMs: 1000,
        log: 'build ok',
        reason: null,
        compensation: null,
      });
      expect(d!.steps[1]!.tools).toEqual(['add']);
    });

    it('the smoke call’s secret-looking arguments never reach the read model', async () => {
      const d = await getDeployment(t.db, ids.ok);
      expect(d!.health).toEqual({
        expectedTools: ['add'],
        smoke: { tool: 'add', arguments: { a: 1, b: 2, apiToken: '[redacted]' } },
      });
      expect(JSON.stringify(await tableContents(t.db, 'deployments', 'id'))).not.toContain('sk-live-123');
    });

    it('a rolled-back deployment: the failed step, its reason, and each compensation', async () => {
      const d = await getDeployment(t.db, ids.failed);
      expect(d).toMatchObject({
        status: 'rolled-back',
        failedStep: 'health',
        reason: 'tool add was not listed',
        revision: null,
        serverId: null,
        finishedAt: at(2, 9),
      });
      expect(d!.steps.map((s) => [s.step, s.outcome, s.reason, s.compensation?.note ?? null])).toEqual([
        ['build', 'completed', null, 'removed'],
        ['start', 'completed', null, 'stopped 2'],
        ['health', 'failed', 'tool add was not listed', null],
      ]);
    });

    it('a running deployment shows its current step and the stop asked for', async () => {
      expect(await getDeployment(t.db, ids.running)).toMatchObject({
        status: 'running',
        currentStep: 'build',
        stopReason: 'stopped by alice',
        finishedAt: null,
      });
    });

    it('a queued deployment reads queued until its turn comes, then running', async () => {
      expect(await getDeployment(t.db, ids.queued)).toMatchObject({ status: 'queued', currentStep: null });
      expect(await getDeployment(t.db, ids.dequeued)).toMatchObject({
        status: 'running',
        currentStep: 'build',
      });
    });

    it('lists newest first, by server and status, a page at a time, tenant-scoped', async () => {
      const list = async (o: Parameters<typeof listDeployments>[1]) =>
        (await listDeployments(t.db, o)).items.map((d) => d.id);
      expect(await list({})).toEqual([ids.dequeued, ids.queued, ids.other, ids.running, ids.failed, ids.ok]);
      expect(await list({ status: 'queued' })).toEqual([ids.queued]);
      expect(await list({ tenant: 'team-a' })).toEqual([ids.running, ids.failed, ids.ok]);
      expect(await list({ tenant: 'team-a', server: 'calc' })).toEqual([ids.failed, ids.ok]);
      expect(await list({ status: 'succeeded' })).toEqual([ids.ok]);
      expect(await list({ tenant: 'team-b', status: 'running' })).toEqual([ids.other]);
      const first = await listDeployments(t.db, { tenant: 'team-a', limit: 2 });
      expect(first.items.map((d) => d.id)).toEqual([ids.running, ids.failed]);
      expect(first.items[0]).not.toHaveProperty('steps');
      const second = await listDeployments(t.db, { tenant: 'team-a', limit: 2, after: first.nextCursor! });
      expect(second.items.map((d) => d.id)).toEqual([ids.ok]);
      expect(second.nextCursor).toBeNull();
      await expect(listDeployments(t.db, { after: 'garbage' })).rejects.toMatchObject({
        code: 'QUERY.INVALID_CURSOR',
      });
      // Another tenant's deployment reads as none.
      expect(await getDeployment(t.db, ids.ok, { tenant: 'team-b' })).toBeUndefined();
      expect(await getDeployment(t.db, 'not-a-uuid')).toBeUndefined();
    });

    it('re-applying is harmless; a rebuild from the store alone equals the live table', async () => {
      const live = await tableContents(t.db, 'deployments', 'id');
      expect(live).toHaveLength(6);
      const events = await t.store.readAll({ filter: deploymentsProjection.filter });
      await t.db.transaction().execute(async (trx) => {
        for (const e of events)
          await deploymentsProjection.apply(trx, e, liveTableNames(deploymentsProjection));
      });
      expect(await tableContents(t.db, 'deployments', 'id')).toEqual(live);
      const result = await runner.rebuild('deployments');
      expect(result.events).toBe(events.length);
      expect(await tableContents(t.db, 'deployments', 'id')).toEqual(live);
    });
  });
}
