import { Command, Option } from 'commander';
import { auditCommand } from './audit.command.ts';
import { callsCommand } from './calls.command.ts';
import { applyCommand, exportCommand } from './config.command.ts';
import { deployCommand, deploymentsCommand } from './deploy.command.ts';
import { CliError } from './errors.ts';
import { eventsCommand } from './events.command.ts';
import { dataDirOption, tokenOption, withGatewayOptions } from './gateway-options.ts';
import { grantsCommand } from './grants.command.ts';
import { keysCommand } from './keys.command.ts';
import { mcpCommand } from './mcp.command.ts';
import { projectionsCommand } from './projections.command.ts';
import { serversCommand } from './servers.command.ts';
import { startCommand } from './start.command.ts';
import { templatesCommand } from './templates.command.ts';
import { topCommand } from './top.command.ts';
import { whoamiCommand } from './whoami.command.ts';

const program = new Command()
  .name('switchyard')
  .description('Event-sourced MCP control plane and gateway')
  .showHelpAfterError();

program
  .command('start')
  .description('start roles (default: all in one process; embedded when no DATABASE_URL/NATS_URL is set)')
  .argument('[roles...]', 'all, or any of: gateway worker relay projector')
  .option('--port <port>', 'HTTP port (SWITCHYARD_PORT)')
  .option('--host <host>', 'HTTP host (SWITCHYARD_HOST)')
  .option('--data-dir <dir>', 'embedded data directory (SWITCHYARD_DATA_DIR)')
  .action(startCommand);

withGatewayOptions(program.command('events'))
  .description('read (or follow) the event log as JSON lines: whole log, categories, types or one stream')
  .option('--stream <stream>', 'one stream, e.g. server-<uuid>')
  .option('--category <categories>', 'comma-separated categories')
  .option('--type <types>', 'comma-separated event types')
  .option('--after <position>', 'start after this global position', '0')
  .option('--limit <n>', 'stop after n events (default: all)')
  .option('-f, --follow', 'keep following new events')
  .action(eventsCommand);

withGatewayOptions(program.command('projections'))
  .description('projection status (checkpoint, lag, quarantined events), rebuild, quarantine or release')
  .argument('<action>', 'status | rebuild | quarantine | release')
  .argument('[name]', 'projection to rebuild, or whose event to quarantine or release')
  .argument('[eventId]', 'quarantine, release: the event (failedEvent in the status)')
  .option('--reason <text>', 'quarantine, release: why (recorded in the log)')
  .option('--json', 'print JSON')
  .action(projectionsCommand);

program
  .command('mcp')
  .description(
    'the aggregate MCP endpoint over stdio (a bridge to a gateway with --url, else the system in-process)',
  )
  .option('--url <url>', 'bridge to a running gateway instead of starting one')
  .option('--server <name>', 'with --url: one server (its /servers/<name>/mcp) instead of the aggregate')
  .addOption(
    new Option(
      '--prefix <mode>',
      "the aggregate's names: <server>__<name> always, on collisions only, or never",
    ).choices(['always', 'collisions', 'never']),
  )
  .addOption(tokenOption())
  .addOption(dataDirOption())
  .action(mcpCommand);

program
  .command('nats')
  .description(
    'the JetStream stream, subjects with counts, consumers with pending and ack floor, dead letters',
  )
  .option('--json', 'print JSON')
  .addOption(new Option('--nats-url <url>', 'NATS server').env('NATS_URL').default('nats://127.0.0.1:4222'))
  // Loaded when used: the NATS client is not needed by any other command (nor by an embedded start).
  .action(async (opts) => (await import('./nats.command.ts')).natsCommand(opts));

program.addCommand(auditCommand());
program.addCommand(serversCommand());
program.addCommand(callsCommand());
program.addCommand(topCommand());
program.addCommand(whoamiCommand());
program.addCommand(keysCommand());
program.addCommand(grantsCommand());
program.addCommand(templatesCommand());
program.addCommand(deployCommand());
program.addCommand(deploymentsCommand());
program.addCommand(exportCommand());
program.addCommand(applyCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CliError) {
    process.stderr.write(`switchyard: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
