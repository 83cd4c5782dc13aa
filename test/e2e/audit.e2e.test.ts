import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPGlite } from '../../event-store/postgres/connection.ts';
import {
  adminFetch,
  embeddedProgramEnv,
  type Program,
  runCli,
  startProgram,
  until,
  waitForHttp,
} from './program.ts';

/**
 * The tamper-evident log as an auditor meets it: the real program started as the README says
 * (embedded, its data in a temporary directory), `switchyard audit verify`, checkpoints exported to
 * a file; then, with the program stopped, an event changed in its database with the trigger
 * disabled — as someone with the files could — and both checks name that event's position.
 */
describe('switchyard audit against the real program', () => {
  let dataDir: string;
  let base: string;
  let env: Record<string, string>;
  let program: Program | undefined;
  const cli = (args: string[]) => runCli(args, env);

  const start = async () => {
    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program, 110_000);
  };

  beforeAll(async () => {
    ({ dataDir, base, env } = await embeddedProgramEnv('audit', {
      SWITCHYARD_AUDIT_CHECKPOINT_INTERVAL_MS: '200',
    }));
    await start();
  }, 120_000);

  afterAll(async () => {
    await program?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('verifies, exports checkpoints, and names the position of an event changed behind its back', {
    timeout: 180_000,
  }, async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      const r = await adminFetch(`${base}/api/v1/principals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, roles: ['reader'] }),
      });
      expect(r.status).toBeLessThan(300);
    }
    const { events } = (await (await adminFetch(`${base}/api/v1/events?limit=1000`)).json()) as {
      events: Array<{ position: string; type: string }>;
    };
    const last = events.at(-1)!.position;
    // Sealed and signed a moment after the appends.
    const verified = await until(async () => {
      const r = await cli(['audit', 'verify', '--json']);
      const report = JSON.parse(r.stdout) as { ok: boolean; checkpoints: { lastVerified: string | null } };
      return r.code === 0 &&
        report.checkpoints.lastVerified !== null &&
        BigInt(report.checkpoints.lastVerified) >= BigInt(last)
        ? report
        : undefined;
    }, 30_000);
    expect(verified.ok).toBe(true);
    const plain = await cli(['audit', 'verify']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(
      /^ok: \d+ events verified, sealed through position \d+; \d+ signed checkpoints verified/,
    );

    const file = join(dataDir, 'checkpoints.json');
    const exported = await cli(['audit', 'checkpoints', '--export', file]);
    expect(exported.code).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('BEGIN PUBLIC KEY');
    expect(text).not.toContain('PRIVATE');
    expect((await stat(join(dataDir, 'audit-signing.key'))).mode & 0o777).toBe(0o600);
    const thirdParty = await cli(['audit', 'verify', '--checkpoints', file]);
    expect(thirdParty.stderr).toBe('');
    expect(thirdParty.code).toBe(0);

    // Someone with the database's files changes who a principal is, with the triggers off.
    await program!.stop();
    program = undefined;
    const victim = events.find((e) => e.type === 'PrincipalCreated')!.position;
    const db = await openPGlite({ dataDir: join(dataDir, 'pglite') });
    try {
      await sql`ALTER TABLE sy_es.events DISABLE TRIGGER ALL`.execute(db.db);
      await sql`UPDATE sy_es.events SET data = jsonb_set(data, '{name}', '"mallory"') WHERE position = ${victim}::bigint`.execute(
        db.db,
      );
      await sql`ALTER TABLE sy_es.events ENABLE TRIGGER ALL`.execute(db.db);
    } finally {
      await db.close();
    }
    await start();
    const tampered = await cli(['audit', 'verify']);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(`TAMPERED: first bad position ${victim} (altered)`);
    const againstFile = await cli(['audit', 'verify', '--checkpoints', file, '--json']);
    expect(againstFile.code).toBe(1);
    const report = JSON.parse(againstFile.stdout) as {
      firstBad: { code: string; position: string; after: string };
    };
    expect(report.firstBad.code).toBe('checkpoint-mismatch');
    expect(
      BigInt(report.firstBad.after) < BigInt(victim) && BigInt(victim) <= BigInt(report.firstBad.position),
    ).toBe(true);
  });
});
