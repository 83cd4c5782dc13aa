import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { ERASED } from '../../kernel/personal-data.ts';
import { type System, startSystem } from '../../runtime/compose.ts';
import { parseConfig } from '../../runtime/config.ts';
import { everythingEntry } from '../runners.ts';
import { client, distributedTestEnv, registerStdioServer } from '../systems.ts';
import { until } from './program.ts';

/**
 * The right to erasure without rewriting history (crypto-shredding), over PostgreSQL and NATS: a
 * principal's name and tool-call arguments reach the log sealed with its data key; the read models and the
 * audit replay show them in clear while the key lives. Erasing the principal destroys the key: after
 * a rebuild, nothing anywhere in the database reads back the value, the log is unchanged and still
 * verifies, and the principal can no longer act.
 */
describe('erasing a principal (crypto-shredding)', () => {
  let deployment: Awaited<ReturnType<typeof distributedTestEnv>>;
  let system: System;
  let alice: { id: string; key: string };
  const secret = `alice-private-${Date.now().toString(36)}`;

  beforeAll(async () => {
    deployment = await distributedTestEnv('erasure');
    system = await startSystem(
      parseConfig({
        ...deployment.env,
        SWITCHYARD_PORT: '0',
        SWITCHYARD_AUDIT_CHECKPOINT_INTERVAL_MS: '100',
      }),
      silentLogger(),
    );
    await registerStdioServer(system, 'everything', [everythingEntry], {
      tool: 'echo',
      args: { message: 'ready?' },
    });
    const admin = client(system);
    const p = await admin('/api/v1/principals', { body: { name: `Alice ${secret}`, roles: ['executor'] } });
    expect(p.status, p.text).toBe(202);
    const k = await admin('/api/v1/api-keys', { body: { name: 'alice', principalId: p.json.id } });
    alice = { id: p.json.id as string, key: k.json.key as string };
  }, 120_000);

  afterAll(async () => {
    try {
      await system?.stop();
    } finally {
      await deployment?.drop();
    }
  });

  /** Every row of every table of the database that holds `text` anywhere, as `schema.table`. */
  async function tablesHolding(text: string): Promise<string[]> {
    const db = system.sql.db;
    const tables = await sql<{ schema: string; name: string }>`
      SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`.execute(
      db,
    );
    const found: string[] = [];
    for (const t of tables.rows) {
      const r = await sql<{ n: string }>`
        SELECT count(*) AS n FROM ${sql.table(`${t.schema}.${t.name}`)} AS t
        WHERE position(${text} in t::text) > 0`.execute(db);
      if (Number(r.rows[0]!.n) > 0) found.push(`${t.schema}.${t.name}`);
    }
    return found;
  }

  it('seals the arguments in the log, shows them to the read side, and erases them for good', {
    timeout: 120_000,
  }, async () => {
    const admin = client(system);
    const called = await client(system, alice.key)('/api/v1/servers/everything/tools/echo', {
      body: { message: secret },
    });
    expect(called.status, called.text).toBe(200);
    const callId = called.json.callId as string;

    // The read model and the audit replay show the arguments in clear while the key lives…
    const listed = await until(async () => {
      const r = await admin(`/api/v1/tool-calls?actor=${alice.id}`);
      const items = (r.json.items ?? []) as Array<{ id: string; arguments: Record<string, unknown> }>;
      return items.length > 0 ? items : undefined;
    }, 20_000);
    expect(listed[0]!.arguments).toEqual({ message: secret });
    expect(listed[0]!.id).toBe(callId);
    const replay = await admin(`/api/v1/audit/calls?actor=${alice.id}`);
    expect(replay.status, replay.text).toBe(200);
    expect((replay.json.items as Array<{ arguments: unknown }>)[0]!.arguments).toEqual({ message: secret });

    // Her name too: in clear for those who may read principals, and in the replay of changes.
    expect((await admin(`/api/v1/principals/${alice.id}`)).json.name).toBe(`Alice ${secret}`);
    const created = await admin(`/api/v1/audit/changes?stream=principal-${alice.id}`);
    expect((created.json.items as Array<{ name: string }>)[0]!.name).toBe(`Alice ${secret}`);

    // …but the log itself holds only ciphertext: the value is in the read model, not in sy_es.
    const before = await tablesHolding(secret);
    expect(before.some((t) => t.startsWith('sy_es.'))).toBe(false);
    expect(before.length).toBeGreaterThan(0);
    const logged = await admin(`/api/v1/events?type=ToolCallStarted`);
    expect(logged.text).not.toContain(secret);
    expect(logged.text).toContain('"$sealed":"pd1.');

    // Erasure: the keys go, the principal is disabled for good, and the request is recorded.
    const erased = await admin(`/api/v1/principals/${alice.id}/erase`, { method: 'POST' });
    expect(erased.status, erased.text).toBe(200);
    expect(erased.json).toMatchObject({ id: alice.id, keysDestroyed: 1 });
    expect((await client(system, alice.key)('/api/v1/me')).status).toBe(401);
    const again = await admin(`/api/v1/principals/${alice.id}/erase`, { method: 'POST' });
    expect(again.json).toMatchObject({ keysDestroyed: 0 });
    const enable = await admin(`/api/v1/principals/${alice.id}`, {
      method: 'PATCH',
      body: { disabled: false },
    });
    expect(enable.status, enable.text).toBe(409);
    expect(enable.json.code).toBe('PRINCIPAL.ERASED');

    // After a rebuild of the read model nothing in the whole database reads back the value.
    const rebuilt = await admin('/api/v1/projections/tool_calls/rebuild', { method: 'POST' });
    expect(rebuilt.status, rebuilt.text).toBe(200);
    expect(await tablesHolding(secret)).toEqual([]);
    const after = await admin(`/api/v1/tool-calls?actor=${alice.id}`);
    expect((after.json.items as Array<{ arguments: unknown }>)[0]!.arguments).toEqual({ message: ERASED });
    const replayAfter = await admin(`/api/v1/audit/calls?actor=${alice.id}`);
    expect((replayAfter.json.items as Array<{ arguments: unknown }>)[0]!.arguments).toEqual({
      message: ERASED,
    });
    const history = await admin(`/api/v1/events?stream=principal-${alice.id}`);
    expect(history.text).toContain('PrincipalErased');
    expect(history.text).not.toContain(secret);
    expect((await admin(`/api/v1/principals/${alice.id}`)).json.name).toBe(ERASED);
    const changed = await admin(`/api/v1/audit/changes?stream=principal-${alice.id}`);
    expect(changed.text).not.toContain(secret);
    expect((changed.json.items as Array<{ name: string }>)[0]!.name).toBe(ERASED);

    // The log was not rewritten: its hash chain and signed checkpoints still verify.
    const verified = await until(async () => {
      const r = await admin('/api/v1/audit/verify');
      return r.status === 200 && (r.json.checked as number) > 0 ? r : undefined;
    }, 20_000);
    expect(verified.json).toMatchObject({ ok: true });
  });
});
