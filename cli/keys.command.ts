import { Command } from 'commander';
import type { ApiKeyView } from '../domains/access/index.ts';
import { PERMISSIONS, type Permission } from '../kernel/principal.ts';
import { formatKeyDetails, formatKeys, formatShownOnce, type IssuedKeyAnswer } from './access.format.ts';
import { UsageError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { apiDelete, apiGet, apiPost } from './http-client.ts';
import { type CliIo, type Exit, printJson, run } from './io.ts';

interface CreateOptions extends GatewayOptions {
  name: string;
  scopes?: string;
  expiresInDays?: string;
  principal?: string;
  json?: boolean;
}

/** The body of POST /api/v1/api-keys from the command line; the gateway validates the rest. */
export function issueKeyInput(opts: Omit<CreateOptions, keyof GatewayOptions>) {
  const scopes = opts.scopes === undefined ? undefined : parseScopes(opts.scopes);
  const days = opts.expiresInDays;
  if (days !== undefined && !/^\d+$/.test(days.trim())) {
    throw new UsageError(`--expires-in-days must be a whole number of days, not ${JSON.stringify(days)}`);
  }
  return {
    name: opts.name,
    ...(scopes !== undefined && { scopes }),
    ...(days !== undefined && { expiresInDays: Number(days) }),
    ...(opts.principal !== undefined && { principalId: opts.principal }),
  };
}

/** `mcp:read,mcp:execute` → the permissions, each one of PERMISSIONS. */
export function parseScopes(list: string): Permission[] {
  const scopes = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = scopes.filter((s) => !(PERMISSIONS as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `--scopes ${JSON.stringify(list)}: ${unknown.length > 0 ? `unknown ${unknown.join(', ')}; ` : ''}` +
        `give a comma-separated list of ${PERMISSIONS.join(', ')}`,
    );
  }
  return [...new Set(scopes)] as Permission[];
}

function checkKeyId(keyId: string): string {
  if (!/^[a-z0-9]{16}$/.test(keyId)) {
    throw new UsageError(
      `${JSON.stringify(keyId)} is not a key id (16 of a-z and 0-9, as \`switchyard keys list\` shows)`,
    );
  }
  return keyId;
}

/** Prints a new key once on stdout (alone on its line, or in the JSON) and what it is on stderr. */
function printIssued(issued: IssuedKeyAnswer, json: boolean | undefined, io: CliIo): void {
  if (json) {
    printJson(io, issued);
    return;
  }
  io.stderr.write(formatKeyDetails(issued));
  io.stdout.write(formatShownOnce(issued));
}

export async function keysCreate(opts: CreateOptions, io: CliIo): Promise<Exit> {
  const body = issueKeyInput(opts);
  const issued = await apiPost<IssuedKeyAnswer>(await gatewayOf(opts), '/api/v1/api-keys', body);
  printIssued(issued, opts.json, io);
  return 0;
}

export async function keysList(
  opts: GatewayOptions & { principal?: string; json?: boolean },
  io: CliIo,
): Promise<Exit> {
  const { items } = await apiGet<{ items: ApiKeyView[] }>(await gatewayOf(opts), '/api/v1/api-keys', {
    principal: opts.principal,
  });
  if (opts.json) printJson(io, items);
  else io.stdout.write(formatKeys(items, new Date()));
  return 0;
}

export async function keysRevoke(keyId: string, opts: GatewayOptions, io: CliIo): Promise<Exit> {
  const path = `/api/v1/api-keys/${checkKeyId(keyId)}`;
  await apiDelete(await gatewayOf(opts), path);
  io.stdout.write(`revoked API key ${keyId}; every gateway refuses it within a second\n`);
  return 0;
}

export async function keysRotate(
  keyId: string,
  opts: GatewayOptions & { json?: boolean },
  io: CliIo,
): Promise<Exit> {
  const path = `/api/v1/api-keys/${checkKeyId(keyId)}/rotate`;
  const issued = await apiPost<IssuedKeyAnswer>(await gatewayOf(opts), path);
  printIssued(issued, opts.json, io);
  return 0;
}

/** `switchyard keys …`: API keys, each shown once when it is made. */
export function keysCommand(): Command {
  const keys = new Command('keys')
    .description('API keys: create (the key is shown once), list, revoke, rotate')
    .showHelpAfterError()
    // A bad option or a missing argument is a usage error: exit 2, not 1.
    .exitOverride((e) => process.exit(e.exitCode === 1 ? 2 : e.exitCode));
  const sub = (name: string, description: string) =>
    withGatewayOptions(keys.command(name).description(description));

  sub('create', 'create an API key; it is printed once, on stdout, and never again')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--scopes <permissions>', `at most these permissions, comma-separated (${PERMISSIONS.join(',')})`)
    .option('--expires-in-days <n>', 'expires after n days (default: never)')
    .option(
      '--principal <uuid>',
      "whose key (default: the caller's own; managers: a principal of the tenant)",
    )
    .option('--json', 'print JSON (with the key)')
    .action((opts) => run((io) => keysCreate(opts, io)));

  sub('list', 'API keys (never the keys themselves): your own; a manager sees the tenant’s')
    .option('--principal <uuid>', "only this principal's keys")
    .option('--json', 'print JSON')
    .action((opts) => run((io) => keysList(opts, io)));

  sub('revoke', 'revoke an API key')
    .argument('<keyId>', 'the key id (as `keys list` shows it)')
    .action((keyId: string, opts) => run((io) => keysRevoke(keyId, opts, io)));

  sub('rotate', 'replace an API key with a new one (same name, principal, scopes); the old one is revoked')
    .argument('<keyId>', 'the key id (as `keys list` shows it)')
    .option('--json', 'print JSON (with the new key)')
    .action((keyId: string, opts) => run((io) => keysRotate(keyId, opts, io)));

  return keys;
}
