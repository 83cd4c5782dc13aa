import { Command } from 'commander';
import { formatMe, type MeView } from './access.format.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { apiGet } from './http-client.ts';
import { type CliIo, type Exit, printJson, run } from './io.ts';

/** Who the credential says the caller is, and what it may do on its tenant. */
export async function whoami(opts: GatewayOptions & { json?: boolean }, io: CliIo): Promise<Exit> {
  const me = await apiGet<MeView>(await gatewayOf(opts), '/api/v1/me');
  if (opts.json) printJson(io, me);
  else io.stdout.write(formatMe(me));
  return 0;
}

/** `switchyard whoami`. */
export function whoamiCommand(): Command {
  return withGatewayOptions(
    new Command('whoami').description(
      'who the credential is: principal, tenant, roles, scopes and effective permissions',
    ),
  )
    .option('--json', 'print JSON')
    .action((opts) => run((io) => whoami(opts, io)));
}
