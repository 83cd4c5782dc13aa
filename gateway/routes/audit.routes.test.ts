import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { until } from '../../test/e2e/program.ts';
import { client, startMemorySystem } from '../../test/systems.ts';

/**
 * /api/v1/audit over HTTP: an auditor is a reader given a platform grant of mcp:read — enough to
 * verify the log and export its checkpoints, and nothing more; the answer names the public key only.
 */
describe('audit routes', () => {
  let system: System;
  let auditorKey: string;
  let readerKey: string;

  beforeAll(async () => {
    system = await startMemorySystem({
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
      SWITCHYARD_AUDIT_CHECKPOINT_INTERVAL_MS: '100',
    });
    const admin = client(system);
    const made = async (name: string) => {
      const p = (await admin('/api/v1/principals', { body: { name, roles: ['reader'] } })).json;
      const key = (await admin('/api/v1/api-keys', { body: { name, principalId: p.id } })).json.key as string;
      return { id: p.id as string, key };
    };
    const auditor = await made('auditor');
    readerKey = (await made('plain-reader')).key;
    auditorKey = auditor.key;
    const grant = await admin('/api/v1/grants', {
      body: {
        subject: { type: 'principal', id: auditor.id },
        permission: 'mcp:read',
        resource: { type: 'platform' },
      },
    });
    expect(grant.status, grant.text).toBeLessThan(300);
  });

  afterAll(async () => system?.stop());

  it('lets an auditor with a platform grant verify and export, and no plain reader', async () => {
    const auditor = client(system, auditorKey);
    const report = await until(async () => {
      const r = await auditor('/api/v1/audit/verify');
      return r.status === 200 &&
        r.json.checkpoints &&
        (r.json.checkpoints as { verified: number }).verified > 0
        ? r
        : undefined;
    }, 20_000);
    expect(report.json).toMatchObject({ ok: true, checkpoints: { signaturesChecked: true } });
    expect(report.json.checked).toBeGreaterThan(0);

    const exported = await auditor('/api/v1/audit/checkpoints');
    expect(exported.status).toBe(200);
    expect(exported.json.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(exported.text).not.toMatch(/PRIVATE/);
    expect((exported.json.checkpoints as unknown[]).length).toBeGreaterThan(0);

    const reader = client(system, readerKey);
    expect((await reader('/api/v1/audit/verify')).status).toBe(403);
    expect((await reader('/api/v1/audit/checkpoints')).status).toBe(403);
  });
});
