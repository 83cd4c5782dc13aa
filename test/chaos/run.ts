import { formatReport, runChaos } from './chaos.ts';

/**
 * The long chaos run: `npm run chaos -- [seconds] [seed]` (default 300 s) against DATABASE_URL and
 * NATS_URL. Prints what it kills as it goes, then the summary; exits 1 if any invariant is broken.
 */
const seconds = Number(process.argv[2] ?? 300);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const databaseUrl = process.env.DATABASE_URL;
const natsUrl = process.env.NATS_URL;
if (!databaseUrl || !natsUrl) {
  console.error('the chaos run needs DATABASE_URL and NATS_URL');
  process.exit(2);
}
const began = performance.now();
const report = await runChaos({
  databaseUrl,
  natsUrl,
  durationMs: seconds * 1000,
  seed,
  log: (line) => process.stderr.write(`[${((performance.now() - began) / 1000).toFixed(1)} s] ${line}\n`),
});
console.log(formatReport(report));
process.exit(report.ok ? 0 : 1);
