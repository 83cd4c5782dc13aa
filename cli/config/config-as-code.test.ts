import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { type System, startSystem } from '../../runtime/compose.ts';
import { parseConfig } from '../../runtime/config.ts';
import { TEST_ADMIN_KEY } from '../../test/access.ts';
import { hasNats, hasPostgres } from '../../test/services.ts';
import { client, distributedTestEnv } from '../../test/systems.ts';
import { configApply, configExport } from '../config.command.ts';
import type { CliIo } from '../io.ts';

const SEALED = 'Bearer s3cret-sealed-value-0042';
/**
 * The streams configuration lives in. Discovery and health keep appending on their own (the test
 * upstreams do not answer), so "nothing appended" is counted here.
 */
const CONFIG_CATEGORIES = [
  'server',
  'servername',
  'toolset',
  'tenant',
  'grant',
  'policy',
  'ratelimit',
  'templatesource',
];

/** The CLI's streams as strings. */
function buffers(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) } as unknown as CliIo['stderr'],
    out: () => out,
    err: () => err,
  };
}

/**
 * Configuration as code against two whole in-memory systems: `switchyard export` of one, `switchyard
 * apply` into a fresh other (promotion), through the CLI's own functions and the real REST API.
 */
describe('switchyard export / apply', () => {
  let a: System;
  let b: System;
  let tmp: string;
  let sources: string;
  let botId: string;

  const start = (workspace: string) =>
    startSystem(
      parseConfig({
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_WORKSPACE: workspace,
        SWITCHYARD_BUILTIN_TEMPLATES: 'off',
        SWITCHYARD_SECRET_REFS: 'DEMO_*',
        SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
      }),
      silentLogger(),
    );
  const gw = (s: System) => ({ url: s.url!, token: TEST_ADMIN_KEY });

  async function exported(s: System): Promise<string> {
    const io = buffers();
    expect(await configExport(gw(s), io)).toBe(0);
    return io.out();
  }

  async function apply(s: System, yaml: string, flags: { prune?: boolean; dryRun?: boolean } = {}) {
    const file = path.join(tmp, `apply-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, yaml);
    const io = buffers();
    const before = await s.store.headPosition();
    let error: Error | undefined;
    try {
      await configApply({ ...gw(s), file, yes: true, ...flags }, io);
    } catch (e) {
      error = e as Error;
    }
    const appended = (await s.store.countAfter(before, { categories: CONFIG_CATEGORIES })) > 0;
    return { plan: io.out(), log: io.err(), error, appended };
  }

  async function ok(s: System, p: string, body: unknown, method = 'POST') {
    const r = await client(s)(p, { method, body });
    expect(r.status, `${p}: ${r.text}`).toBeLessThan(300);
    return r.json;
  }

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(path.join(tmpdir(), 'switchyard-config-')));
    const workspace = path.join(tmp, 'workspace');
    sources = path.join(workspace, 'sources');
    await mkdir(sources, { recursive: true });
    [a, b] = await Promise.all([start(workspace), start(workspace)]);

    await ok(a, '/api/v1/servers?wait=true', {
      name: 'web',
      description: 'an HTTP upstream',
      transport: {
        type: 'streamable-http',
        url: 'http://127.0.0.1:9/mcp',
        headers: { 'X-Org': { secretRef: 'env:DEMO_ORG' } },
      },
      tags: ['demo'],
      settings: { callTimeoutMs: 5000, tools: { echo: { name: 'say' }, delete_all: { hidden: true } } },
    });
    await ok(a, '/api/v1/servers?wait=true', {
      name: 'sealed',
      transport: { type: 'sse', url: 'http://127.0.0.1:9/sse', headers: { Authorization: SEALED } },
      enabled: false,
    });
    await ok(
      a,
      '/api/v1/toolsets/writers?wait=true',
      { description: 'what writers need', tools: [{ server: 'web', tool: 'echo' }] },
      'PUT',
    );
    await ok(a, '/api/v1/tenants', { id: 'team-b', name: 'Team B' });
    await ok(a, '/api/v1/grants', {
      subject: { type: 'tenant', id: 'default' },
      permission: 'mcp:execute',
      resource: { type: 'server', server: 'web' },
    });
    await ok(a, '/api/v1/policies', {
      name: 'no-deletes',
      effect: 'deny',
      target: { actions: ['tool.call'], server: 'web', tool: 'delete_*' },
    });
    await ok(a, '/api/v1/rate-limits', { name: 'calls', scope: 'principal', points: 100, windowSeconds: 60 });
    // A service account: another id in every environment, the same name.
    botId = (await ok(a, '/api/v1/principals', { name: 'ci-bot', roles: ['reader'] })).id as string;
    await ok(a, '/api/v1/grants', {
      subject: { type: 'principal', id: botId },
      permission: 'mcp:execute',
      resource: { type: 'tool', server: 'web', tool: 'echo' },
    });
    await ok(a, '/api/v1/rate-limits', {
      name: 'bot-calls',
      scope: 'principal-tool',
      points: 10,
      windowSeconds: 1,
      match: { principal: botId, server: 'web' },
    });
    await ok(a, '/api/v1/template-sources', { name: 'team-templates', kind: 'directory', location: sources });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await rm(tmp, { recursive: true, force: true });
  });

  it('exports everything as one YAML document, secrets as references or placeholders, never in clear', async () => {
    const yaml = await exported(a);
    expect(yaml).not.toContain('s3cret');
    expect(yaml).toContain('Authorization: "[redacted]"');
    expect(yaml).toMatch(/X-Org:\n\s+secretRef: env:DEMO_ORG/);
    // The service account by its name, not by this environment's id.
    expect(yaml).toContain('subject:\n      type: principal\n      name: ci-bot');
    expect(yaml).toContain('principalName: ci-bot');
    expect(yaml).not.toContain(botId);
    for (const expected of [
      'apiVersion: switchyard.dev/v1',
      'name: web',
      'tools:\n        delete_all:\n          hidden: true\n        echo:\n          name: say',
      'name: writers',
      'id: team-b',
      'permission: mcp:execute',
      'name: no-deletes',
      'name: calls',
      'name: team-templates',
    ]) {
      expect(yaml).toContain(expected);
    }
    // The same configuration gives the same text.
    expect(await exported(a)).toBe(yaml);
  });

  it('promotion: a fresh system refuses a placeholder it has no secret for and changes nothing; with the secret provisioned there, apply reproduces the document', async () => {
    const yaml = await exported(a);
    const refused = await apply(b, yaml);
    expect(refused.error?.message).toMatch(/cannot be applied/);
    expect(refused.plan).toContain('! server sealed: transport.headers.Authorization is "[redacted]"');
    expect(refused.plan).toContain(
      '! grant mcp:execute to principal ci-bot on tool web/echo: no principal named "ci-bot"',
    );
    expect(refused.appended).toBe(false);

    // Each environment holds its own secrets and principals: provisioned there, apply uses them.
    await ok(b, '/api/v1/principals', { name: 'ci-bot', roles: ['reader'] });
    await ok(b, '/api/v1/servers?wait=true', {
      name: 'sealed',
      transport: {
        type: 'sse',
        url: 'http://127.0.0.1:9/sse',
        headers: { Authorization: 'Bearer another-env' },
      },
      enabled: false,
    });
    const applied = await apply(b, yaml);
    expect(applied.error).toBeUndefined();
    expect(applied.plan).toContain('Plan: 9 to create, 0 to change, 0 to remove.');
    expect(applied.plan).toContain('  + server web');
    expect(applied.plan).toContain('  + toolset writers');
    expect(applied.appended).toBe(true);
    expect(await exported(b)).toBe(yaml);
  });

  it('applying the same file twice changes nothing and appends nothing', async () => {
    const yaml = await exported(a);
    const again = await apply(b, yaml);
    expect(again.error).toBeUndefined();
    expect(again.plan).toBe('No changes: the gateway already has this configuration.\n');
    expect(again.appended).toBe(false);
  });

  it('the plan shows exactly the difference after a change; --dry-run applies nothing; without --prune nothing is removed', async () => {
    const yaml = await exported(b);
    const changed = yaml
      .replace('description: what writers need', 'description: what writers need now')
      .replace('callTimeoutMs: 5000', 'callTimeoutMs: 7000')
      .replace(/ {2}- name: calls\n(?: {4}.*\n)+/, '')
      .replace('effect: deny', 'effect: allow');
    expect(changed).not.toContain('name: calls');
    const dry = await apply(b, changed, { dryRun: true });
    expect(dry.error).toBeUndefined();
    expect(dry.plan).toBe(
      [
        'Plan: 0 to create, 3 to change, 0 to remove.',
        '  ~ server web: settings.callTimeoutMs',
        '  ~ toolset writers: description',
        '  ~ policy no-deletes: effect',
        '',
      ].join('\n'),
    );
    expect(dry.appended).toBe(false);

    const applied = await apply(b, changed);
    expect(applied.error).toBeUndefined();
    expect(applied.log).toContain('changed server web');
    expect(applied.appended).toBe(true);
    const after = await exported(b);
    expect(after).toContain('callTimeoutMs: 7000');
    expect(after).toContain('name: calls'); // not removed without --prune
    expect((await apply(b, changed)).plan).toMatch(/^No changes/);

    const pruned = await apply(b, changed, { prune: true });
    expect(pruned.plan, JSON.stringify(pruned.plan)).toBe(
      ['Plan: 0 to create, 0 to change, 1 to remove.', '  - rate limit calls', 'Applied: 1 step.', ''].join(
        '\n',
      ),
    );
    expect(await exported(b)).not.toContain('name: calls');
  });

  it('--prune removes what the file does not name, dependants first', async () => {
    const yaml = await exported(b);
    const only = yaml.replace(/^toolsets:\n(?: {2}.*\n)+/m, 'toolsets: []\n');
    const withoutWeb = only.replace(/ {2}- name: web\n(?: {4}.*\n)+/, '');
    expect(withoutWeb).not.toContain('name: web');
    const pruned = await apply(b, withoutWeb, { prune: true });
    expect(pruned.error).toBeUndefined();
    const removals = pruned.plan.split('\n').filter((l) => l.startsWith('  - '));
    expect(removals).toEqual(['  - toolset writers', '  - server web']);
    const after = await exported(b);
    expect(after).not.toContain('name: web');
    expect(after).not.toContain('name: writers');
    expect(after).toContain('name: sealed');
  });
});

const distributed = hasPostgres() && hasNats();
if (!distributed)
  console.warn('!!! promotion into a distributed system SKIPPED: it needs DATABASE_URL and NATS_URL');

/**
 * Promotion across the two ways to run: a configuration made on an embedded system (PGlite, in-process
 * bus) applied to a distributed one (PostgreSQL, NATS) reproduces the same document there.
 */
describe.skipIf(!distributed)('promotion from an embedded system into a distributed one', () => {
  let embedded: System;
  let remote: System;
  let env: Awaited<ReturnType<typeof distributedTestEnv>>;
  let tmp: string;

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(path.join(tmpdir(), 'switchyard-config-pg-')));
    const common = {
      SWITCHYARD_PORT: '0',
      SWITCHYARD_WORKSPACE: tmp,
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
      SWITCHYARD_SECRET_REFS: 'DEMO_*',
      SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
    };
    env = await distributedTestEnv('config');
    [embedded, remote] = await Promise.all([
      startSystem(parseConfig({ ...common, SWITCHYARD_DATA_DIR: 'memory://' }), silentLogger()),
      startSystem(parseConfig({ ...env.env, ...common }), silentLogger()),
    ]);
    const ok = async (p: string, body: unknown, method = 'POST') => {
      const r = await client(embedded)(p, { method, body });
      expect(r.status, `${p}: ${r.text}`).toBeLessThan(300);
    };
    await ok('/api/v1/servers?wait=true', {
      name: 'files',
      transport: {
        type: 'stdio',
        command: 'node',
        args: ['server.js'],
        env: { API_TOKEN: { secretRef: 'env:DEMO_TOKEN' } },
      },
      settings: { replicas: 2, tools: { write_file: { hidden: true } } },
    });
    await ok(
      '/api/v1/toolsets/readers?wait=true',
      { tools: [{ server: 'files', tool: 'read_file' }] },
      'PUT',
    );
    await ok('/api/v1/tenants', { id: 'team-c', name: 'Team C' });
    await ok('/api/v1/grants', {
      subject: { type: 'tenant', id: 'default' },
      permission: 'mcp:read',
      resource: { type: 'tool', server: 'files', tool: 'read_*' },
    });
    await ok('/api/v1/policies', {
      name: 'office-hours',
      effect: 'deny',
      target: { actions: ['tool.*'] },
      condition: 'false',
    });
    await ok('/api/v1/rate-limits', {
      name: 'per-caller',
      scope: 'principal-tool',
      points: 5,
      windowSeconds: 1,
    });
  }, 180_000);

  afterAll(async () => {
    await Promise.all([embedded?.stop(), remote?.stop()]);
    await env?.drop();
    await rm(tmp, { recursive: true, force: true });
  }, 60_000);

  it('apply reproduces the document; a second apply changes nothing', async () => {
    const exportOf = async (s: System) => {
      const io = buffers();
      await configExport({ url: s.url!, token: TEST_ADMIN_KEY }, io);
      return io.out();
    };
    const yaml = await exportOf(embedded);
    const file = path.join(tmp, 'promote.yaml');
    await writeFile(file, yaml);
    const first = buffers();
    await configApply({ url: remote.url!, token: TEST_ADMIN_KEY, file, yes: true }, first);
    expect(first.out()).toContain('Plan: 6 to create, 0 to change, 0 to remove.');
    expect(await exportOf(remote)).toBe(yaml);
    const second = buffers();
    await configApply({ url: remote.url!, token: TEST_ADMIN_KEY, file, yes: true }, second);
    expect(second.out()).toBe('No changes: the gateway already has this configuration.\n');
  });
});
