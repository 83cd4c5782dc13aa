import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** Service addresses found by test/global-setup.ts ('' when missing). */
export function services(): { databaseUrl: string; natsUrl: string; eventstoreUrl: string } {
  return inject('services');
}

export const hasPostgres = (): boolean => services().databaseUrl !== '';
export const hasNats = (): boolean => services().natsUrl !== '';
export const hasEventStoreDb = (): boolean => services().eventstoreUrl !== '';

/** A short unique name for databases, streams and subjects of one test run. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Creates a fresh database on the test PostgreSQL; `drop()` removes it (forcing sessions out). */
export async function createTestDatabase(
  prefix = 'sy_test',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const adminUrl = services().databaseUrl;
  const name = uniqueName(prefix).toLowerCase();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
