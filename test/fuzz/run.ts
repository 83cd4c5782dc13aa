import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fc from 'fast-check';
import { startMemorySystem } from '../systems.ts';
import { mcpFuzzCase, runCase as runMcpCase, startMcpFuzzTarget } from './mcp-fuzz.ts';
import { fuzzCase, runCase as runRestCase } from './rest-fuzz.ts';

/**
 * The long fuzzing runs against a whole in-memory system:
 *
 *   npm run fuzz -- [cases] [seed]        the REST routes (rest-fuzz.ts)
 *   npm run fuzz -- mcp [cases] [seed]    the MCP methods, with two real upstreams (mcp-fuzz.ts)
 *
 * 100,000 cases by default; a seed replays a run. Prints the statuses seen (for MCP, each HTTP status
 * with the JSON-RPC error codes of its answer) and every broken rule (a 5xx, an internal error, a
 * refusal that appended events, a hang); exits 1 if any.
 */
const args = process.argv.slice(2);
const mcp = args[0] === 'mcp';
if (mcp) args.shift();
const cases = Number(args[0] ?? 100_000);
const seed = Number(args[1] ?? Date.now() % 2 ** 31);
const env = { SWITCHYARD_BUILTIN_TEMPLATES: 'off', SWITCHYARD_LOG_LEVEL: 'silent' };

interface Runner {
  sample: () => Iterable<unknown>;
  run: (c: unknown) => Promise<{ key: string; problem?: string }>;
  describe: (c: unknown) => string;
  stop: () => Promise<void>;
}

async function restRunner(): Promise<Runner> {
  const system = await startMemorySystem(env);
  return {
    sample: () => fc.sample(fuzzCase, { numRuns: cases, seed }),
    run: async (c) => {
      const r = await runRestCase(system, c as Parameters<typeof runRestCase>[1]);
      return { key: String(r.status), ...(r.problem && { problem: r.problem }) };
    },
    describe: (c) => {
      const rc = c as Parameters<typeof runRestCase>[1];
      return `${rc.method} ${rc.path}`;
    },
    stop: () => system.stop(),
  };
}

let relayed = 0;
let toolCalls = 0;
async function mcpRunner(): Promise<Runner> {
  const target = await startMcpFuzzTarget(env);
  return {
    sample: () => fc.sample(mcpFuzzCase(target), { numRuns: cases, seed }),
    run: async (c) => {
      const r = await runMcpCase(target.system, c as Parameters<typeof runMcpCase>[1]);
      relayed += r.relayed;
      const codes = [...new Set(r.errors)].sort().join(',');
      return {
        key: codes ? `${r.status}/${codes}` : String(r.status),
        ...(r.problem && { problem: r.problem }),
      };
    },
    describe: (c) => {
      const mc = c as Parameters<typeof runMcpCase>[1];
      return `${mc.httpMethod} ${mc.path}`;
    },
    stop: async () => {
      toolCalls = await target.system.store.countAfter(0n, { types: ['ToolCallStarted'] });
      await target.stop();
    },
  };
}

const runner = mcp ? await mcpRunner() : await restRunner();
const statuses = new Map<string, number>();
const problems: string[] = [];
const started = Date.now();
/** A problem is printed when found (a long run may be stopped early) and listed again at the end. */
const report = (problem: string) => {
  problems.push(problem);
  process.stderr.write(`PROBLEM ${problem}\n`);
};
// The system runs in this process: a problem that comes with a stalled event loop or a loaded
// machine says so (the 5,000-case progress lines give the longest stall of each stretch).
const stalls = monitorEventLoopDelay({ resolution: 20 });
stalls.enable();
const conditions = () =>
  `[load ${loadavg()[0]?.toFixed(1)}, event loop stalled up to ${(stalls.max / 1e6).toFixed(0)} ms]`;
try {
  let i = 0;
  for (const c of runner.sample()) {
    try {
      const r = await runner.run(c);
      statuses.set(r.key, (statuses.get(r.key) ?? 0) + 1);
      if (r.problem) report(`${r.problem} ${conditions()}`);
    } catch (e) {
      report(`${runner.describe(c)}: ${(e as Error).message} ${conditions()}`);
    }
    if (++i % 5_000 === 0) {
      process.stderr.write(`${i} cases, ${problems.length} problems ${conditions()}\n`);
      stalls.reset();
    }
  }
} finally {
  await runner.stop();
}
const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(
  `${mcp ? 'MCP' : 'REST'}: ${cases} cases (seed ${seed}) in ${seconds} s; statuses: ${[...statuses]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}×${n}`)
    .join(', ')}`,
);
if (mcp)
  console.log(`tool calls run: ${toolCalls}; upstream failures relayed as -32603 (UPSTREAM.*): ${relayed}`);
for (const p of problems.slice(0, 50)) console.log(`PROBLEM ${p}`);
console.log(`${problems.length} problems`);
process.exit(problems.length > 0 ? 1 : 0);
