import { resolve } from 'node:path';
import { Command } from 'commander';
import type { TemplateDetail, TemplateSourceView, TemplateSummary } from '../projections/templates/index.ts';
import type { SyncReport } from '../sagas/template-sync/sync-source.ts';
import { UsageError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { authorizedFetch } from './http-client.ts';
import { type CliIo as BaseIo, type Exit, printJson, run } from './io.ts';
import { progressReporter } from './progress.ts';
import { type TemplatesClient, templatesClient } from './templates.client.ts';
import {
  type AnalysisAnswer,
  formatAnalysis,
  formatDetail,
  formatGenerated,
  formatNoResults,
  formatSearch,
  formatSources,
  formatSyncReports,
  formatValidation,
  type GeneratedProject,
  type ValidationAnswer,
} from './templates.format.ts';

/** Where a command writes, and (in tests) the client it uses. */
export interface CliIo extends BaseIo {
  /** The gateway client; made from `--url` and the credential when absent. */
  client?: TemplatesClient;
}

interface Common extends GatewayOptions {
  json?: boolean;
}
interface Quiet {
  quiet?: boolean;
}

async function clientOf(opts: Common, io: CliIo): Promise<TemplatesClient> {
  if (io.client) return io.client;
  const gateway = await gatewayOf(opts);
  return templatesClient(gateway.url, authorizedFetch(gateway));
}
const segment = encodeURIComponent;

// --- search / show --------------------------------------------------------------------------

export async function templatesSearch(
  words: string[],
  opts: Common & { stack?: string; tag?: string; limit?: string },
  io: CliIo,
): Promise<Exit> {
  const limit = opts.limit === undefined ? undefined : positiveInt('--limit', opts.limit);
  const client = await clientOf(opts, io);
  const { items: templates } = await client.get<{ items: TemplateSummary[] }>('/api/v1/templates', {
    q: words.length > 0 ? words.join(' ') : undefined,
    stack: opts.stack,
    tag: opts.tag,
    limit: limit === undefined ? undefined : String(limit),
  });
  if (opts.json) printJson(io, templates);
  else if (templates.length === 0) {
    io.stdout.write(formatNoResults({ words, stack: opts.stack, tag: opts.tag }));
  } else io.stdout.write(formatSearch(templates));
  return 0;
}

export async function templatesShow(name: string, opts: Common, io: CliIo): Promise<Exit> {
  const client = await clientOf(opts, io);
  const t = await client.get<TemplateDetail>(`/api/v1/templates/${segment(name)}`);
  io.stdout.write(opts.json ? `${JSON.stringify(t, null, 2)}\n` : formatDetail(t));
  return 0;
}

// --- long operations ------------------------------------------------------------------------

const progressFor = (label: string, opts: Common & Quiet, io: CliIo) =>
  progressReporter({ stream: io.stderr, label, quiet: opts.quiet });

/** Every source, or one; exits 1 when a source could not be read. */
export async function templatesSync(
  source: string | undefined,
  opts: Common & Quiet,
  io: CliIo,
): Promise<Exit> {
  const client = await clientOf(opts, io);
  const { reports } = await client.operation<{ reports: SyncReport[] }>(
    source === undefined ? '/api/v1/templates/sync' : `/api/v1/template-sources/${segment(source)}/sync`,
    {},
    progressFor('sync', opts, io),
  );
  if (opts.json) printJson(io, reports);
  else io.stdout.write(formatSyncReports(reports));
  return reports.some((r) => r.error !== undefined || !r.ok) ? 1 : 0;
}

export async function templatesGenerate(
  template: string,
  destination: string,
  opts: Common & Quiet & { var?: string[]; version?: string; overwrite?: boolean },
  io: CliIo,
): Promise<Exit> {
  const variables = parseVars(opts.var ?? []);
  const client = await clientOf(opts, io);
  const project = await client.operation<GeneratedProject>(
    '/api/v1/projects',
    {
      template,
      destination,
      ...(Object.keys(variables).length > 0 && { variables }),
      ...(opts.version !== undefined && { version: opts.version }),
      ...(opts.overwrite && { overwrite: true }),
    },
    progressFor('generate', opts, io),
  );
  if (opts.json) printJson(io, project);
  else io.stdout.write(formatGenerated(project));
  return 0;
}

export async function templatesAnalyze(
  path: string | undefined,
  opts: Common & Quiet & { project?: string },
  io: CliIo,
): Promise<Exit> {
  if ((path === undefined) === (opts.project === undefined)) {
    throw new UsageError('give either a path (under the gateway workspace) or --project <id>');
  }
  const client = await clientOf(opts, io);
  const analysis = await client.operation<AnalysisAnswer>(
    '/api/v1/analyses',
    path === undefined ? { projectId: opts.project } : { path },
    progressFor('analyze', opts, io),
  );
  if (opts.json) printJson(io, analysis);
  else io.stdout.write(formatAnalysis(analysis));
  return 0;
}

/** A catalog template or a directory in the gateway's workspace; exits 1 when it is not valid. */
export async function templatesValidate(
  template: string | undefined,
  opts: Common & { version?: string; path?: string },
  io: CliIo,
): Promise<Exit> {
  if ((template === undefined) === (opts.path === undefined)) {
    throw new UsageError('give either a template name or --path <dir> (under the gateway workspace)');
  }
  if (opts.path !== undefined && opts.version !== undefined) {
    throw new UsageError('--version is for catalog templates, not --path');
  }
  const client = await clientOf(opts, io);
  const v =
    template === undefined
      ? await client.send<ValidationAnswer>('POST', '/api/v1/templates/validate', { path: opts.path })
      : await client.send<ValidationAnswer>(
          'POST',
          `/api/v1/templates/${segment(template)}/validate`,
          opts.version === undefined ? {} : { version: opts.version },
        );
  if (opts.json) printJson(io, v);
  else io.stdout.write(formatValidation(v));
  return v.ok ? 0 : 1;
}

// --- sources --------------------------------------------------------------------------------

export async function templatesSources(opts: Common, io: CliIo): Promise<Exit> {
  const client = await clientOf(opts, io);
  const { items: sources } = await client.get<{ items: TemplateSourceView[] }>('/api/v1/template-sources');
  if (opts.json) printJson(io, sources);
  else io.stdout.write(formatSources(sources));
  return 0;
}

export async function templatesAddSource(
  name: string,
  opts: Common & { dir?: string; git?: string; ref?: string; intervalMs?: string; replace?: boolean },
  io: CliIo,
): Promise<Exit> {
  if ((opts.dir === undefined) === (opts.git === undefined)) {
    throw new UsageError('give either --dir <path> or --git <url>');
  }
  if (opts.ref !== undefined && opts.git === undefined) throw new UsageError('--ref is for --git sources');
  const body = {
    name,
    // The gateway reads the directory: a relative path means the one the user is standing in.
    ...(opts.dir !== undefined
      ? { kind: 'directory', location: resolve(opts.dir) }
      : { kind: 'git', location: opts.git }),
    ...(opts.ref !== undefined && { ref: opts.ref }),
    ...(opts.intervalMs !== undefined && { intervalMs: positiveInt('--interval-ms', opts.intervalMs) }),
    ...(opts.replace && { replace: true }),
  };
  const client = await clientOf(opts, io);
  const answer = await client.send<unknown>('POST', '/api/v1/template-sources', body);
  if (opts.json) printJson(io, answer);
  else {
    io.stdout.write(
      `${opts.replace ? 'updated' : 'registered'} template source ${name} (${body.kind} ${body.location})\n` +
        'it is synced in the background; `switchyard templates sync ' +
        `${name}\` syncs it now and shows what it found\n`,
    );
  }
  return 0;
}

export async function templatesRemoveSource(name: string, opts: Common, io: CliIo): Promise<Exit> {
  const client = await clientOf(opts, io);
  const answer = await client.send<unknown>('DELETE', `/api/v1/template-sources/${segment(name)}`);
  if (opts.json) printJson(io, answer);
  else io.stdout.write(`removed template source ${name}; its templates left the catalog\n`);
  return 0;
}

// --- arguments ------------------------------------------------------------------------------

/**
 * `--var key=value` pairs. The value is everything after the first `=` (so `a==b` gives "=b") and
 * stays a string: the gateway coerces it to the variable's declared type. A later pair wins.
 */
export function parseVars(pairs: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq === -1) throw new UsageError(`--var ${pair}: expected key=value`);
    const key = pair.slice(0, eq).trim();
    if (!key) throw new UsageError(`--var ${pair}: the key before "=" is empty`);
    vars[key] = pair.slice(eq + 1);
  }
  return vars;
}

