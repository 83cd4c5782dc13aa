import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { adminAuth, TEST_ADMIN_KEY } from '../access.ts';

const BIN = fileURLToPath(new URL('../../bin/switchyard.mjs', import.meta.url));

/** A free TCP port on loopback (bound then released). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/**
 * Environment of a child program: ours minus the service variables, plus the given ones. A server
 * makes sure of the test administrator's key at start (SWITCHYARD_ADMIN_KEY) and a CLI command
 * presents it (SWITCHYARD_TOKEN), so the test knows a credential before anything is written.
 */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^(DATABASE_URL|NATS_URL|EVENTSTORE_URL|SWITCHYARD_.*|VITEST.*|NODE_OPTIONS)$/.test(k)) continue;
    env[k] = v;
  }
  // Programs run from the repository: keep their default ./workspace out of it.
  return {
    ...env,
    SWITCHYARD_WORKSPACE: join(tmpdir(), 'switchyard-e2e-workspace'),
    SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
    SWITCHYARD_TOKEN: TEST_ADMIN_KEY,
    ...extra,
  };
}

/**
 * What a test's embedded program runs on: a data directory of its own (the caller removes it), a free
 * port, and the environment of the program and of its CLI (SWITCHYARD_URL) — built-in templates off.
 */
export async function embeddedProgramEnv(
  label: string,
  extra: Record<string, string> = {},
): Promise<{ dataDir: string; base: string; env: Record<string, string> }> {
  const dataDir = await mkdtemp(join(tmpdir(), `sy-${label}-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = cleanEnv({
    SWITCHYARD_DATA_DIR: dataDir,
    SWITCHYARD_PORT: String(port),
    SWITCHYARD_URL: base,
    SWITCHYARD_LOG_LEVEL: 'warn',
    SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    ...extra,
  });
  return { dataDir, base, env };
}

/** `fetch` as the test administrator: every route but /health, /ready and the resource metadata wants a credential. */
export function adminFetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', adminAuth.authorization);
  return fetch(url, { ...init, headers });
}

export interface Program {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts `switchyard <args>` the way the README does. */
export function startProgram(args: string[], env: Record<string, string>): Program {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `url` until it answers 2xx (or the program dies, or time runs out). */
export async function waitForHttp(url: string, program: Program, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (program.child.exitCode !== null) throw new Error(`program exited early:\n${program.output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${url}:\n${program.output()}`);
}

/** Runs `switchyard <args>` to completion and returns its stdout. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Polls `f` until it returns something other than undefined (errors count as "not yet"). */
export async function until<T>(f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(200);
  }
}
