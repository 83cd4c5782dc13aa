import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type Logger, pino } from 'pino';
import { defaultClientSessions } from '../runners/host-spec.ts';
import { isAlive, killGroup } from '../runners/pool/process-tree.ts';
import type { UpstreamSpec } from '../runners/upstream.port.ts';

/** Helpers for the runner tests: specs for fixtures and npm servers, and process inspection. */

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const everythingBin = join(repoRoot, 'node_modules/.bin/mcp-server-everything');
/** server-everything's entry point, run as `node <it>` (process.execPath): no shell shim. */
export const everythingEntry = join(
  repoRoot,
  'node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);
/** tsx's loader, to run a TypeScript fixture as `node --import <it> <file>.ts`. */
export const tsxLoader = join(repoRoot, 'node_modules/tsx/dist/esm/index.mjs');

export function fixturePath(name: string): string {
  return join(repoRoot, 'test/fixtures/upstreams', `${name}.server.ts`);
}

/** A spec with defaults a test overrides. */
export function spec(
  transport: UpstreamSpec['transport'],
  overrides: Partial<Omit<UpstreamSpec, 'transport'>> = {},
): UpstreamSpec {
  return {
    serverId: randomUUID(),
    name: 'test-server',
    revision: 1n,
    transport,
    replicas: 1,
    extraUrls: [],
    loadBalancing: 'round-robin',
    weights: [],
    // As for a server that leaves it unset (host-spec.ts).
    clientSessions: defaultClientSessions(transport.type),
    connectTimeoutMs: 20_000,
    callTimeoutMs: 20_000,
    ...overrides,
  };
}

/**
 * A stdio fixture run with tsx. `marker` goes on the command line (servers ignore extra
 * arguments) so a test can find exactly its own processes with `processesWith(marker)`.
 */
export function fixtureTransport(
  name: string,
  marker: string,
  env: Record<string, string> = {},
): UpstreamSpec['transport'] {
  return {
    type: 'stdio',
    command: process.execPath,
    args: ['--import', 'tsx', fixturePath(name), `--sy-test=${marker}`],
    env,
    cwd: repoRoot,
  };
}

export function everythingTransport(marker: string): UpstreamSpec['transport'] {
  return {
    type: 'stdio',
    command: everythingBin,
    args: ['stdio', `--sy-test=${marker}`],
    env: {},
    cwd: repoRoot,
  };
}

export function newMarker(): string {
  return `m${randomUUID().replaceAll('-', '')}`;
}

/** Pids of live (non-zombie) processes whose command line contains `marker`. */
export async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker) && (await isAlive(Number(entry)))) pids.push(Number(entry));
  }
  return pids;
}

type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;

/** Polls until `check` returns something truthy; generous, for a loaded 2-core machine. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 30_000, what = 'condition' }: { timeoutMs?: number; what?: string } = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function textOf(result: CallToolResult): string {
  return result.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

/** A logger whose lines a test can read back. */
export function capturingLogger(level = 'debug'): {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, sink), lines: () => lines };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * server-everything over HTTP (`streamableHttp` or `sse`) on a free loopback port, in its own
 * process group; resolves once it listens.
 */
export async function startEverythingHttp(
  mode: 'streamableHttp' | 'sse',
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(everythingBin, [mode], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const pid = child.pid!;
  const stop = () => killGroup(pid, 2_000);
  try {
    await eventually(() => /listening on port|Server is running/i.test(output), {
      timeoutMs: 30_000,
      what: `server-everything ${mode} to listen`,
    });
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}; output: ${output}`);
  }
  return { url: `http://127.0.0.1:${port}/${mode === 'sse' ? 'sse' : 'mcp'}`, pid, stop };
}
