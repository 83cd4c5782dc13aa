/**
 * `npm run bench [-- [--quick] [--json <file>] [name…]]`
 *
 * Runs the benchmarks (append, replay, relay, lag, rebuild, pglite, gateway, templates, deploy — or those
 * whose name contains one of the given words; `anatomy`, a diagnosis of the append path, and
 * `history`, appends on an empty log against a log of 100,000, 1,000,000 and 10,000,000 events, run
 * only when named) against the PostgreSQL at DATABASE_URL and the NATS at NATS_URL (both
 * default to the local services), each figure next to a baseline measured in the same run, and
 * prints one table. Everything it creates (databases `sy_bench_<run>_*`, JetStream streams
 * `SYBENCH_<run>_*`, a temporary PGlite directory) is removed at the end, also on Ctrl-C.
 */
import { writeFile } from 'node:fs/promises';
import { anatomyBench } from './anatomy.bench.ts';
import { appendBench } from './append.bench.ts';
import { auditBench } from './audit.bench.ts';
import { consoleBench } from './console.bench.ts';
import { createContext, currentLoad, machineInfo } from './context.ts';
import { deployBench } from './deploy.bench.ts';
import { closeServerLog } from './fixtures.ts';
import { gatewayBench } from './gateway.bench.ts';
import { historyBench } from './history.bench.ts';
import { lagBench } from './lag.bench.ts';
import { pgliteBench } from './pglite.bench.ts';
import { rebuildBench } from './rebuild.bench.ts';
import { relayBench } from './relay.bench.ts';
import { replayBench } from './replay.bench.ts';
import { type BenchResult, type Note, type Row, renderNotes, renderTable } from './report.ts';
import { templatesBench } from './templates.bench.ts';

/** `optIn`: diagnosis, run only when named. */
const benchmarks: Array<{ name: string; run: typeof appendBench; optIn?: boolean }> = [
  { name: 'append', run: appendBench },
  { name: 'replay', run: replayBench },
  { name: 'relay', run: relayBench },
  { name: 'lag', run: lagBench },
  { name: 'rebuild', run: rebuildBench },
  { name: 'pglite', run: pgliteBench },
  { name: 'gateway', run: gatewayBench },
  { name: 'templates', run: templatesBench },
  { name: 'deploy', run: deployBench },
  { name: 'anatomy', run: anatomyBench, optIn: true },
  { name: 'history', run: historyBench, optIn: true },
  { name: 'audit', run: auditBench, optIn: true },
  { name: 'console', run: consoleBench, optIn: true },
];

function parseArgs(argv: string[]): { quick: boolean; json: string | undefined; filters: string[] } {
  let quick = false;
  let json: string | undefined;
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--json') json = argv[++i];
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        `usage: npm run bench -- [--quick] [--json <file>] [${benchmarks.map((b) => b.name).join('|')} …]\n`,
      );
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else filters.push(a.toLowerCase());
  }
  return { quick, json, filters };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const natsUrl = process.env.NATS_URL || 'nats://127.0.0.1:4222';
  const selected = benchmarks.filter((b) =>
    args.filters.length === 0 ? !b.optIn : args.filters.some((f) => b.name.includes(f)),
  );
  if (selected.length === 0) throw new Error(`no benchmark matches ${args.filters.join(', ')}`);

  const machine = await machineInfo(adminUrl, natsUrl);
  const header = [
    `Switchyard benchmarks${args.quick ? ' (--quick)' : ''} — ${machine.date}`,
    `machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memoryGiB} GiB RAM; node ${machine.node}, PostgreSQL ${machine.postgres}, nats-server ${machine.natsServer}`,
    `load average at start (1/5/15 min): ${machine.loadAverage}`,
  ].join('\n');
  process.stdout.write(`${header}\n\n`);

  const ctx = createContext({ quick: args.quick, adminUrl, natsUrl });
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: cleaning up…\n');
    void ctx.cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const rows: Row[] = [];
  const notes: Note[] = [];
  const failures: string[] = [];
  const t0 = performance.now();
  try {
    for (const b of selected) {
      const started = performance.now();
      try {
        const result: BenchResult = await b.run(ctx);
        rows.push(...result.rows);
        notes.push(...result.notes);
      } catch (e) {
        const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
        failures.push(`${b.name}: ${message}`);
        ctx.log(`${b.name} FAILED: ${message}`);
      }
      ctx.log(
        `${b.name} took ${((performance.now() - started) / 1000).toFixed(1)} s (load ${currentLoad()})`,
      );
    }
  } finally {
    await closeServerLog().catch(() => {});
    await ctx.cleanup();
  }
  const total = ((performance.now() - t0) / 1000).toFixed(0);
  process.stdout.write(`${renderTable(rows)}\n\n`);
  if (notes.length > 0) process.stdout.write(`${renderNotes(notes)}\n\n`);
  process.stdout.write(
    `ratio = Switchyard ÷ baseline (rates: higher is better; latencies: lower is better). ${total} s in all; load average at end: ${currentLoad()}\n`,
  );
  if (failures.length > 0) {
    process.stdout.write(`\nFAILED:\n${failures.join('\n')}\n`);
    process.exitCode = 1;
  }
  if (args.json) {
    await writeFile(
      args.json,
      `${JSON.stringify({ machine, quick: args.quick, rows, notes, failures }, null, 2)}\n`,
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
