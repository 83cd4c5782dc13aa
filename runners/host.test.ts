import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../bus/bus.port.ts';
import { createInProcessBus } from '../bus/in-process/in-process.bus.ts';
import {
  makeServerCommands,
  parseRegistration,
  registerServerEvents,
  type ServerCommands,
} from '../domains/servers/index.ts';
import { openPGlite, type SqlConnection } from '../event-store/postgres/connection.ts';
import { createPostgresEventStore } from '../event-store/postgres/postgres.event-store.ts';
import { systemClock } from '../kernel/clock.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import { silentLogger } from '../kernel/logger.ts';
import { createSecretBox } from '../kernel/secrets.ts';
import { migrateEventStore } from '../migrations/migrate.ts';
import { eventually, fixturePath, newMarker, processesWith, repoRoot, textOf } from '../test/runners.ts';
import { createRunnerHost, type RunnerHost } from './host.ts';
import { createUpstreamPool, type UpstreamPool } from './pool/pool.ts';
import { createRemoteUpstreams } from './remote/remote-upstreams.ts';
import { serveUpstreams, type UpstreamsServer } from './remote/serve-upstreams.ts';
import type { Upstreams } from './upstream.port.ts';

const meta = (): CommandMeta => ({
  commandId: randomUUID(),
  actor: 'test',
  correlationId: randomUUID(),
  issuedAt: new Date(),
});

/** The runner host against a real event store (PGlite), real commands, real processes. */
describe('runner host', () => {
  const marker = newMarker();
  const registry = registerServerEvents(new EventTypeRegistry());
  const secrets = createSecretBox(randomBytes(32));
  let sql: SqlConnection;
  let store: EventStore;
  let commands: ServerCommands;
  let pool: UpstreamPool;
  let bus: Bus;
  let exec: UpstreamsServer;
  let remote: Upstreams;
  let host: RunnerHost;
  const ids: Record<string, string> = {};

  const stdio = (env: Record<string, unknown> = {}) => ({
    type: 'stdio' as const,
    command: process.execPath,
    args: ['--import', 'tsx', fixturePath('env'), `--sy-test=${marker}`],
    env,
    cwd: repoRoot,
  });
  const register = async (name: string, body: Record<string, unknown>) => {
    const r = await commands.register(parseRegistration({ name, ...body }), meta());
    ids[name] = r.serverId;
    return r.serverId;
  };
  const hosted = (name: string) => pool.status(ids[name]!)[0];

  beforeAll(async () => {
    sql = await openPGlite({ dataDir: 'memory://' });
    await migrateEventStore(sql.db);
    store = createPostgresEventStore({ connection: sql, pollIntervalMs: 50 });
    commands = makeServerCommands({ store, registry, secrets, clock: systemClock });
    pool = createUpstreamPool({ logger: silentLogger() });
    bus = createInProcessBus({ logger: silentLogger() });
    exec = await serveUpstreams({ bus, upstreams: pool, logger: silentLogger(), runnerId: 'host-test' });
    remote = await createRemoteUpstreams({ bus, logger: silentLogger() });

    // Registered before the host starts: picked up by the catch-up.
    await register('env-a', {
      transport: stdio({ TOKEN: 's3cret', FROM_RUNNER: { secretRef: 'env:SY_HOST_TEST_TOKEN' } }),
    });
    await register('off', { transport: stdio(), enabled: false });
    host = createRunnerHost({
      store,
      registry,
      secrets,
      upstreams: pool,
      logger: silentLogger(),
      env: { SY_HOST_TEST_TOKEN: 'from-the-runner', NOT_SET_ANYWHERE_OTHER: 'x' },
      secretRefPolicy: { names: ['SY_HOST_TEST_TOKEN', 'NOT_SET_ANYWHERE'], prefixes: [] },
      exec,
    });
    await host.start();
  });

  afterAll(async () => {
    await host?.stop();
    await remote?.close();
    await exec?.close();
    await pool?.close();
    await bus?.close();
    await store?.close();
    await sql?.close();
    expect(await processesWith(marker)).toEqual([]);
  });

  it('starts enabled servers with their secrets opened, and not disabled ones', async () => {
    expect(hosted('env-a')?.instances[0]?.state).toBe('healthy');
    expect(hosted('off')).toBeUndefined();
    const env = JSON.parse(textOf(await pool.callTool(ids['env-a']!, 'env', {}))) as Record<string, string>;
    expect(env.TOKEN).toBe('s3cret');
    expect(env.FROM_RUNNER).toBe('from-the-runner');
    expect(env.SY_HOST_TEST_TOKEN).toBeUndefined();
    // The log itself never held the clear text.
    const events = await store.readStream(`server-${ids['env-a']}`);
    expect(JSON.stringify(events.map((e) => e.data))).not.toContain('s3cret');
  });

  it('takes calls over the bus for the servers it hosts', async () => {
    expect(textOf(await remote.callTool(ids['env-a']!, 'echo', { message: 'via exec' }))).toBe('via exec');
    await expect(remote.callTool(ids.off!, 'echo', { message: 'x' })).rejects.toMatchObject({
      code: 'UPSTREAM.NOT_HOSTED',
    });
  });

  it('follows enable, update, disable and remove as they happen', async () => {
    await commands.enable(ids.off!, meta());
    await eventually(() => hosted('off')?.instances[0]?.state === 'healthy', { what: 'off to start' });
    expect(textOf(await remote.callTool(ids.off!, 'echo', { message: 'now on' }))).toBe('now on');

    await commands.update(ids.off!, { settings: { replicas: 2, callTimeoutMs: 5_000 } }, meta());
    await eventually(() => hosted('off')?.instances.length === 2, { what: 'two replicas' });
    await eventually(() => hosted('off')?.instances.every((i) => i.state === 'healthy'), { what: 'both up' });

    const pid = textOf(await pool.callTool(ids['env-a']!, 'pid', {}));
    await commands.disable(ids['env-a']!, meta(), { reason: 'test' });
    await eventually(() => hosted('env-a') === undefined, { what: 'env-a to stop' });
    await expect(remote.callTool(ids['env-a']!, 'echo', { message: 'x' })).rejects.toMatchObject({
      code: 'UPSTREAM.NOT_HOSTED',
    });
    // The server is gone from the pool as its stop begins; its process ends within the kill grace.
    await eventually(async () => !(await processesWith(`--sy-test=${marker}`)).includes(Number(pid)), {
      what: "env-a's process to end",
    });

    await commands.remove(ids.off!, meta());
    await eventually(() => hosted('off') === undefined, { what: 'off to be removed' });
    await eventually(async () => (await processesWith(marker)).length === 0, { what: 'no process left' });
  });

  it('reports a server whose secret reference cannot be resolved, and does not start it', async () => {
    const id = await register('broken', { transport: stdio({ KEY: { secretRef: 'env:NOT_SET_ANYWHERE' } }) });
    const problem = await eventually(() => host.problems()[id], { what: 'a problem for broken' });
    expect(problem).toContain('env:NOT_SET_ANYWHERE');
    expect(pool.status(id)).toEqual([]);
    await commands.remove(id, meta());
    await eventually(() => host.problems()[id] === undefined, { what: 'the problem to clear' });
  });
});
