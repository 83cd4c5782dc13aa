import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { log } from '../log.js';
import { createMcpServer, SERVER_NAME, SERVER_VERSION } from '../server.js';

export interface RunningStdio {
  close(): Promise<void>;
}

/**
 * One server on stdin/stdout. The process lives as long as its client: when stdin ends (the client
 * closed the pipe or exited), the server closes and nothing keeps the process alive any more.
 */
export async function runStdio(): Promise<RunningStdio> {
  const server = createMcpServer();
  const transport = new StdioServerTransport();
  await server.connect(transport);
  log.info(`${SERVER_NAME} ${SERVER_VERSION} serving MCP on stdio`);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= server.close();
    return closing;
  };
  process.stdin.once('end', () => {
    log.debug('stdin ended, closing');
    void close();
  });
  return { close };
}
