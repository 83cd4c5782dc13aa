import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../runtime/compose.ts';
import { until } from '../test/e2e/program.ts';
import { type HttpFixture, startHttpFixture } from '../test/fixtures/upstreams/http.server.ts';
import { client, startMemorySystem } from '../test/systems.ts';

const SECRET = 'sk-live-0d1e2a3d4b5e6e7f-internal-db-password';
const BODY = JSON.stringify({ error: 'boom', detail: `postgres://admin:${SECRET}@10.0.0.5/prod` });

/**
 * An HTTP upstream that answers 500 with a secret in the body: the status reaches discovery, health,
 * tool-call records and API answers; the body reaches none of them.
 */
describe('an upstream’s error body stays out of the log and the API', () => {
  let system: System;
  let refusesAll: HttpFixture;
  let refusesCalls: HttpFixture;
  const admin = () => client(system);

  beforeAll(async () => {
    refusesAll = await startHttpFixture(0, { fail: { methods: '*', status: 500, body: BODY } });
    refusesCalls = await startHttpFixture(0, { fail: { methods: ['tools/call'], status: 500, body: BODY } });
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    for (const [name, fixture] of [
      ['down', refusesAll],
      ['flaky', refusesCalls],
    ] as const) {
      const r = await admin()('/api/v1/servers?wait=true', {
        // Health every second: the test need not wait for the default interval.
        body: {
          name,
          transport: { type: 'streamable-http', url: fixture.url },
          settings: { healthIntervalMs: 1_000 },
        },
      });
      expect(r.status).toBe(202);
    }
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await refusesAll?.close();
    await refusesCalls?.close();
  });

  it('records discovery failures, health and failed calls with the status only', {
    timeout: 120_000,
  }, async () => {
    // A call the upstream answers 500: the caller hears the status.
    const call = await until(async () => {
      const r = await admin()('/api/v1/servers/flaky/tools/echo', { body: { message: 'hi' } });
      return r.status >= 500 ? r : undefined;
    });
    expect(call.text).toMatch(/HTTP 500/);
    expect(call.text).not.toContain(SECRET);

    const down = await until(async () => {
      const r = await admin()('/api/v1/servers/down');
      return (r.json.health as { lastError?: string | null } | undefined)?.lastError ? r : undefined;
    });
    expect((down.json.health as { lastError: string }).lastError).toMatch(/HTTP 500/);
    expect(down.text).not.toContain(SECRET);

    // Discovery reached the upstream and recorded its status.
    const log = await until(async () => {
      const events = await system.store.readAll({ maxCount: 100_000 });
      const reached = events.some(
        (e) => e.type === 'DiscoveryFailed' && /HTTP 500/.test(JSON.stringify(e.data)),
      );
      return reached && events.some((e) => e.type === 'ToolCallFailed') ? events : undefined;
    }, 100_000);
    const text = JSON.stringify(log, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('internal-db-password');
  });
});
