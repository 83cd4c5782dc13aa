import { randomBytes } from 'node:crypto';
import { silentLogger } from '../kernel/logger.ts';
import { type System, startSystem } from '../runtime/compose.ts';
import { parseConfig } from '../runtime/config.ts';
import { adminAuth, TEST_ADMIN_KEY } from './access.ts';
import { createTestDatabase, services, uniqueName } from './services.ts';

/** A whole in-memory system (PGlite, in-process bus) with the test administrator's key. */
export async function startMemorySystem(env: Record<string, string> = {}): Promise<System> {
  return startSystem(
    parseConfig({
      SWITCHYARD_DATA_DIR: 'memory://',
      SWITCHYARD_PORT: '0',
      SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
      ...env,
    }),
    silentLogger(),
  );
}

/**
 * What the systems of one distributed deployment share in a test: a fresh PostgreSQL database and
 * this run's own NATS subjects and streams, with the test administrator's key; `drop` removes them.
 */
export async function distributedTestEnv(label: string): Promise<{
  env: Record<string, string>;
  drop(): Promise<void>;
}> {
  const db = await createTestDatabase(`sy_${label}`);
  const prefix = uniqueName(label).toLowerCase();
  const streams = [prefix.toUpperCase(), `${prefix.toUpperCase()}_DLQ`];
  return {
    env: {
      DATABASE_URL: db.url,
      NATS_URL: services().natsUrl,
      SWITCHYARD_SECRET_KEY: randomBytes(32).toString('base64'),
      SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
      SWITCHYARD_SUBJECT_PREFIX: prefix,
      SWITCHYARD_EVENTS_STREAM: streams[0]!,
      SWITCHYARD_DLQ_STREAM: streams[1]!,
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    },
    async drop() {
      const { connect } = await import('nats');
      const nc = await connect({ servers: services().natsUrl });
      const jsm = await nc.jetstreamManager();
      for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
      await nc.close();
      await db.drop();
    },
  };
}

/**
 * Two gateways of one distributed deployment in this process, on a fresh PostgreSQL database and
 * this run's own NATS streams: `a` runs every role, `b` is a gateway only (its tool calls go to a's
 * runner over NATS).
 */
export async function startGatewayPair(env: Record<string, string> = {}): Promise<{
  a: System;
  b: System;
  stop(): Promise<void>;
}> {
  const deployment = await distributedTestEnv('pair');
  const shared = { ...deployment.env, SWITCHYARD_PORT: '0', ...env };
  const a = await startSystem(parseConfig(shared), silentLogger());
  const b = await startSystem(parseConfig({ ...shared, SWITCHYARD_ROLES: 'gateway' }), silentLogger());
  return {
    a,
    b,
    // Whatever happens to the systems, the run's database and streams go.
    async stop() {
      try {
        await b.stop();
        await a.stop();
      } finally {
        await deployment.drop();
      }
    },
  };
}

/** fetch against a system's gateway as `token` (the test administrator by default; '' for nobody). */
export function client(system: System, token?: string) {
  const headers: Record<string, string> =
    token === undefined ? adminAuth : token === '' ? {} : { authorization: `Bearer ${token}` };
  return async (
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(`${system.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...headers,
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return {
      status: res.status,
      headers: res.headers,
      json: json as Record<string, unknown> & { items?: unknown[] },
      text,
    };
  };
}

/**
 * Registers a stdio server as the test administrator and waits (up to a minute) until `probe`, one
 * of its tools with arguments, answers 200 over REST: discovered, running and callable.
 */
export async function registerStdioServer(
  system: System,
  name: string,
  args: readonly string[],
  probe: { tool: string; args: Record<string, unknown> },
): Promise<void> {
  const admin = client(system);
  const r = await admin('/api/v1/servers?wait=true', {
    body: { name, transport: { type: 'stdio', command: process.execPath, args } },
  });
  if (r.status !== 202) throw new Error(`registering ${name}: ${r.status} ${r.text}`);
  const deadline = Date.now() + 60_000;
  while ((await admin(`/api/v1/servers/${name}/tools/${probe.tool}`, { body: probe.args })).status !== 200) {
    if (Date.now() > deadline) throw new Error(`${name} did not answer ${probe.tool} within a minute`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
