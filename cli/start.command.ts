import { createLogger } from '../kernel/logger.ts';
import { startSystem } from '../runtime/compose.ts';
import { ConfigError, parseConfig } from '../runtime/config.ts';
import { CliError } from './errors.ts';

interface Options {
  port?: string;
  host?: string;
  dataDir?: string;
}

/** `switchyard start [roles…]`: parses the environment once, starts the roles, stops on a signal. */
export async function startCommand(roles: string[], opts: Options): Promise<void> {
  const env = { ...process.env };
  if (roles.length > 0) env.SWITCHYARD_ROLES = roles.join(',');
  if (opts.port) env.SWITCHYARD_PORT = opts.port;
  if (opts.host) env.SWITCHYARD_HOST = opts.host;
  if (opts.dataDir) env.SWITCHYARD_DATA_DIR = opts.dataDir;
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
  const logger = createLogger({ level: config.logLevel });
  const system = await startSystem(config, logger);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => {
      logger.error('did not stop within 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    await system.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}
