import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { until } from '../../test/e2e/program.ts';
import { everythingBin } from '../../test/runners.ts';
import { client, startMemorySystem } from '../../test/systems.ts';

/**
 * Discovery and the runner both follow the log; discovery used to ask before the runner hosted the
 * server and recorded a DiscoveryFailed ("not running here") on every registration. It waits for
 * the instance instead.
 */
describe('discovery of a newly registered server', () => {
  let system: System;
  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
  }, 60_000);
  afterAll(() => system?.stop());

  it('waits for the runner to host it: discovered at the first attempt, no failure recorded', {
    timeout: 90_000,
  }, async () => {
    for (const name of ['first', 'second', 'third']) {
      const r = await client(system)('/api/v1/servers', {
        body: { name, transport: { type: 'stdio', command: everythingBin } },
      });
      expect(r.status).toBe(202);
    }
    const events = await until(async () => {
      const all = await system.store.readAll({ maxCount: 100_000 });
      return all.filter((e) => e.type === 'CapabilitiesDiscovered').length === 3 ? all : undefined;
    }, 60_000);
    expect(events.filter((e) => e.type === 'DiscoveryFailed').map((e) => e.data)).toEqual([]);
  });
});
