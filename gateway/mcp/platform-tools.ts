import type {
  CallToolResult,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { DeploymentUseCases } from '../../application/deployments/deployments.ts';
import {
  type DeploymentOutcome,
  type DeploymentUpdate,
  describeUpdate,
} from '../../application/deployments/follow.ts';
import type { Action, Authorizer } from '../../domains/access/index.ts';
import { RequestDeploymentInput } from '../../domains/deployments/index.ts';
import { parseRegistration, upstreamToolName } from '../../domains/servers/index.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { randomIds } from '../../kernel/ids.ts';
import type { Principal } from '../../kernel/principal.ts';
import {
  AnalyzeCodeInput,
  GenerateProjectInput,
  InspectTemplateInput,
  SearchTemplatesInput,
  SyncTemplatesInput,
  ValidateTemplateInput,
} from '../../templates/inputs.ts';
import type { OperationContext, TemplateService } from '../../templates/service.ts';
import { toToolErrorResult } from '../error-mapping.ts';
import type { ServerCommandsPort } from '../ports.ts';
import { actorMeta, tenantScopeOf } from '../request-context.ts';
import { exposureOf } from './aggregate-names.ts';
import type { CatalogServer, CatalogSource } from './catalog-source.ts';
import { defaultNaming, type Naming, type PrefixMode } from './names.ts';
import { SearchToolsInput, searchTools } from './search-tools.ts';

/** Who calls a platform tool, and where its progress goes. */
export interface PlatformCallContext {
  principal: Principal;
  correlationId: string;
  traceparent?: string | undefined;
  onProgress?: OperationContext['onProgress'];
  signal?: AbortSignal | undefined;
  /** The prefix mode of the endpoint calling (search-tools answers names as that endpoint has them). */
  prefix?: PrefixMode | undefined;
}

/**
 * The platform's own tools and resources: the registry and the template catalog, for agents. The
 * names here are bare (`template-search`); the aggregate endpoint shows them under the platform's
 * prefix (`switchyard__template-search`), the platform endpoint (`/platform/mcp`) as they are.
 */
export interface PlatformTools {
  /** The tools this principal may call (listed = callable). */
  tools(principal: Principal): Tool[];
  /** Whether a tool of that name exists and this principal may see it. */
  has(name: string, principal: Principal): boolean;
  /** The action a call of the tool with these arguments is (for the step-up check at the edge). */
  actionOf(name: string, args: Record<string, unknown>): Action | undefined;
  call(name: string, args: Record<string, unknown>, context: PlatformCallContext): Promise<CallToolResult>;
  resources(principal: Principal): Resource[];
  resourceTemplates(principal: Principal): ResourceTemplate[];
  /** undefined when the URI is not one of the platform's (or not one this principal may read). */
  readResource(uri: string, principal: Principal): Promise<ReadResourceResult | undefined>;
}

export interface PlatformToolDeps {
  authz: Authorizer;
  /** The servers a principal's tenant scope holds (each still decided with server.read). */
  listServers: (principal: Principal) => Promise<Array<{ name: string; tenant: string; owner: string }>>;
  /** Absent where this process cannot register servers. */
  servers?: ServerCommandsPort | undefined;
  /** Absent where this process has no template catalog. */
  templates?: TemplateService | undefined;
  /** The servers' catalogs, for search-tools; absent: no search-tools. */
  catalog?: Pick<CatalogSource, 'enabledServers'> | undefined;
  /** How the aggregate endpoint names tools (search-tools answers names to call them by). */
  naming?: Naming | undefined;
  /** Absent where this process cannot request deployments: no deploy-server. */
  deployments?:
    | (Pick<DeploymentUseCases, 'request'> & {
        /** Follows a deployment's stream until it ends (undefined: `signal` ended the following). */
        follow(
          deploymentId: string,
          onUpdate: (u: DeploymentUpdate) => void,
          signal: AbortSignal | undefined,
        ): Promise<DeploymentOutcome | undefined>;
      })
    | undefined;
}

interface ToolDef {
  tool: Tool;
  /** What calling it is, for authorization; it may depend on the arguments. */
  action: Action | ((args: Record<string, unknown>) => Action);
  run: (args: Record<string, unknown>, ctx: PlatformCallContext) => Promise<unknown>;
}

/** JSON Schema of an input for tools/list; refinements (either/or) are checked on call. */
function inputSchema(schema: z.ZodType): Tool['inputSchema'] {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { type: 'object', ...json } as Tool['inputSchema'];
}

const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

export function createPlatformTools(deps: PlatformToolDeps): PlatformTools {
  const defs: ToolDef[] = [
    {
      tool: {
        name: 'list-servers',
        title: 'List MCP servers',
        description:
          'Lists the MCP servers registered in Switchyard: name, transport, enabled, health and tags.',
        inputSchema: { type: 'object', properties: {} },
        annotations: readOnly,
      },
      action: 'server.list',
      run: async (_args, ctx) => ({
        servers: (await deps.listServers(ctx.principal)).filter(
          (s) =>
            deps.authz.decide(ctx.principal, 'server.read', {
              kind: 'server',
              tenant: s.tenant,
              server: s.name,
              owner: s.owner,
            }).effect === 'allow',
        ),
      }),
    },
  ];
  const catalog = deps.catalog;
  if (catalog) {
    const naming = deps.naming ?? defaultNaming;
    defs.push({
      tool: {
        name: 'search-tools',
        title: 'Search tools',
        description:
          'Finds tools by words across every MCP server you may call — in their names, titles, descriptions and server names — best match first. Each match gives the name to call it by on this endpoint, its description and its input schema: for clients that load tools as they need them.',
        inputSchema: inputSchema(SearchToolsInput),
        annotations: readOnly,
      },
      action: 'server.list',
      run: async (args, ctx) => {
        const { query, limit = 10 } = SearchToolsInput.parse(args);
        const asServer = (s: CatalogServer) =>
          ({ kind: 'server', tenant: s.tenant, server: s.name, owner: s.owner }) as const;
        const visible = (await catalog.enabledServers()).filter(
          (s) => deps.authz.decide(ctx.principal, 'server.read', asServer(s)).visible,
        );
        const names = exposureOf(
          naming,
          ctx.prefix ?? naming.prefix,
          visible,
          'tools',
          `switchyard${naming.separator}`,
        );
        const tools = searchTools(visible, query, limit, {
          mayCall: (s, tool) =>
            deps.authz.decide(
              ctx.principal,
              'tool.call',
              { ...asServer(s), kind: 'tool', tool: upstreamToolName(s.toolOrigins, tool) },
              { phase: 'list' },
            ).effect === 'allow',
          nameOf: names.nameOf,
        });
        return { query, tools };
      },
    });
  }
  const servers = deps.servers;
  if (servers) {
    defs.push({
      tool: {
        name: 'register-server',
        title: 'Register an MCP server',
        description:
          'Registers an MCP server with Switchyard: a name, a transport ({type:"stdio", command, args, env, cwd} or {type:"streamable-http"|"sse", url, headers, query}; keys in headers and query are encrypted, never put them in the URL), tags and settings. Its tools appear on /mcp once discovered.',
        inputSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'a-z, 0-9, "_" or "-"; becomes the tool prefix' },
            description: { type: 'string' },
            transport: {
              type: 'object',
              description: 'stdio: {type, command, args, env, cwd}; http: {type, url, headers, query}',
            },
            tags: { type: 'array', items: { type: 'string' } },
            enabled: { type: 'boolean' },
            settings: { type: 'object' },
          },
          required: ['name', 'transport'],
        },
        annotations: {
          readOnlyHint: false,
          destructiveHint: false,
          idempotentHint: false,
          openWorldHint: true,
        },
      },
      action: (args) =>
        (args.transport as { type?: unknown } | undefined)?.type === 'stdio'
          ? 'server.register-stdio'
          : 'server.register',
      run: async (args, ctx) => {
        const r = await servers.register(parseRegistration(args), meta(ctx));
        return { serverId: r.id, stream: r.stream, revision: r.revision.toString(), duplicate: r.duplicate };
      },
    });
  }
  const deployments = deps.deployments;
  if (deployments) {
    defs.push({
      tool: {
        name: 'deploy-server',
        title: 'Deploy an MCP server',
        description:
          'Builds and runs a version of an MCP server and puts it behind a server name: source {project: id}, {template, version?, variables?}, {directory: workspace path} or {npm, version}; build, start (replicas), health gate (expected tools, optional smoke call), switch, drain. A failure at any step undoes what the deployment did and leaves the previous revision serving. With a progressToken the call reports each step as progress and returns when the deployment ends (status succeeded or rolled-back, with the reason); without one it returns at once with the deployment id (follow it at GET /api/v1/deployments/<id>).',
        inputSchema: inputSchema(RequestDeploymentInput),
        annotations: {
          readOnlyHint: false,
          destructiveHint: true,
          idempotentHint: false,
          openWorldHint: true,
        },
      },
      action: 'deployment.create',
      run: async (args, ctx) => {
        const accepted = await deployments.request(RequestDeploymentInput.parse(args), meta(ctx));
        const answer = {
          deploymentId: accepted.deploymentId,
          stream: accepted.stream,
          revision: accepted.revision.toString(),
          duplicate: accepted.duplicate,
        };
        const onProgress = ctx.onProgress;
        // No progressToken: the client cannot be told how it goes, and a deployment may take
        // minutes — answer now rather than hold a silent call open.
        if (!onProgress) return { ...answer, status: 'running' };
        let n = 0;
        const outcome = await deployments.follow(
          accepted.deploymentId,
          (u) => onProgress({ progress: ++n, message: describeUpdate(u) }),
          ctx.signal,
        );
        if (!outcome) return { ...answer, status: 'running' };
        const { type, at: _at, deploymentId: _id, ...rest } = outcome;
        return { ...answer, status: type, ...rest };
      },
    });
  }
  const t = deps.templates;
  if (t) {
    const op = (ctx: PlatformCallContext): OperationContext => ({
      ...actorMeta(ctx.principal),
      scope: tenantScopeOf(ctx.principal),
      correlationId: ctx.correlationId,
      traceparent: ctx.traceparent,
      onProgress: ctx.onProgress,
      signal: ctx.signal,
    });
    defs.push(
      {
        tool: {
          name: 'template-search',
          title: 'Search project templates',
          description:
            'Full-text search of the template catalog over name, description, tags and stack (prefix matching: "fast" finds fastify). Empty query lists everything.',
          inputSchema: inputSchema(SearchTemplatesInput),
          annotations: readOnly,
        },
        action: 'template.read',
        run: async (args, ctx) => ({ templates: await t.search(args, tenantScopeOf(ctx.principal)) }),
      },
      {
        tool: {
          name: 'template-inspect',
          title: 'Inspect a template',
          description:
            "A template's manifest, variables (type, default, pattern, required), file tree and versions.",
          inputSchema: inputSchema(InspectTemplateInput),
          annotations: readOnly,
        },
        action: 'template.read',
        run: (args, ctx) => t.inspect(args, tenantScopeOf(ctx.principal)),
      },
      {
        tool: {
          name: 'validate-template',
          title: 'Validate a template',
          description:
            'Checks a catalog template ({template, version?}) or a template directory under the workspace ({path}): manifest schema, every variable used is declared, it renders with its defaults, no path escapes the output, size limits. The result is recorded.',
          inputSchema: inputSchema(ValidateTemplateInput),
          annotations: {
            readOnlyHint: false,
            destructiveHint: false,
            idempotentHint: true,
            openWorldHint: false,
          },
        },
        action: 'template.validate',
        run: (args, ctx) => t.validate(args, op(ctx)),
      },
      {
        tool: {
          name: 'generate-project',
          title: 'Generate a project from a template',
          description:
            'Renders a template version with variables into a destination under the workspace root, atomically. Refuses paths outside the root, a non-empty destination (unless overwrite), and variables that fail their schema. Reports progress.',
          inputSchema: inputSchema(GenerateProjectInput),
          annotations: {
            readOnlyHint: false,
            destructiveHint: true,
            idempotentHint: false,
            openWorldHint: false,
          },
        },
        action: 'project.generate',
        run: (args, ctx) => t.generate(args, op(ctx)),
      },
      {
        tool: {
          name: 'preview-project',
          title: 'Preview a project generation',
          description:
            'What generate-project would write, without writing or recording anything: the files (path, size, sha256), the variables as they would be recorded, and whether the destination is taken. Checks the same things generate-project checks.',
          inputSchema: inputSchema(GenerateProjectInput),
          annotations: readOnly,
        },
        action: 'project.preview',
        run: (args, ctx) => t.preview(args, op(ctx)),
      },
      {
        tool: {
          name: 'analyze-code',
          title: 'Analyse code',
          description:
            'Files and lines by language and cyclomatic complexity (ESLint) of a generated project ({projectId}) or any path under the workspace root ({path}). The report is recorded and readable later as analysis://report/{id}.',
          inputSchema: inputSchema(AnalyzeCodeInput),
          annotations: {
            readOnlyHint: false,
            destructiveHint: false,
            idempotentHint: false,
            openWorldHint: false,
          },
        },
        action: 'project.analyze',
        run: (args, ctx) => t.analyze(args, op(ctx)),
      },
      {
        tool: {
          name: 'sync-templates',
          title: 'Sync template sources',
          description:
            'Fetches one template source ({source}) or all of them, publishes what changed and removes what is gone. Nothing changed: nothing recorded. Reports progress.',
          inputSchema: inputSchema(SyncTemplatesInput),
          annotations: {
            readOnlyHint: false,
            destructiveHint: false,
            idempotentHint: true,
            openWorldHint: true,
          },
        },
        action: 'templatesource.manage',
        run: async (args, ctx) => ({ reports: await t.sync(args, op(ctx)) }),
      },
    );
  }
  const byName = new Map(defs.map((d) => [d.tool.name, d]));
  const actionOf = (def: ToolDef, args: Record<string, unknown>) =>
    typeof def.action === 'function' ? def.action(args) : def.action;
  const tenantOf = (p: Principal) => ({ kind: 'tenant', tenant: p.tenant }) as const;
  // Listed = callable: a tool whose action depends on its arguments is listed when its plainest form is allowed.
  const visible = (def: ToolDef, p: Principal) =>
    deps.authz.decide(p, actionOf(def, {}), tenantOf(p), { phase: 'list' }).effect === 'allow';
  const may = (action: Action, p: Principal) =>
    deps.authz.decide(p, action, tenantOf(p), { phase: 'list' }).effect === 'allow';

  return {
    tools: (p) => defs.filter((d) => visible(d, p)).map((d) => d.tool),
    has: (name, p) => {
      const def = byName.get(name);
      return def !== undefined && visible(def, p);
    },
    actionOf: (name, args) => {
      const def = byName.get(name);
      return def ? actionOf(def, args) : undefined;
    },
    async call(name, args, ctx) {
      const def = byName.get(name);
      if (!def) return { content: [{ type: 'text', text: `unknown platform tool ${name}` }], isError: true };
      try {
        deps.authz.require(ctx.principal, actionOf(def, args), tenantOf(ctx.principal), { args });
        const result = await def.run(args, ctx);
        return {
          content: [{ type: 'text', text: JSON.stringify(result, bigints, 2) }],
          structuredContent: JSON.parse(JSON.stringify(result, bigints)) as Record<string, unknown>,
        };
      } catch (e) {
        return toToolErrorResult(e);
      }
    },
    resources: (p) =>
      t && may('template.read', p)
        ? [
            {
              uri: 'template://catalog',
              name: 'template-catalog',
              title: 'Template catalog',
              description: 'Every template in the catalog: name, version, stack, description, tags.',
              mimeType: 'application/json',
            },
            {
              uri: 'template://stacks',
              name: 'template-stacks',
              title: 'Template stacks',
              description: 'The stacks of the catalog and their templates.',
              mimeType: 'application/json',
            },
          ]
        : [],
    resourceTemplates: (p) =>
      t && may('project.read', p)
        ? [
            {
              uriTemplate: 'project://generated/{id}',
              name: 'generated-project',
              title: 'A generated project',
              description:
                'What generate-project recorded: template version, variables (secrets redacted), files and hashes.',
              mimeType: 'application/json',
            },
            {
              uriTemplate: 'analysis://report/{id}',
              name: 'analysis-report',
              title: 'A code analysis report',
              description: 'Lines by language and complexity, as analyze-code recorded them.',
              mimeType: 'application/json',
            },
          ]
        : [],
    async readResource(uri, p) {
      if (!t) return undefined;
      const action: Action = uri.startsWith('template://') ? 'template.read' : 'project.read';
      if (!may(action, p)) return undefined;
      const json = (value: unknown): ReadResourceResult => ({
        contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(value, bigints, 2) }],
      });
      const scope = tenantScopeOf(p);
      if (uri === 'template://catalog') return json(await t.catalog(scope));
      if (uri === 'template://stacks') return json({ stacks: await t.stacks(scope) });
      const project = /^project:\/\/generated\/([0-9a-fA-F-]{36})$/.exec(uri);
      if (project) return json(await t.projects.get(project[1]!, scope));
      const analysis = /^analysis:\/\/report\/([0-9a-fA-F-]{36})$/.exec(uri);
      if (analysis) return json(await t.analyses.get(analysis[1]!, scope));
      return undefined;
    },
  };
}

function meta(ctx: PlatformCallContext): CommandMeta {
  return {
    ...actorMeta(ctx.principal),
    commandId: randomIds.uuid(),
    correlationId: ctx.correlationId,
    traceparent: ctx.traceparent,
    issuedAt: new Date(),
  };
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
