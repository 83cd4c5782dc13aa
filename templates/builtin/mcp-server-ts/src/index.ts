#!/usr/bin/env node
import { ConfigError, parseCommand, USAGE } from './config.js';
import { log, setLogLevel } from './log.js';
import { SERVER_VERSION } from './server.js';
import { runHttp } from './transports/http.js';
import { runStdio } from './transports/stdio.js';

async function main(): Promise<void> {
  const command = parseCommand(process.argv.slice(2), process.env);
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command.kind === 'version') {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return;
  }

  const { config } = command;
  setLogLevel(config.logLevel);
  const running = config.transport === 'http' ? await runHttp(config) : await runStdio();

  const shutdown = (signal: NodeJS.Signals) => {
    log.info(`${signal} received, shutting down`);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  log.error('fatal', error);
  process.exit(1);
});