function positiveInt(option: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${option} must be a positive integer, not ${JSON.stringify(value)}`);
  }
  return n;
}

// --- wiring ---------------------------------------------------------------------------------

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `switchyard templates …`: the template catalog, project generation and code analysis. */
export function templatesCommand(): Command {
  const templates = new Command('templates')
    .description('search, inspect and sync templates; generate projects; analyse code (through a gateway)')
    .showHelpAfterError()
    // A bad option or a missing argument is a usage error: exit 2, not 1.
    .exitOverride((e) => process.exit(e.exitCode === 1 ? 2 : e.exitCode));

  const sub = (name: string, description: string) =>
    withGatewayOptions(templates.command(name).description(description));

  sub('search', 'find templates by words in their name, stack, tags and description')
    .argument('[words...]', 'words to look for (each matches as a prefix)')
    .option('--stack <stack>', 'only this stack')
    .option('--tag <tag>', 'only templates with this tag')
    .option('--limit <n>', 'at most n results (1-100, default 20)')
    .option('--json', 'print JSON')
    .action((words: string[], opts) => run((io) => templatesSearch(words, opts, io)));

  sub('show', "a template's manifest, variables, files and versions")
    .argument('<name>', 'template name')
    .option('--json', 'print JSON')
    .action((name: string, opts) => run((io) => templatesShow(name, opts, io)));

  sub('sync', 'sync every template source (or one) now, and report what changed')
    .argument('[source]', 'one source')
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'no progress')
    .action((source: string | undefined, opts) => run((io) => templatesSync(source, opts, io)));

  sub('generate', 'generate a project from a template into the gateway workspace')
    .argument('<template>', 'template name')
    .argument('<destination>', 'directory, relative to the gateway workspace')
    .option('--var <key=value>', 'a template variable (repeatable)', collect)
    .option('--version <version>', 'template version (default: the current one)')
    .option('--overwrite', 'replace a non-empty destination')
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'no progress')
    .action((template: string, destination: string, opts) =>
      run((io) => templatesGenerate(template, destination, opts, io)),
    );

  sub('validate', 'validate a catalog template or a template directory; exit 1 when it is not valid')
    .argument('[template]', 'template name')
    .option('--version <version>', 'template version (default: the current one)')
    .option('--path <dir>', 'a template directory, relative to the gateway workspace')
    .option('--json', 'print JSON')
    .action((template: string | undefined, opts) => run((io) => templatesValidate(template, opts, io)));

  sub('analyze', 'count lines by language and measure complexity of a directory or generated project')
    .argument('[path]', 'directory, relative to the gateway workspace')
    .option('--project <id>', 'a generated project instead of a path')
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'no progress')
    .action((path: string | undefined, opts) => run((io) => templatesAnalyze(path, opts, io)));

  sub('sources', 'template sources: where the catalog comes from, and how their last sync went')
    .option('--json', 'print JSON')
    .action((opts) => run((io) => templatesSources(opts, io)));

  sub('add-source', 'register a template source (a directory or a git repository)')
    .argument('<name>', 'source name')
    .option('--dir <path>', 'a directory on the gateway machine')
    .option('--git <url>', 'a git repository')
    .option('--ref <ref>', 'git branch or tag (default: the default branch)')
    .option('--interval-ms <n>', 'sync every n ms (at least 10000)')
    .option('--replace', 'change an existing source')
    .option('--json', 'print JSON')
    .action((name: string, opts) => run((io) => templatesAddSource(name, opts, io)));

  sub('remove-source', 'remove a template source; its templates leave the catalog')
    .argument('<name>', 'source name')
    .option('--json', 'print JSON')
    .action((name: string, opts) => run((io) => templatesRemoveSource(name, opts, io)));

  return templates;
}
