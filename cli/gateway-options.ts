import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { CliError } from './errors.ts';
import type { Gateway } from './http-client.ts';

/** What every command that talks to a gateway is given on its command line (or in the environment). */
export interface GatewayOptions {
  url: string;
  /** An API key (`sy_<keyId>_<secret>`) or an OIDC access token. */
  token?: string;
  /** Where `switchyard start` keeps its data, and the first start's `admin.key`. */
  dataDir?: string;
}

// Commander shows `(env: SWITCHYARD_TOKEN)` in the help, never the value.
export const tokenOption = () =>
  new Option(
    '--token <credential>',
    'API key or OIDC access token (default: the key in <data dir>/admin.key)',
  ).env('SWITCHYARD_TOKEN');

export const dataDirOption = () =>
  new Option('--data-dir <dir>', 'data directory, where the first start wrote admin.key')
    .env('SWITCHYARD_DATA_DIR')
    .default('.data');

export const urlOption = () =>
  new Option('--url <url>', 'gateway base URL').env('SWITCHYARD_URL').default('http://127.0.0.1:4000');

/** Adds --url, --token and --data-dir to a command that talks to a gateway. */
export function withGatewayOptions(command: Command): Command {
  return command.addOption(urlOption()).addOption(tokenOption()).addOption(dataDirOption());
}

/**
 * The gateway and credential a command uses: `--token` (or SWITCHYARD_TOKEN), else the administrator
 * key the first `switchyard start` wrote to `<data dir>/admin.key`, else none (the gateway will
 * answer 401 and the CLI says how to pass one).
 */
export async function gatewayOf(opts: GatewayOptions): Promise<Gateway> {
  const token =
    opts.token?.trim() || (opts.dataDir === undefined ? undefined : await readAdminKey(opts.dataDir));
  return { url: opts.url, token };
}

/** The key in `<dataDir>/admin.key` (the key and a newline), or undefined when there is none. */
export async function readAdminKey(dataDir: string): Promise<string | undefined> {
  if (dataDir === 'memory://') return undefined;
  const file = join(dataDir, 'admin.key');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new CliError(`cannot read ${file} (${code ?? (e as Error).message}); pass --token instead`);
  }
  return text.trim() || undefined;
}
