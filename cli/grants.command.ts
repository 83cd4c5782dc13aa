import { Command } from 'commander';
import type { AddGrantInput, GrantRecord, GrantResource } from '../domains/access/index.ts';
import { PERMISSIONS, type Permission } from '../kernel/principal.ts';
import { formatGrantAdded, formatGrants, type MeView } from './access.format.ts';
import { UsageError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { apiDelete, apiGet, apiPost } from './http-client.ts';
import { type CliIo, type Exit, printJson, run } from './io.ts';

/** The flags of `grants add`: who, which permission, on what. */
export interface GrantFlags {
  principal?: string;
  tenantWide?: boolean;
  permission: string;
  server?: string;
  tool?: string;
  platform?: boolean;
  tenant?: string;
}

/**
 * The body of POST /api/v1/grants from the flags. A tenant-wide grant names its tenant as the
 * subject: `--tenant`, else the caller's own (`callerTenant`). Without --server, --tool or
 * --platform the grant is on the whole tenant. The gateway validates ids and patterns.
 */
export function grantInput(flags: GrantFlags, callerTenant: string | undefined): AddGrantInput {
  if ((flags.principal === undefined) === !flags.tenantWide) {
    throw new UsageError('give either --principal <uuid> or --tenant-wide');
  }
  if (!(PERMISSIONS as readonly string[]).includes(flags.permission)) {
    throw new UsageError(
      `--permission ${JSON.stringify(flags.permission)}: expected one of ${PERMISSIONS.join(', ')}`,
    );
  }
  const resources = [flags.server !== undefined, flags.tool !== undefined, flags.platform === true];
  if (resources.filter(Boolean).length > 1) {
    throw new UsageError('give at most one of --server, --tool and --platform (none: the whole tenant)');
  }
  let subject: AddGrantInput['subject'];
  if (flags.principal !== undefined) subject = { type: 'principal', id: flags.principal };
  else {
    const tenant = flags.tenant ?? callerTenant;
    if (tenant === undefined) throw new UsageError('--tenant-wide needs the tenant: give --tenant <id>');
    subject = { type: 'tenant', id: tenant };
  }
  return {
    subject,
    permission: flags.permission as Permission,
    resource: resourceOf(flags),
    ...(flags.tenant !== undefined && { tenant: flags.tenant }),
  };
}

function resourceOf(flags: GrantFlags): GrantResource {
  if (flags.server !== undefined) return { type: 'server', server: flags.server };
  if (flags.platform) return { type: 'platform' };
  if (flags.tool === undefined) return { type: 'tenant' };
  // Server names have no "/", tool names may: the first one separates them.
  const slash = flags.tool.indexOf('/');
  const server = flags.tool.slice(0, slash);
  const tool = flags.tool.slice(slash + 1);
  if (slash === -1 || server === '' || tool === '') {
    throw new UsageError(
      `--tool ${JSON.stringify(flags.tool)}: expected <server pattern>/<tool pattern>, e.g. github/create_*`,
    );
  }
  return { type: 'tool', server, tool };
}

export async function grantsAdd(
  opts: GatewayOptions & GrantFlags & { json?: boolean },
  io: CliIo,
): Promise<Exit> {
  const gateway = await gatewayOf(opts);
  // A grant to the whole tenant names it: the caller's own unless --tenant says otherwise.
  const callerTenant =
    opts.tenantWide && opts.tenant === undefined
      ? (await apiGet<MeView>(gateway, '/api/v1/me')).tenant
      : undefined;
  const body = grantInput(opts, callerTenant);
  const answer = await apiPost<{ id: string }>(gateway, '/api/v1/grants', body);
  if (opts.json) printJson(io, answer);
  else io.stdout.write(formatGrantAdded(body, opts.tenant ?? callerTenant, answer.id));
  return 0;
}

export async function grantsList(
  opts: GatewayOptions & { tenant?: string; json?: boolean },
  io: CliIo,
): Promise<Exit> {
  const { items } = await apiGet<{ items: GrantRecord[] }>(await gatewayOf(opts), '/api/v1/grants', {
    tenant: opts.tenant,
  });
  if (opts.json) printJson(io, items);
  else io.stdout.write(formatGrants(items));
  return 0;
}

export async function grantsRemove(grantId: string, opts: GatewayOptions, io: CliIo): Promise<Exit> {
  await apiDelete(await gatewayOf(opts), `/api/v1/grants/${encodeURIComponent(grantId)}`);
  io.stdout.write(`removed grant ${grantId}\n`);
  return 0;
}

/** `switchyard grants …`: who may do what, on the tenant, a server, a tool pattern or the platform. */
export function grantsCommand(): Command {
  const grants = new Command('grants')
    .description('grants: permissions of a principal or a whole tenant on the tenant, servers or tools')
    .showHelpAfterError()
    // A bad option or a missing argument is a usage error: exit 2, not 1.
    .exitOverride((e) => process.exit(e.exitCode === 1 ? 2 : e.exitCode));
  const sub = (name: string, description: string) =>
    withGatewayOptions(grants.command(name).description(description));

  sub('add', 'grant a permission (default resource: the whole tenant)')
    .option('--principal <uuid>', 'to this principal')
    .option('--tenant-wide', 'to every principal of the tenant')
    .requiredOption('--permission <permission>', PERMISSIONS.join(' | '))
    .option('--server <pattern>', 'on servers matching the pattern ("*" and "?" wildcards)')
    .option('--tool <server/tool>', 'on tools matching <server pattern>/<tool pattern>')
    .option('--platform', 'on the platform (metrics, projections; administrators only)')
    .option('--tenant <tenant>', "in this tenant (administrators; default: the caller's)")
    .option('--json', 'print JSON')
    .action((opts) => run((io) => grantsAdd(opts, io)));

  sub('list', "the tenant's grants")
    .option('--tenant <tenant>', "another tenant's (administrators)")
    .option('--json', 'print JSON')
    .action((opts) => run((io) => grantsList(opts, io)));

  sub('remove', 'remove a grant')
    .argument('<grantId>', 'the grant id (as `grants list` shows it)')
    .action((grantId: string, opts) => run((io) => grantsRemove(grantId, opts, io)));

  return grants;
}
