import { createNatsBus } from '../../bus/nats/nats.bus.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { createUpstreamPool } from '../pool/pool.ts';
import type { UpstreamSpec } from '../upstream.port.ts';
import { serveUpstreams } from './serve-upstreams.ts';

/**
 * A runner as its own process, for the test that kills one: hosts one server and takes its calls.
 * argv: <nats url> <bus names JSON> <spec JSON, revision as a string> <runner id>. Prints "ready".
 */
const [url, namesJson, specJson, runnerId] = process.argv.slice(2) as [string, string, string, string];
const raw = JSON.parse(specJson) as Omit<UpstreamSpec, 'revision'> & { revision: string };
const spec: UpstreamSpec = { ...raw, revision: BigInt(raw.revision) };
const logger = silentLogger();
const bus = await createNatsBus({ url, names: JSON.parse(namesJson), logger });
const pool = createUpstreamPool({
  logger,
  env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', RUNNER_NAME: runnerId },
});
await pool.ensure(spec);
const server = await serveUpstreams({
  bus,
  upstreams: pool,
  logger,
  runnerId,
  serverIds: [spec.serverId],
  heartbeatMs: 300,
  statusIntervalMs: 500,
});
process.stdout.write('ready\n');
process.once('SIGTERM', async () => {
  await server.close();
  await pool.close();
  await bus.close();
  process.exit(0);
});
