import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { until } from '../../test/e2e/program.ts';
import { client, startMemorySystem } from '../../test/systems.ts';
import { csvCell, csvLine } from './audit-export.ts';

describe('audit export cells', () => {
  it('quotes what CSV needs quoted, and never lets a cell start a formula', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvCell(`${start}HYPERLINK("http://x")`).replace(/^"/, '')).toMatch(/^'/);
    }
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvLine(['=cmd', 'x,y'])).toBe(`'=cmd,"x,y"\r\n`);
  });
});

/**
 * /api/v1/audit/servers|calls|changes over HTTP, on the embedded stores: an auditor (a reader with a
 * platform grant of mcp:read) asks; a plain reader is refused; bad questions are 400s; answers come
 * as JSON pages, NDJSON or CSV (by ?format= or Accept), secrets redacted.
 */
describe('audit replay routes', () => {
  let system: System;
  let auditorKey: string;
  let readerKey: string;
  let registeredAt: string;

  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    const admin = client(system);
    const made = async (name: string) => {
      const p = (await admin('/api/v1/principals', { body: { name, roles: ['reader'] } })).json;
      const key = (await admin('/api/v1/api-keys', { body: { name, principalId: p.id } })).json.key as string;
      return { id: p.id as string, key };
    };
    const auditor = await made('auditor');
    auditorKey = auditor.key;
    readerKey = (await made('plain-reader')).key;
    const grant = await admin('/api/v1/grants', {
      body: {
        subject: { type: 'principal', id: auditor.id },
        permission: 'mcp:read',
        resource: { type: 'platform' },
      },
    });
    expect(grant.status, grant.text).toBeLessThan(300);
    const formula = await admin('/api/v1/principals', {
      body: { name: '=HYPERLINK("http://evil")', roles: ['reader'] },
    });
    expect(formula.status, formula.text).toBeLessThan(300);
    const server = await admin('/api/v1/servers', {
      body: {
        name: 'remote',
        transport: {
          type: 'streamable-http',
          url: 'http://127.0.0.1:9/mcp',
          headers: { Authorization: 'Bearer very-secret-value-123' },
        },
        tags: ['audit'],
      },
    });
    expect(server.status, server.text).toBe(202);
    registeredAt = new Date().toISOString();
  });

  afterAll(async () => system?.stop());

  it('lets an auditor ask, and no plain reader', async () => {
    const reader = client(system, readerKey);
    for (const path of [
      '/api/v1/audit/calls',
      '/api/v1/audit/changes',
      `/api/v1/audit/servers/remote?at=${registeredAt}`,
    ]) {
      expect((await reader(path)).status, path).toBe(403);
      expect((await client(system, auditorKey)(path)).status, path).toBe(200);
    }
  });

  it('answers a server as of a time with its secrets redacted, and 404 before it existed', async () => {
    const auditor = client(system, auditorKey);
    const now = await until(async () => {
      const r = await auditor(`/api/v1/audit/servers/remote?at=${new Date().toISOString()}`);
      return r.status === 200 ? r : undefined;
    }, 10_000);
    expect(now.json.server).toMatchObject({
      name: 'remote',
      status: 'active',
      tags: ['audit'],
      transport: { type: 'streamable-http', headers: { Authorization: '[redacted]' } },
    });
    expect(now.text).not.toContain('very-secret-value-123');
    expect(now.text).not.toContain('$secret');
    const before = await auditor('/api/v1/audit/servers/remote?at=2020-01-01T00:00:00Z');
    expect(before.status).toBe(404);
    expect(before.json.code).toBe('AUDIT.SERVER_NOT_FOUND');
  });

  it('refuses bad questions with 400', async () => {
    const auditor = client(system, auditorKey);
    for (const path of [
      '/api/v1/audit/servers/remote',
      '/api/v1/audit/servers/remote?at=yesterday',
      '/api/v1/audit/calls?from=2026-12-07T10:00:00Z&to=2026-12-07T09:00:00Z',
      '/api/v1/audit/calls?limit=5000',
      '/api/v1/audit/calls?after=-1',
      '/api/v1/audit/calls?color=blue',
      '/api/v1/audit/changes?category=toolcall',
      '/api/v1/audit/changes?format=xml',
    ]) {
      const r = await auditor(path);
      expect(r.status, `${path}: ${r.text}`).toBe(400);
    }
  });

  it('exports changes as NDJSON and as CSV, formula-safe, and pages them as JSON', async () => {
    const auditor = client(system, auditorKey);
    const json = await until(async () => {
      const r = await auditor('/api/v1/audit/changes?limit=1000');
      const types = (r.json.items as Array<{ type: string }>).map((c) => c.type);
      return types.includes('ServerRegistered') ? r : undefined;
    }, 10_000);
    const items = json.json.items as Array<{ type: string; position: string; data: unknown }>;
    expect(items.map((c) => c.type)).toContain('PrincipalCreated');
    expect(json.text).not.toContain('very-secret-value-123');

    const ndjson = await auditor('/api/v1/audit/changes', { headers: { accept: 'application/x-ndjson' } });
    expect(ndjson.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = ndjson.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { position: string });
    expect(lines.map((l) => l.position)).toEqual(items.map((c) => c.position));

    const csv = await auditor('/api/v1/audit/changes?format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = csv.text.split('\r\n');
    expect(rows[0]).toBe(
      'position,recordedAt,actor,tenant,credential,stream,category,subject,name,type,revision,correlationId,data',
    );
    expect(rows.filter(Boolean)).toHaveLength(items.length + 1);
    expect(csv.text).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(csv.text).not.toMatch(/(^|,)=HYPERLINK/m);

    // One change at a time: each page's cursor leads to the next, and the pages are the whole.
    const paged: string[] = [];
    let after = '0';
    for (let i = 0; i < 100; i++) {
      const page = await auditor(`/api/v1/audit/changes?limit=1&after=${after}`);
      paged.push(...(page.json.items as Array<{ position: string }>).map((c) => c.position));
      if (!page.json.hasMore) break;
      after = page.json.next as string;
    }
    expect(paged).toEqual(items.map((c) => c.position));
  });
});
