import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HealthStatus, makeHealthCommands, registerHealthEvents } from '../../domains/health/index.ts';
import { registerServerEvents } from '../../domains/servers/index.ts';
import { fixedClock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { createSecretBox } from '../../kernel/secrets.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { serverCommandsAtTheEdge } from '../../test/server-commands.ts';
import { createProjectionRunner, type ProjectionRunner } from '../runner.ts';
import { serversProjection } from '../servers/server.projection.ts';
import { getServer, listServers } from '../servers/servers.queries.ts';
import { tableContents } from '../tables.ts';
import { healthProjection } from './health.projection.ts';
import { serverHealth } from './health.queries.ts';
import { recordHealthProbe } from './health-probes.ts';

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'health read model');
  describe.skipIf(!kind.available())(`health read model [${kind.label}]`, () => {
    let t: TestDatabase;
    let runner: ProjectionRunner;
    const clock = fixedClock('2026-04-01T09:00:00.000Z');
    const registry = registerHealthEvents(registerServerEvents(new EventTypeRegistry()));
    let servers: ReturnType<typeof serverCommandsAtTheEdge>;
    let health: ReturnType<typeof makeHealthCommands>;
    let seq = 0;
    const meta = (): CommandMeta => ({
      commandId: `cmd-${++seq}`,
      actor: 'system:health',
      correlationId: `c-${seq}`,
      issuedAt: clock.now(),
    });
    let serverId: string;

    /** What the health monitor does on each check: the probe row always, an event on a transition. */
    async function check(status: HealthStatus, latencyMs?: number, error?: string) {
      clock.advance(30_000);
      const checkedAt = clock.now();
      await recordHealthProbe(t.db, { serverId, status, latencyMs, error, checkedAt });
      const r = await health.record({ serverId, status, latencyMs, error, checkedAt }, meta());
      if (r.position !== undefined)
        expect(await runner.waitForPosition('health', r.position, 10_000)).toBe(true);
      return { ...r, checkedAt: checkedAt.toISOString() };
    }

    beforeAll(async () => {
      t = await kind.open();
      servers = serverCommandsAtTheEdge({
        store: t.store,
        registry,
        secrets: createSecretBox(randomBytes(32)),
        clock,
      });
      health = makeHealthCommands({ store: t.store, registry, clock });
      runner = createProjectionRunner({
        store: t.store,
        db: t.db,
        projections: [serversProjection, healthProjection],
        registry,
        clock,
      });
      await runner.start();
      const r = await servers.register(
        { name: 'pinged', transport: { type: 'stdio', command: 'x' } },
        meta(),
      );
      expect(await runner.waitForPosition('servers', r.position!, 10_000)).toBe(true);
      serverId = r.serverId;
    });
    afterAll(async () => {
      await runner?.stop();
      await t?.close();
    });

    it('a server never checked has empty health', async () => {
      expect((await getServer(t.db, serverId))?.health).toEqual({
        status: null,
        since: null,
        lastCheckAt: null,
        latencyMs: null,
        lastError: null,
      });
    });

    it('status and since come from transitions; last check and latency from every check', async () => {
      const starting = await check('STARTING');
      expect(starting.changed).toBe(true);
      const healthy = await check('HEALTHY', 12);
      expect(healthy.changed).toBe(true);
      const again = await check('HEALTHY', 40);
      expect(again).toMatchObject({ changed: false, position: undefined });
      expect(await serverHealth(t.db, serverId)).toEqual({
        status: 'HEALTHY',
        since: healthy.checkedAt,
        lastCheckAt: again.checkedAt,
        latencyMs: 40,
        lastError: null,
      });
      // The same, in the server's view and in a list of servers.
      expect((await getServer(t.db, serverId))?.health).toMatchObject({ status: 'HEALTHY', latencyMs: 40 });
      expect((await listServers(t.db)).items[0]?.health).toMatchObject({ status: 'HEALTHY', latencyMs: 40 });
      // Only the two transitions are events.
      expect(await t.store.readStream(`health-${serverId}`)).toHaveLength(2);
    });

    it('a failing check shows its error; a late (older) probe does not move the row back', async () => {
      const down = await check('UNHEALTHY', 5000, 'ping timed out after 5000 ms');
      expect(await serverHealth(t.db, serverId)).toMatchObject({
        status: 'UNHEALTHY',
        since: down.checkedAt,
        lastCheckAt: down.checkedAt,
        lastError: 'ping timed out after 5000 ms',
      });
      await recordHealthProbe(t.db, {
        serverId,
        status: 'HEALTHY',
        latencyMs: 1,
        checkedAt: new Date(Date.parse(down.checkedAt) - 1000),
      });
      expect(await serverHealth(t.db, serverId)).toMatchObject({
        lastCheckAt: down.checkedAt,
        latencyMs: 5000,
      });
    });

    it('rebuilds server_health from the store alone; the probe table is left as it is', async () => {
      const live = await tableContents(t.db, 'server_health', 'server_id');
      const probes = await tableContents(t.db, 'server_health_probes', 'server_id');
      expect(live).toHaveLength(1);
      await runner.rebuild('health');
      expect(await tableContents(t.db, 'server_health', 'server_id')).toEqual(live);
      expect(await tableContents(t.db, 'server_health_probes', 'server_id')).toEqual(probes);
    });
  });
}
