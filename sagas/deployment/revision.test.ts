import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Request } from '../../domains/deployments/index.ts';
import { makeServerCommands, registerServerEvents } from '../../domains/servers/index.ts';
import { systemClock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { createSecretBox } from '../../kernel/secrets.ts';
import { pgliteSubject } from '../../test/event-store-subjects.ts';
import { serverNamed, switchBack, switchTraffic } from './revision.ts';

const request = (deploymentId: string): Request => ({
  deploymentId,
  serverName: 'calc',
  source: { kind: 'directory', path: 'apps/calc' },
  run: null,
  replicas: 2,
  health: { expectedTools: [], smoke: null },
  timeouts: { buildMs: 60_000, startMs: 10_000, healthMs: 10_000, switchMs: 10_000, drainMs: 5_000 },
  tenant: 'default',
  owner: 'alice',
  requestedAt: new Date().toISOString(),
  queued: false,
});
const meta = (commandId: string): CommandMeta => ({
  commandId,
  actor: 'alice',
  tenant: 'default',
  correlationId: commandId,
  issuedAt: new Date(),
});

describe('switching traffic to a revision (the registry side of the switch step)', () => {
  let subject: Awaited<ReturnType<typeof pgliteSubject>>;
  let deps: Parameters<typeof switchTraffic>[0];

  beforeAll(async () => {
    subject = await pgliteSubject();
    const registry = registerServerEvents(new EventTypeRegistry());
    const secrets = createSecretBox(randomBytes(32));
    deps = {
      store: subject.store,
      registry,
      servers: makeServerCommands({ store: subject.store, registry, secrets, clock: systemClock }),
    };
  });
  afterAll(() => subject.teardown());

  it('registers the server on its first deployment, and a resumed switch appends nothing and says the same', async () => {
    const first = await switchTraffic(
      deps,
      request('a1a1a1a1-0000-4000-8000-000000000001'),
      { command: 'node', args: ['/b/1/server.js'], cwd: '/b/1' },
      meta('d1/switch'),
    );
    expect(first).toMatchObject({ registered: true, previous: null });
    const again = await switchTraffic(
      deps,
      request('a1a1a1a1-0000-4000-8000-000000000001'),
      { command: 'node', args: ['/b/1/server.js'], cwd: '/b/1' },
      meta('d1/switch'),
    );
    expect(again).toEqual(first);
  });

  it('updates it to a new build, remembers how it ran before — also when the switch is resumed after a crash — and switches back', async () => {
    const build = { command: 'node', args: ['/b/2/server.js'], cwd: '/b/2' };
    const switched = await switchTraffic(
      deps,
      request('a1a1a1a1-0000-4000-8000-000000000002'),
      build,
      meta('d2/switch'),
    );
    expect(switched).toMatchObject({
      registered: false,
      previous: { command: 'node', args: ['/b/1/server.js'], cwd: '/b/1' },
    });
    // The worker died after the update and ran the step again: the registry already has it, and
    // what ran before is still revision 1's build, not the new one.
    const resumed = await switchTraffic(
      deps,
      request('a1a1a1a1-0000-4000-8000-000000000002'),
      build,
      meta('d2/switch'),
    );
    expect(resumed).toEqual(switched);
    const now = await serverNamed(deps, 'calc');
    expect(now?.state.status === 'active' && now.state.transport).toMatchObject({ args: ['/b/2/server.js'] });
    expect(now?.state.status === 'active' && now.state.settings.replicas).toBe(2);

    await switchBack(deps, request('a1a1a1a1-0000-4000-8000-000000000002'), switched, meta('d2/switch-back'));
    const back = await serverNamed(deps, 'calc');
    expect(back?.state.status === 'active' && back.state.transport).toMatchObject({
      args: ['/b/1/server.js'],
      cwd: '/b/1',
    });
  });

  it('undoing a first deployment removes the server it registered', async () => {
    const switched = await switchTraffic(
      deps,
      { ...request('a1a1a1a1-0000-4000-8000-000000000003'), serverName: 'fresh' },
      { command: 'node', args: ['/x.js'] },
      meta('d3/switch'),
    );
    await switchBack(
      deps,
      { ...request('a1a1a1a1-0000-4000-8000-000000000003'), serverName: 'fresh' },
      switched,
      meta('d3/switch-back'),
    );
    expect(await serverNamed(deps, 'fresh')).toBeUndefined();
  });
});
