/**
 * Runs the server scenarios of @modelcontextprotocol/conformance (`server --suite all`) against an
 * MCP Streamable HTTP endpoint and answers one result per scenario.
 *
 * The CLI runs in a child process under Node 20 with two preloads: glob-sync-polyfill.mjs (the CLI
 * imports `fs.globSync`, which Node 20 lacks) and loopback-only.mjs (any connection off the loopback
 * interface is refused and fails the run: the tool must not download anything); with a token, a
 * third, authorization-header.mjs, presents it to the endpoint (the CLI has no option for that).
 * Each scenario's checks come from the `checks.json` the CLI writes with `-o <dir>`.
 *
 * A scenario is
 *   - 'fail' if any check is FAILURE or WARNING, or it produced no checks.json (it threw) — the same
 *     rule as the CLI's own `--expected-failures` baseline;
 *   - 'pass' if at least one check is SUCCESS and none is FAILURE or WARNING;
 *   - 'skip' if its checks are all INFO (nothing was decided).
 *
 *   node --import tsx test/conformance/run-conformance.ts                  # against the fixture (HTTP)
 *   node --import tsx test/conformance/run-conformance.ts --url <url>      # against any endpoint
 *   SWITCHYARD_TOKEN=<API key> node --import tsx test/conformance/run-conformance.ts --url <gateway url>
 *   node --import tsx test/conformance/run-conformance.ts --write-baseline # rewrite baseline.json
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';

export type ScenarioResult = 'pass' | 'fail' | 'skip';

/** One check as the CLI writes it to checks.json. */
export interface ConformanceCheck {
  id: string;
  name: string;
  description: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | (string & {});
  errorMessage?: string;
  details?: unknown;
}

export interface ConformanceOptions {
  /** The Streamable HTTP endpoint under test, e.g. `http://127.0.0.1:4000/servers/fixture/mcp`. */
  url: string;
  /** `all` (the default) or `active` / `pending`. */
  suite?: 'all' | 'active' | 'pending';
  /** Run only this scenario instead of a suite. */
  scenario?: string;
  /** The whole run is killed after this long. Default 110 s. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <token>` to the endpoint (a gateway wants a credential). */
  token?: string;
  /**
   * Runs exactly what a protocol revision requires, frozen at its release (`--requirements`), with
   * the pre-release tool that has it (NEXT_TOOL_PACKAGE): '2026-07-28'. Replaces `suite`.
   */
  requirements?: '2026-07-28';
}

export interface ConformanceRun {
  results: Record<string, ScenarioResult>;
  checks: Record<string, ConformanceCheck[]>;
  /** The CLI's stdout and stderr, interleaved as received. */
  output: string;
  exitCode: number | null;
  durationMs: number;
}

export interface Baseline {
  tool: string;
  version: string;
  suite: 'all';
  scenarios: Record<string, ScenarioResult>;
}

const here = dirname(fileURLToPath(import.meta.url));
export const POLYFILL = join(here, 'glob-sync-polyfill.mjs');
export const LOOPBACK_ONLY = join(here, 'loopback-only.mjs');
export const AUTHORIZATION_HEADER = join(here, 'authorization-header.mjs');
export const BASELINE_FILE = join(here, 'baseline.json');
export const TOOL_PACKAGE = '@modelcontextprotocol/conformance';
/** The tool's pre-release, pinned under an alias: the only one with the 2026-07-28 requirements. */
export const NEXT_TOOL_PACKAGE = 'conformance-next';
export const BASELINE_2026_FILE = join(here, 'baseline-2026-07-28.json');

interface ToolPackage {
  version: string;
  bin: Record<string, string>;
}

/** The installed conformance package: its version and the path of its CLI entry. */
export async function conformanceTool(pkg = TOOL_PACKAGE): Promise<{ version: string; cli: string }> {
  const manifestPath = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as ToolPackage;
  const bin = manifest.bin.conformance;
  if (!bin) throw new Error(`${pkg} has no 'conformance' bin`);
  return { version: manifest.version, cli: join(dirname(manifestPath), bin) };
}

/**
 * The server scenarios a revision requires, from the pinned pre-release's frozen requirements file
 * (`requirements/<revision>.yaml`, its `server:` list).
 */
export async function requiredServerScenarios(revision: '2026-07-28'): Promise<string[]> {
  const manifestPath = createRequire(import.meta.url).resolve(`${NEXT_TOOL_PACKAGE}/package.json`);
  const file = await readFile(join(dirname(manifestPath), 'requirements', `${revision}.yaml`), 'utf8');
  const { server } = parseYaml(file) as { server?: unknown };
  if (!Array.isArray(server) || !server.every((s) => typeof s === 'string'))
    throw new Error(`${revision}.yaml has no server list`);
  return server;
}

/** Runs the suite against `url`; one result per scenario. */
export async function runConformance(options: ConformanceOptions): Promise<Record<string, ScenarioResult>> {
  return (await runConformanceDetailed(options)).results;
}

