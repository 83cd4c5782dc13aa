import fc from 'fast-check';
import { startMemorySystem } from '../systems.ts';
import { fuzzCase, runCase } from './rest-fuzz.ts';

/**
 * The long REST fuzzing run: `npm run fuzz -- [cases] [seed]` (default 100,000 cases) against a
 * whole in-memory system. Prints the statuses seen and every broken rule (a 5xx, a refusal that
 * appended events, a hang); exits 1 if any.
 */
const cases = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const system = await startMemorySystem({
  SWITCHYARD_BUILTIN_TEMPLATES: 'off',
  SWITCHYARD_LOG_LEVEL: 'silent',
});
const statuses = new Map<number, number>();
const problems: string[] = [];
const started = Date.now();
try {
  for (const [i, c] of fc.sample(fuzzCase, { numRuns: cases, seed }).entries()) {
    try {
      const r = await runCase(system, c);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.problem) problems.push(r.problem);
    } catch (e) {
      problems.push(`${c.method} ${c.path}: ${(e as Error).message}`);
    }
    if ((i + 1) % 5_000 === 0) process.stderr.write(`${i + 1} cases, ${problems.length} problems\n`);
  }
} finally {
  await system.stop();
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(
  `${cases} cases (seed ${seed}) in ${seconds} s; statuses: ${[...statuses]
    .sort()
    .map(([s, n]) => `${s}×${n}`)
    .join(', ')}`,
);
for (const p of problems.slice(0, 50)) console.log(`PROBLEM ${p}`);
console.log(`${problems.length} problems`);
process.exit(problems.length > 0 ? 1 : 0);
