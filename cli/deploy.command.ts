import { Command } from 'commander';
import type { DeploymentDetail, DeploymentSummary } from '../projections/deployments/index.ts';
import { formatDeployment, formatDeployments, type Line, secs, stepPrinter } from './deploy.format.ts';
import { type DeployFlags, deployRequest, parseDeploySource } from './deploy.source.ts';
import { CliError, problemError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { apiGet, apiUrl, authorizedFetch, fetchGateway, type Gateway, readJson } from './http-client.ts';
import { type CliIo, type Exit, printJson, run } from './io.ts';
import { ndjsonLines } from './ndjson.ts';
import { parseVars } from './templates.command.ts';

/**
 * `switchyard deploy` and `switchyard deployments …`, through the gateway's /api/v1/deployments.
 * Permissions (domains/access/actions.ts): deploy needs `deployment.create`, deployments stop
 * `deployment.stop`, deployments rollback `deployment.rollback` (each mcp:manage on the tenant: a
 * deployment runs a command on the host); deployments list and show need `deployment.read`
 * (mcp:read).
 */

interface Common extends GatewayOptions {
  json?: boolean;
}

/** POSTs a deployment (or a rollback) asking for NDJSON and follows it to its end; exit 1 when it rolled back. */
async function follow(
  gateway: Gateway,
  path: string,
  body: unknown,
  opts: Common & { quiet?: boolean },
  io: CliIo,
): Promise<Exit> {
  const res = await fetchGateway(authorizedFetch(gateway), apiUrl(gateway.url, path), {
    method: 'POST',
    headers: { accept: 'application/x-ndjson', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok || !res.body) return readJson(res);
  const printer = stepPrinter(io, opts.quiet === true || opts.json === true);
  let id: string | undefined;
  try {
    for await (const raw of ndjsonLines(res.body)) {
      const l = raw as Line;
      if (l.type === 'accepted') {
        id = l.id;
        if (!opts.quiet && !opts.json) io.stderr.write(`deployment ${id}\n`);
      } else if (l.type === 'error') {
        throw problemError(l.status ?? 500, '', l.body);
      } else if (l.type === 'succeeded' || l.type === 'rolled-back') {
        printer.stop();
        if (opts.json) printJson(io, { id, ...l });
        else if (l.type === 'succeeded') {
          io.stdout.write(
            `deployed ${l.server}: revision ${l.revision} is live (${secs(l.durationMs)}, ${id})\n`,
          );
        } else {
          io.stdout.write(
            `rolled back: ${l.server} failed at ${l.failedStep}: ${l.reason}\nthe previous revision keeps serving (${id})\n`,
          );
        }
        return l.type === 'succeeded' ? 0 : 1;
      } else printer.line(l);
    }
  } finally {
    printer.stop();
  }
  throw new CliError(
    `the gateway closed the stream before the deployment ended${id ? `; see switchyard deployments show ${id}` : ''}`,
  );
}

async function accepted(
  gateway: Gateway,
  path: string,
  body: unknown,
  opts: Common,
  io: CliIo,
): Promise<Exit> {
  const res = await fetchGateway(authorizedFetch(gateway), apiUrl(gateway.url, path), {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await readJson<{ id: string }>(res);
  if (opts.json) printJson(io, answer);
  else
    io.stdout.write(
      `deployment ${answer.id} requested; follow it with switchyard deployments show ${answer.id}\n`,
    );
  return 0;
}

export async function deploy(
  source: string,
  opts: Common & DeployFlags & { var?: string[]; wait?: boolean; quiet?: boolean },
  io: CliIo,
): Promise<Exit> {
  const body = deployRequest(parseDeploySource(source, parseVars(opts.var ?? [])), opts);
  const gateway = await gatewayOf(opts);
  return opts.wait === false
    ? accepted(gateway, '/api/v1/deployments', body, opts, io)
    : follow(gateway, '/api/v1/deployments', body, opts, io);
}

export async function deploymentsList(
  opts: Common & { server?: string; status?: string; limit?: string },
  io: CliIo,
): Promise<Exit> {
  const page = await apiGet<{ items: DeploymentSummary[] }>(await gatewayOf(opts), '/api/v1/deployments', {
    server: opts.server,
    status: opts.status,
    limit: opts.limit,
  });
  if (opts.json) printJson(io, page.items);
  else io.stdout.write(formatDeployments(page.items));
  return 0;
}

export async function deploymentsShow(
  id: string,
  opts: Common & { logs?: boolean },
  io: CliIo,
): Promise<Exit> {
  const d = await apiGet<DeploymentDetail>(
    await gatewayOf(opts),
    `/api/v1/deployments/${encodeURIComponent(id)}`,
  );
  if (opts.json) {
    printJson(io, d);
    return 0;
  }
  io.stdout.write(formatDeployment(d, opts.logs === true));
  return 0;
}

export async function deploymentsStop(
  id: string,
  opts: Common & { reason?: string },
  io: CliIo,
): Promise<Exit> {
  const gateway = await gatewayOf(opts);
  const res = await fetchGateway(
    authorizedFetch(gateway),
    apiUrl(gateway.url, `/api/v1/deployments/${encodeURIComponent(id)}`),
    {
      method: 'DELETE',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify(opts.reason === undefined ? {} : { reason: opts.reason }),
    },
  );
  const answer = await readJson<unknown>(res);
  if (opts.json) printJson(io, answer);
  else
    io.stdout.write(
      `stop requested: deployment ${id} is being undone; the previous revision keeps serving\n`,
    );
  return 0;
}

export async function deploymentsRollback(
  id: string,
  opts: Common & { wait?: boolean; quiet?: boolean },
  io: CliIo,
): Promise<Exit> {
  const gateway = await gatewayOf(opts);
  const path = `/api/v1/deployments/${encodeURIComponent(id)}/rollback`;
  return opts.wait === false ? accepted(gateway, path, {}, opts, io) : follow(gateway, path, {}, opts, io);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `switchyard deploy <source> --server <name>` (needs deployment.create: mcp:manage). */
export function deployCommand(): Command {
  return withGatewayOptions(new Command('deploy'))
    .description(
      'deploy an MCP server behind a server name: build, start, health gate, switch, drain; a failure rolls back (needs deployment.create, mcp:manage)',
    )
    .argument(
      '<source>',
      'project:<uuid> | template:<name>[@<version>] | dir:<path in the gateway workspace> | npm:<package>@<version>',
    )
    .requiredOption('--server <name>', 'the server name to put the new revision behind')
    .option('--var <key=value>', 'template: a template variable (repeatable)', collect)
    .option('--replicas <n>', 'instances of the new revision (default 1)')
    .option(
      '--expect-tool <name>',
      'the health gate: a tool the new revision must list (repeatable)',
      collect,
    )
    .option('--smoke <tool>', 'the health gate: a tool call that must succeed before traffic moves')
    .option('--smoke-args <json>', 'the smoke call’s arguments (a JSON object)')
    .option('--queue', 'wait behind a deployment of this server under way instead of being refused')
    .option('--no-wait', 'answer with the deployment id at once instead of following it')
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'no progress')
    .showHelpAfterError()
    .exitOverride((e) => process.exit(e.exitCode === 1 ? 2 : e.exitCode))
    .action((source: string, opts) => run((io) => deploy(source, opts, io)));
}

/** `switchyard deployments [list] | show | stop | rollback`. */
export function deploymentsCommand(): Command {
  const deployments = new Command('deployments')
    .description('deployments of MCP servers: list, show (steps, logs), stop, rollback')
    .showHelpAfterError()
    .exitOverride((e) => process.exit(e.exitCode === 1 ? 2 : e.exitCode));
  const sub = (name: string, description: string, isDefault = false) =>
    withGatewayOptions(deployments.command(name, { isDefault }).description(description));

  sub('list', 'deployments of your tenant, newest first (needs deployment.read, mcp:read)', true)
    .option('--server <name>', 'only this server')
    .option('--status <status>', 'running | compensating | succeeded | rolled-back')
    .option('--limit <n>', 'at most n (1-500, default 100)')
    .option('--json', 'print JSON')
    .action((opts) => run((io) => deploymentsList(opts, io)));

  sub('show', 'one deployment: its steps, timings, outcome and failed step output (needs deployment.read)')
    .argument('<id>', 'deployment id')
    .option('--logs', 'every step’s output, not only a failed one’s')
    .option('--json', 'print JSON')
    .action((id: string, opts) => run((io) => deploymentsShow(id, opts, io)));

  sub('stop', 'stop a running deployment; what it did is undone (needs deployment.stop, mcp:manage)')
    .argument('<id>', 'deployment id')
    .option('--reason <text>', 'why (recorded in the log)')
    .option('--json', 'print JSON')
    .action((id: string, opts) => run((io) => deploymentsStop(id, opts, io)));

  sub(
    'rollback',
    'bring back the revision a deployment put live, as a new deployment (needs deployment.rollback, mcp:manage)',
  )
    .argument('<id>', 'the earlier deployment whose revision to bring back')
    .option('--no-wait', 'answer with the new deployment id at once')
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'no progress')
    .action((id: string, opts) => run((io) => deploymentsRollback(id, opts, io)));

  return deployments;
}
