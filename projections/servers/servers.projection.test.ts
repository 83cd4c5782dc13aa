import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerServerEvents } from '../../domains/servers/index.ts';
import { fixedClock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { createSecretBox } from '../../kernel/secrets.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { serverCommandsAtTheEdge } from '../../test/server-commands.ts';
import { createProjectionRunner, type ProjectionRunner } from '../runner.ts';
import { serversProjection } from './server.projection.ts';
import {
  findServerIdByName,
  getServer,
  getServerByName,
  listAllServers,
  listServers,
} from './servers.queries.ts';

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'servers read model');
  describe.skipIf(!kind.available())(`servers read model [${kind.label}]`, () => {
    let t: TestDatabase;
    let runner: ProjectionRunner;
    const clock = fixedClock('2026-04-01T09:00:00.000Z');
    const tick = (ms: number) => {
      clock.advance(ms);
      return clock.now();
    };
    const registry = registerServerEvents(new EventTypeRegistry());
    let servers: ReturnType<typeof serverCommandsAtTheEdge>;
    let seq = 0;
    const meta = (tenant?: string, actor = 'user:test'): CommandMeta => ({
      commandId: `cmd-${++seq}`,
      actor,
      tenant,
      correlationId: `corr-${seq}`,
      issuedAt: tick(1000),
    });

    /** Runs a write, then waits for the read model to show it (read-your-writes). */
    async function projected<R extends { position: bigint | undefined }>(write: Promise<R>): Promise<R> {
      const r = await write;
      if (r.position !== undefined)
        expect(await runner.waitForPosition('servers', r.position, 10_000)).toBe(true);
      return r;
    }

    beforeAll(async () => {
      t = await kind.open();
      servers = serverCommandsAtTheEdge({
        store: t.store,
        registry,
        secrets: createSecretBox(randomBytes(32)),
        clock,
      });
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

    it('a registered server appears, secrets redacted, with its revision and position', async () => {
      const r = await projected(
        servers.register(
          {
            name: 'github',
            description: 'GitHub tools',
            transport: {
              type: 'stdio',
              command: 'npx',
              args: ['-y', '@modelcontextprotocol/server-github'],
              env: { GITHUB_TOKEN: 'ghp_abc123', ORG: { secretRef: 'env:GH_ORG' } },
            },
            tags: ['scm', 'github'],
            settings: { callTimeoutMs: 30_000 },
          },
          meta(),
        ),
      );
      const view = await getServer(t.db, r.serverId);
      expect(view).toEqual({
        id: r.serverId,
        name: 'github',
        description: 'GitHub tools',
        transportType: 'stdio',
        transport: {
          type: 'stdio',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-github'],
          env: { GITHUB_TOKEN: '[redacted]', ORG: { secretRef: 'env:GH_ORG' } },
        },
        tags: ['scm', 'github'],
        enabled: true,
        status: 'active',
        settings: { callTimeoutMs: 30_000 },
        revision: '0',
        position: r.position!.toString(),
        createdAt: '2026-04-01T09:00:01.000Z',
        updatedAt: '2026-04-01T09:00:01.000Z',
        removedAt: null,
        tenant: 'default',
        owner: 'user:test',
        health: { status: null, since: null, lastCheckAt: null, latencyMs: null, lastError: null },
        stats: {
          calls: 0,
          errors: 0,
          errorRate: null,
          running: 0,
          avgMs: null,
          p50Ms: null,
          p95Ms: null,
          lastUsedAt: null,
          tools: [],
        },
      });
      const rows = await t.db.selectFrom('servers').selectAll().execute();
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain('ghp_abc123');
      expect(dump).not.toContain('$secret');
      expect(await getServerByName(t.db, 'github')).toEqual(view);
    });

    it('reflects update, disable, enable and remove; removed servers are hidden by default', async () => {
      const r = await projected(
        servers.register(
          { name: 'slack', transport: { type: 'sse', url: 'https://slack.test/sse' } },
          meta(),
        ),
      );
      await projected(
        servers.update(
          r.serverId,
          {
            name: 'slack-eu',
            description: 'Slack',
            tags: ['chat'],
            transport: {
              type: 'streamable-http',
              url: 'https://slack.test/mcp',
              headers: { Authorization: 'Bearer x' },
            },
          },
          meta(),
        ),
      );
      let view = await getServer(t.db, r.serverId);
      expect(view).toMatchObject({
        name: 'slack-eu',
        description: 'Slack',
        tags: ['chat'],
        transportType: 'streamable-http',
        transport: {
          type: 'streamable-http',
          url: 'https://slack.test/mcp',
          headers: { Authorization: '[redacted]' },
        },
        revision: '1',
      });
      expect(await getServerByName(t.db, 'slack')).toBeUndefined();

      await projected(servers.disable(r.serverId, meta()));
      expect((await getServer(t.db, r.serverId))?.enabled).toBe(false);
      expect((await listServers(t.db, { enabled: false })).items.map((s) => s.name)).toEqual(['slack-eu']);

      await projected(servers.enable(r.serverId, meta()));
      view = await getServer(t.db, r.serverId);
      expect(view).toMatchObject({ enabled: true, revision: '3' });

      await projected(servers.update(r.serverId, { description: null }, meta()));
      expect((await getServer(t.db, r.serverId))?.description).toBeNull();

      const removed = await projected(servers.remove(r.serverId, meta()));
      expect(await getServer(t.db, r.serverId)).toBeUndefined();
      expect(await getServerByName(t.db, 'slack-eu')).toBeUndefined();
      const gone = await getServer(t.db, r.serverId, { includeRemoved: true });
      expect(gone).toMatchObject({
        status: 'removed',
        position: removed.position!.toString(),
        revision: '5',
      });
      expect(gone?.removedAt).not.toBeNull();
      expect((await listServers(t.db)).items.map((s) => s.name)).not.toContain('slack-eu');
      expect((await listServers(t.db, { includeRemoved: true })).items.map((s) => s.name)).toContain(
        'slack-eu',
      );
    });

    it('a refresh request moves the revision (for If-Match) but not updatedAt; settings are shown', async () => {
      const r = await projected(
        servers.register(
          {
            name: 'replicated',
            transport: { type: 'stdio', command: 'srv' },
            settings: { replicas: 2, loadBalancing: 'weighted', weights: [3, 1] },
          },
          meta(),
        ),
      );
      const before = await getServer(t.db, r.serverId);
      const refreshed = await projected(servers.refresh(r.serverId, meta()));
      const after = await getServer(t.db, r.serverId);
      expect(after).toMatchObject({
        revision: '1',
        position: refreshed.position!.toString(),
        updatedAt: before!.updatedAt,
        settings: { replicas: 2, loadBalancing: 'weighted', weights: [3, 1] },
      });
      await projected(servers.remove(r.serverId, meta()));
    });

    it('filters by tag and pages with a cursor', async () => {
      for (const n of ['p-a', 'p-b', 'p-c', 'p-d', 'p-e']) {
        await projected(
          servers.register({ name: n, transport: { type: 'stdio', command: 'x' }, tags: ['paged'] }, meta()),
        );
      }
      const names: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await listServers(t.db, { tag: 'paged', limit: 2, cursor });
        names.push(...page.items.map((s) => s.name));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(names).toEqual(['p-a', 'p-b', 'p-c', 'p-d', 'p-e']);
      // Background work (health checks) takes every page, not the first.
      const all = await listAllServers(t.db, { tag: 'paged', pageSize: 2 });
      expect(all.map((s) => s.name)).toEqual(names);
      expect((await listServers(t.db, { tag: 'nope' })).items).toEqual([]);
      await expect(listServers(t.db, { cursor: 'garbage' })).rejects.toMatchObject({
        code: 'QUERY.INVALID_CURSOR',
      });
    });

    it("a server is its registrant's tenant's: listed and found for it, not for another", async () => {
      const r = await projected(
        servers.register(
          { name: 'team-a-db', transport: { type: 'stdio', command: 'db' } },
          meta('team-a', 'u-a'),
        ),
      );
      const view = await getServer(t.db, r.serverId);
      expect(view).toMatchObject({ tenant: 'team-a', owner: 'u-a' });
      const listed = async (tenant?: string) =>
        (await listServers(t.db, { tenant, limit: 500 })).items.map((s) => s.name);
      expect(await listed('team-a')).toEqual(['team-a-db']);
      expect(await listed('team-b')).not.toContain('team-a-db');
      expect(await listed(undefined)).toContain('team-a-db');
      expect(await listed('default')).not.toContain('team-a-db');
      expect(await getServer(t.db, r.serverId, { tenant: 'team-b' })).toBeUndefined();
      expect(await getServer(t.db, r.serverId, { tenant: 'team-a' })).toEqual(view);
      expect(await getServerByName(t.db, 'team-a-db', { tenant: 'team-b' })).toBeUndefined();
      expect(await getServerByName(t.db, 'team-a-db', { tenant: 'team-a' })).toEqual(view);
      expect(await findServerIdByName(t.db, 'team-a-db', { tenant: 'team-b' })).toBeUndefined();
      expect(await findServerIdByName(t.db, 'team-a-db', { tenant: 'team-a' })).toBe(r.serverId);
      await projected(servers.remove(r.serverId, meta('team-a', 'u-a')));
    });

    it('a server registered before tenancy reads as the default tenant, owner unknown', async () => {
      const serverId = randomUUID();
      const { position } = await t.store.append(
        `server-${serverId}`,
        [
          {
            id: randomUUID(),
            type: 'ServerRegistered',
            // As written before tenancy: no tenant, no owner.
            data: {
              serverId,
              name: 'legacy',
              transport: { type: 'sse', url: 'https://legacy.test/sse', headers: {} },
              tags: [],
              enabled: true,
              settings: {},
              registeredAt: '2026-01-01T00:00:00.000Z',
            },
            metadata: { correlationId: 'c', causationId: randomUUID(), actor: 'someone', schemaVersion: 1 },
          },
        ],
        'no-stream',
      );
      expect(await runner.waitForPosition('servers', position, 10_000)).toBe(true);
      expect(await getServer(t.db, serverId)).toMatchObject({ tenant: 'default', owner: 'unknown' });
      expect((await listServers(t.db, { tenant: 'default', limit: 500 })).items.map((s) => s.name)).toContain(
        'legacy',
      );
    });

    it('status reports the checkpoint and no lag once caught up', async () => {
      const head = await t.store.headPosition();
      expect(await runner.waitForPosition('servers', head, 10_000)).toBe(true);
      const [status] = await runner.status();
      expect(status).toMatchObject({
        name: 'servers',
        state: 'live',
        lagEvents: 0,
        lagMs: 0,
        lastError: null,
      });
      // The checkpoint is the last *server* event; reservation streams are not this projection's.
      const [lastServerEvent] = await t.store.readAll({
        after: BigInt(status!.checkpoint),
        filter: serversProjection.filter,
      });
      expect(lastServerEvent).toBeUndefined();
    });
  });
}
