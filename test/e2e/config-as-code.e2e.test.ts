import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubSignature } from '../../gateway/webhooks/git-signature.ts';
import {
  adminFetch,
  cleanEnv,
  freePort,
  type Program,
  runCli,
  startProgram,
  until,
  waitForHttp,
} from './program.ts';

const WEBHOOK_SECRET = 'e2e-webhook-secret-0123456789';

/**
 * Configuration as code as an operator meets it: two programs started the way the README says
 * (staging and production, each embedded with its own data), `switchyard export` of one,
 * `switchyard apply` into the other (refused unconfirmed without a terminal, shown with --dry-run,
 * applied with --yes), the same document exported back; and a git host's signed push syncing a
 * template source of the first.
 */
describe('switchyard export and apply against the real program', () => {
  let tmp: string;
  let sources: string;
  const programs: Program[] = [];
  const urls: string[] = [];
  const envs: Array<Record<string, string>> = [];

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'sy-config-e2e-'));
    const workspace = join(tmp, 'workspace');
    sources = join(workspace, 'sources');
    await mkdir(sources, { recursive: true });
    for (const name of ['staging', 'production']) {
      const port = await freePort();
      const env = cleanEnv({
        SWITCHYARD_DATA_DIR: join(tmp, name),
        SWITCHYARD_PORT: String(port),
        SWITCHYARD_URL: `http://127.0.0.1:${port}`,
        SWITCHYARD_WORKSPACE: workspace,
        SWITCHYARD_BUILTIN_TEMPLATES: 'off',
        SWITCHYARD_WEBHOOK_SECRET: WEBHOOK_SECRET,
        SWITCHYARD_LOG_LEVEL: 'warn',
      });
      envs.push(env);
      urls.push(`http://127.0.0.1:${port}`);
      programs.push(startProgram(['start'], env));
    }
    await Promise.all(programs.map((p, i) => waitForHttp(`${urls[i]}/ready`, p, 110_000)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(programs.map((p) => p.stop()));
    await rm(tmp, { recursive: true, force: true });
  });

  const post = async (base: string, path: string, body: unknown, method = 'POST') => {
    const res = await adminFetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBeLessThan(300);
  };

  it('promotes staging to production: plan, confirmation, apply, the same document back', {
    timeout: 120_000,
  }, async () => {
    const [staging, production] = urls as [string, string];
    await post(staging, '/api/v1/servers?wait=true', {
      name: 'docs',
      description: 'documentation search',
      transport: {
        type: 'streamable-http',
        url: 'http://127.0.0.1:9/mcp',
        headers: { Authorization: 'Bearer staging-only-secret' },
      },
      settings: { tools: { purge: { hidden: true } } },
    });
    await post(production, '/api/v1/servers?wait=true', {
      name: 'docs',
      transport: {
        type: 'streamable-http',
        url: 'http://127.0.0.1:9/mcp',
        headers: { Authorization: 'Bearer production-secret' },
      },
    });
    await post(
      staging,
      '/api/v1/toolsets/support?wait=true',
      { tools: [{ server: 'docs', tool: 'search' }] },
      'PUT',
    );
    await post(staging, '/api/v1/policies', {
      name: 'no-purge',
      effect: 'deny',
      target: { actions: ['tool.call'], server: 'docs', tool: 'purge' },
    });

    const file = join(tmp, 'switchyard.yaml');
    const exported = await runCli(['export', '-o', file, '--url', staging], envs[0]!);
    expect(exported.code, exported.stderr).toBe(0);
    const yaml = await readFile(file, 'utf8');
    expect(yaml).not.toContain('staging-only-secret');
    expect(yaml).toContain('Authorization: "[redacted]"');

    const cli = (args: string[]) => runCli([...args, '--url', production], envs[1]!);
    const unconfirmed = await cli(['apply', '-f', file]);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('confirm with --yes');
    const dry = await cli(['apply', '-f', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      [
        'Plan: 2 to create, 1 to change, 0 to remove.',
        // The transport is no difference: the placeholder keeps production's own secret.
        '  ~ server docs: description, settings.tools',
        '  + toolset support',
        '  + policy no-purge',
        '',
      ].join('\n'),
    );
    const applied = await cli(['apply', '-f', file, '--yes']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Applied: 3 steps.');
    expect((await cli(['export'])).stdout).toBe(yaml);
    expect((await cli(['apply', '-f', file, '--yes'])).stdout).toBe(
      'No changes: the gateway already has this configuration.\n',
    );
  });

  it('a signed push syncs a template source; an unsigned one is refused', { timeout: 60_000 }, async () => {
    const staging = urls[0]!;
    await post(staging, '/api/v1/template-sources', { name: 'team', kind: 'directory', location: sources });
    // A registration is synced at once, in the background: the template arrives only after that
    // sync, so that it is the push that brings it.
    await until(async () => {
      const res = await adminFetch(`${staging}/api/v1/template-sources/team`);
      const source = (await res.json()) as { lastSyncedAt?: string | null };
      return source.lastSyncedAt ? true : undefined;
    });
    await mkdir(join(sources, 'pushed'));
    await writeFile(
      join(sources, 'pushed', 'template.yaml'),
      'name: pushed\nversion: 1.0.0\nstack: node\ndescription: Arrived with a push\nvariables:\n  projectName:\n    type: string\n    required: true\n',
    );
    await writeFile(join(sources, 'pushed', 'README.md.njk'), '# {{ projectName }}\n');
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const hook = (headers: Record<string, string>) =>
      fetch(`${staging}/api/v1/template-sources/team/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await hook({})).status).toBe(401);
    const signed = await hook({
      'x-hub-signature-256': githubSignature(WEBHOOK_SECRET, body),
      'x-github-event': 'push',
    });
    expect(signed.status).toBe(200);
    const answer = (await signed.json()) as { reports: Array<{ published: string[] }> };
    expect(answer.reports[0]!.published).toEqual(['pushed']);
  });
});