/** Runs the suite against `url`; results, every scenario's checks and the CLI's output. */
export async function runConformanceDetailed(options: ConformanceOptions): Promise<ConformanceRun> {
  const { cli } = await conformanceTool(options.requirements ? NEXT_TOOL_PACKAGE : TOOL_PACKAGE);
  const outDir = await mkdtemp(join(tmpdir(), 'switchyard-conformance-'));
  const started = Date.now();
  try {
    const selection = options.scenario
      ? ['--scenario', options.scenario]
      : options.requirements
        ? ['--requirements', options.requirements]
        : ['--suite', options.suite ?? 'all'];
    // The credential travels in the environment, not on a command line anyone on the machine can read.
    const credential = options.token
      ? {
          CONFORMANCE_AUTHORIZATION: `Bearer ${options.token}`,
          CONFORMANCE_ORIGIN: new URL(options.url).origin,
        }
      : undefined;
    const { output, stdout, exitCode } = await runNode(
      [
        '--import',
        POLYFILL,
        '--import',
        LOOPBACK_ONLY,
        ...(credential ? ['--import', AUTHORIZATION_HEADER] : []),
        cli,
        'server',
        '--url',
        options.url,
        ...selection,
        '-o',
        outDir,
      ],
      outDir,
      options.timeoutMs ?? 110_000,
      credential ?? {},
    );
    if (output.includes('loopback-only: blocked')) {
      throw new Error(`the conformance tool tried to reach the network:\n${tail(output)}`);
    }

    const checks = await readChecks(outDir);
    // Every scenario the CLI started, in order; one that threw has no checks.json.
    const ran = [...stdout.matchAll(/^=== Running scenario: (\S+) ===$/gm)].map((match) => match[1] ?? '');
    if (options.scenario) ran.push(options.scenario);
    if (ran.length === 0) {
      throw new Error(`the conformance CLI ran no scenario (exit code ${exitCode}):\n${tail(output)}`);
    }
    const results: Record<string, ScenarioResult> = {};
    for (const scenario of ran) results[scenario] = classify(checks[scenario]);
    return { results, checks, output, exitCode, durationMs: Date.now() - started };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

export function classify(checks: ConformanceCheck[] | undefined): ScenarioResult {
  if (!checks) return 'fail';
  if (checks.some((check) => check.status === 'FAILURE' || check.status === 'WARNING')) return 'fail';
  return checks.some((check) => check.status === 'SUCCESS') ? 'pass' : 'skip';
}

/** For a failed comparison: each non-passing scenario with its failing and warning checks. */
export function describeRun(run: ConformanceRun): string {
  const lines: string[] = [];
  for (const [scenario, result] of Object.entries(run.results)) {
    if (result === 'pass') continue;
    lines.push(`${scenario}: ${result}`);
    const checks = run.checks[scenario];
    if (!checks) lines.push('  (no checks.json: the scenario threw)');
    for (const check of checks ?? []) {
      if (check.status === 'FAILURE' || check.status === 'WARNING') {
        lines.push(`  ${check.status} ${check.id}: ${check.errorMessage ?? check.description}`);
      }
    }
  }
  return lines.join('\n');
}

export async function readBaseline(): Promise<Baseline> {
  return JSON.parse(await readFile(BASELINE_FILE, 'utf8')) as Baseline;
}

// The CLI names each result directory `server-<scenario>-<ISO time with : and . as ->`.
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

async function readChecks(outDir: string): Promise<Record<string, ConformanceCheck[]>> {
  const checks: Record<string, ConformanceCheck[]> = {};
  for (const entry of await readdir(outDir, { withFileTypes: true })) {
    const scenario = entry.isDirectory() ? RESULT_DIR.exec(entry.name)?.[1] : undefined;
    if (!scenario) continue;
    try {
      const parsed: unknown = JSON.parse(await readFile(join(outDir, entry.name, 'checks.json'), 'utf8'));
      if (Array.isArray(parsed)) checks[scenario] = parsed as ConformanceCheck[];
    } catch {
      // No or unreadable checks.json: the scenario counts as failed.
    }
  }
  return checks;
}

function runNode(
  args: string[],
  cwd: string,
  timeoutMs: number,
  extraEnv: Record<string, string>,
): Promise<{ output: string; stdout: string; exitCode: number | null }> {
  // NODE_OPTIONS could preload a module that imports 'fs' before the polyfill (e.g. --import tsx).
  const { NODE_OPTIONS: _dropped, ...env } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...env, ...extraEnv, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the conformance CLI did not finish within ${timeoutMs} ms:\n${tail(output)}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ output, stdout, exitCode });
    });
  });
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const urlIndex = argv.indexOf('--url');
  let url = urlIndex >= 0 ? argv[urlIndex + 1] : undefined;
  let close: (() => Promise<void>) | undefined;
  if (!url) {
    const { startHttpFixture } = await import('./fixture-server.ts');
    const fixture = await startHttpFixture();
    url = fixture.url;
    close = fixture.close;
  }
  try {
    const token = process.env.SWITCHYARD_TOKEN;
    const run = await runConformanceDetailed({ url, ...(token && { token }) });
    const width = Math.max(...Object.keys(run.results).map((name) => name.length));
    for (const [scenario, result] of Object.entries(run.results)) {
      console.log(`${scenario.padEnd(width)}  ${result}`);
    }
    const failing = describeRun(run);
    if (failing) console.log(`\n${failing}`);
    console.log(`\n${Object.keys(run.results).length} scenarios against ${url} in ${run.durationMs} ms`);
    if (argv.includes('--write-baseline')) {
      const { version } = await conformanceTool();
      const baseline: Baseline = { tool: TOOL_PACKAGE, version, suite: 'all', scenarios: run.results };
      await writeFile(BASELINE_FILE, `${JSON.stringify(baseline, null, 2)}\n`);
      console.log(`wrote ${BASELINE_FILE}`);
    }
  } finally {
    await close?.();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
