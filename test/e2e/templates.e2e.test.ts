import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth } from '../access.ts';
import { cleanEnv, freePort, type Program, startProgram, waitForHttp } from './program.ts';

const run = promisify(execFile);

/**
 * The whole template story as a user lives it, against the real program started the way the
 * README says: the built-in templates are synced on first start; an MCP client finds the MCP
 * server template, generates a project with progress, the project is installed and built with
 * npm, registered in Switchyard through the platform tool, and its tools are called through /mcp.
 */
describe('templates end to end: generate an MCP server, install it, register it, call it', () => {
  let program: Program;
  let base: string;
  let dataDir: string;
  let workspace: string;
  const clients: Client[] = [];

  const connect = async (path: string) => {
    const client = new Client({ name: 'templates-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: adminAuth } }),
    );
    clients.push(client);
    return client;
  };
  const json = (r: unknown) => (r as CallToolResult).structuredContent as Record<string, unknown>;
  const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sy-tpl-data-'));
    workspace = await mkdtemp(join(tmpdir(), 'sy-tpl-ws-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    program = startProgram(
      ['start'],
      cleanEnv({
        SWITCHYARD_DATA_DIR: dataDir,
        SWITCHYARD_WORKSPACE: workspace,
        SWITCHYARD_PORT: String(port),
        SWITCHYARD_LOG_LEVEL: 'warn',
      }),
    );
    await waitForHttp(`${base}/ready`, program);
  }, 90_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await program?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(workspace, { recursive: true, force: true });
  });

  it('runs the user journey through /mcp', { timeout: 240_000 }, async () => {
    const mcp = await connect('/mcp');
    const names = (await mcp.listTools()).tools.map((t) => t.name);
    for (const tool of [
      'template-search',
      'template-inspect',
      'validate-template',
      'generate-project',
      'analyze-code',
      'sync-templates',
      'register-server',
      'list-servers',
    ]) {
      expect(names).toContain(`switchyard__${tool}`);
    }

    // The built-in templates were synced on first start.
    let found: Array<{ name: string; stack: string }> = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = await mcp.callTool({
        name: 'switchyard__template-search',
        arguments: { query: 'mcp server' },
      });
      found = json(r).templates as typeof found;
      if (found.some((t) => t.name === 'mcp-server-ts')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(found.map((t) => t.name)).toContain('mcp-server-ts');
    const all = json(await mcp.callTool({ name: 'switchyard__template-search', arguments: {} }))
      .templates as Array<{
      name: string;
    }>;
    expect(all.map((t) => t.name)).toEqual(
      expect.arrayContaining(['mcp-server-ts', 'fastify-service', 'cli-tool']),
    );

    const inspected = json(
      await mcp.callTool({ name: 'switchyard__template-inspect', arguments: { name: 'mcp-server-ts' } }),
    );
    expect(JSON.stringify(inspected)).toContain('projectName');

    // Preview: the files it would write, nothing written, nothing recorded.
    const preview = json(
      await mcp.callTool({
        name: 'switchyard__preview-project',
        arguments: {
          template: 'mcp-server-ts',
          destination: 'apps/calc',
          variables: { projectName: 'calc' },
        },
      }),
    ) as { files: Array<{ path: string }>; destinationInUse: boolean };
    expect(preview.files.map((f) => f.path)).toContain('package.json');
    expect(preview.destinationInUse).toBe(false);
    await expect(stat(join(workspace, 'apps/calc'))).rejects.toThrow();

    // Generate, with progress notifications.
    const progress: number[] = [];
    const generated = await mcp.callTool(
      {
        name: 'switchyard__generate-project',
        arguments: {
          template: 'mcp-server-ts',
          destination: 'apps/calc',
          variables: { projectName: 'calc', description: 'A calculator over MCP' },
        },
      },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect((generated as CallToolResult).isError, text(generated)).toBeFalsy();
    const project = json(generated) as { projectId: string; destination: string; files: unknown[] };
    expect(project.destination).toBe('apps/calc');
    expect(progress.length).toBeGreaterThan(0);
    const dir = join(workspace, 'apps/calc');
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).name).toBe('calc');

    // Refused: a second generation into the same, now non-empty, destination; and an escape.
    const again = await mcp.callTool({
      name: 'switchyard__generate-project',
      arguments: { template: 'mcp-server-ts', destination: 'apps/calc', variables: { projectName: 'calc' } },
    });
    expect((again as CallToolResult).isError).toBe(true);
    expect(text(again)).toContain('WORKSPACE.DESTINATION_NOT_EMPTY');
    const outside = await mcp.callTool({
      name: 'switchyard__generate-project',
      arguments: { template: 'mcp-server-ts', destination: '../outside', variables: { projectName: 'calc' } },
    });
    expect((outside as CallToolResult).isError).toBe(true);
    await expect(stat(join(workspace, '..', 'outside'))).rejects.toThrow();

    // Install and build it, as its README says.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      timeout: 180_000,
    });
    await run('npm', ['run', 'build'], { cwd: dir, timeout: 120_000 });

    // Register it through the platform tool, and call its tools through the gateway.
    const registered = await mcp.callTool({
      name: 'switchyard__register-server',
      arguments: {
        name: 'calc',
        transport: { type: 'stdio', command: process.execPath, args: [join(dir, 'dist/index.js')] },
      },
    });
    expect((registered as CallToolResult).isError, text(registered)).toBeFalsy();
    const until = Date.now() + 60_000;
    let tools: string[] = [];
    while (Date.now() < until) {
      tools = (await mcp.listTools()).tools.map((t) => t.name);
      if (tools.includes('calc__add')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(tools).toContain('calc__add');
    const sum = await mcp.callTool({ name: 'calc__add', arguments: { a: 40, b: 2 } });
    expect(JSON.stringify(sum)).toContain('42');

    // Analyse it, then read the report and the project as resources.
    const analysis = json(
      await mcp.callTool({ name: 'switchyard__analyze-code', arguments: { projectId: project.projectId } }),
    ) as { analysisId: string; languages: Array<{ language: string }> };
    expect(analysis.languages.map((l) => l.language)).toContain('TypeScript');
    const report = await mcp.readResource({ uri: `analysis://report/${analysis.analysisId}` });
    expect((report.contents[0] as { text: string }).text).toContain('TypeScript');
    const recorded = await mcp.readResource({ uri: `project://generated/${project.projectId}` });
    expect((recorded.contents[0] as { text: string }).text).toContain('mcp-server-ts');
  });

  it('offers the same operations on the platform-only endpoint, with bare names and resources', async () => {
    const platform = await connect('/platform/mcp');
    const names = (await platform.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        'analyze-code',
        'deploy-server',
        'generate-project',
        'list-servers',
        'preview-project',
        'register-server',
        'search-tools',
        'sync-templates',
        'template-inspect',
        'template-search',
        'validate-template',
      ].sort(),
    );
    const resources = (await platform.listResources()).resources.map((r) => r.uri);
    expect(resources).toEqual(expect.arrayContaining(['template://catalog', 'template://stacks']));
    const templates = (await platform.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toEqual(expect.arrayContaining(['project://generated/{id}', 'analysis://report/{id}']));
    const stacks = await platform.readResource({ uri: 'template://stacks' });
    expect((stacks.contents[0] as { text: string }).text).toContain('typescript-mcp');
    const validation = json(
      await platform.callTool({ name: 'validate-template', arguments: { template: 'fastify-service' } }),
    );
    expect(validation.ok).toBe(true);
    const syncProgress: string[] = [];
    const sync = json(
      await platform.callTool({ name: 'sync-templates', arguments: { source: 'builtin' } }, undefined, {
        onprogress: (p) => syncProgress.push(p.message ?? ''),
      }),
    );
    expect((sync.reports as Array<{ changed: boolean }>)[0]?.changed).toBe(false);
    expect(syncProgress.join('\n')).toContain('builtin');
    const bad = await platform.callTool({
      name: 'template-inspect',
      arguments: { name: 'no-such-template' },
    });
    expect((bad as CallToolResult).isError).toBe(true);
    expect(text(bad)).toContain('TEMPLATE.NOT_FOUND');
  });
});
