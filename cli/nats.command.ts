import { createNatsBus } from '../bus/nats/nats.bus.ts';
import { silentLogger } from '../kernel/logger.ts';
import { parseConfig } from '../runtime/config.ts';
import { CliError } from './errors.ts';
import { printTable } from './projections.command.ts';

/** `switchyard nats`: what an operator would otherwise need the NATS CLI for. */
export async function natsCommand(opts: { json?: boolean; natsUrl: string }): Promise<void> {
  const names = parseConfig({
    ...process.env,
    NATS_URL: undefined,
    DATABASE_URL: undefined,
    EVENTSTORE_URL: undefined,
  }).bus;
  let bus: Awaited<ReturnType<typeof createNatsBus>>;
  try {
    bus = await createNatsBus({ url: opts.natsUrl, names, logger: silentLogger() });
  } catch (e) {
    throw new CliError(`cannot connect to NATS at ${opts.natsUrl}: ${(e as Error).message}`);
  }
  try {
    const info = await bus.info();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return;
    }
    const s = info.stream;
    process.stdout.write(
      `stream ${s.name}: ${s.messages} messages, ${s.bytes} bytes, sequences ${s.firstSeq}..${s.lastSeq}; dead letters: ${info.deadLetters}\n\n`,
    );
    printTable(
      ['SUBJECT', 'MESSAGES'],
      Object.entries(info.subjects)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([subject, n]) => [subject, String(n)]),
    );
    process.stdout.write('\n');
    printTable(
      ['CONSUMER', 'FILTER', 'PENDING', 'ACK PENDING', 'REDELIVERED', 'ACK FLOOR', 'DELIVERED'],
      info.consumers.map((c) => [
        c.name,
        c.filterSubjects.join(','),
        String(c.pending),
        String(c.ackPending),
        String(c.redelivered),
        String(c.ackFloor),
        String(c.delivered),
      ]),
    );
  } finally {
    await bus.close();
  }
}
