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
 * Two gateways of one distributed deployment in this process, on a fresh PostgreSQL database and
 * this run's own NATS streams: `a` runs every role, `b` is a gateway only (its tool calls go to a's
 * runner over NATS).
 */
export async function startGatewayPair(env: Record<string, string> = {}): Promise<{
  a: System;
  b: System;
  stop(): Promise<void>;
}> {
  const db = await createTestDatabase('sy_pair');
  const prefix = uniqueName('pair').toLowerCase();
  const shared = {
    DATABASE_URL: db.url,
    NATS_URL: services().natsUrl,
    SWITCHYARD_SECRET_KEY: randomBytes(32).toString('base64'),
    SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
    SWITCHYARD_SUBJECT_PREFIX: prefix,
    SWITCHYARD_EVENTS_STREAM: prefix.toUpperCase(),
    SWITCHYARD_DLQ_STREAM: `${prefix.toUpperCase()}_DLQ`,
    SWITCHYARD_PORT: '0',
    SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    ...env,
  };
  const a = await startSystem(parseConfig(shared), silentLogger());
  const b = await startSystem(parseConfig({ ...shared, SWITCHYARD_ROLES: 'gateway' }), silentLogger());
  return {
    a,
    b,
    async stop() {
      await b.stop();
      await a.stop();
      const { connect } = await import('nats');
      const nc = await connect({ servers: services().natsUrl });
      const jsm = await nc.jetstreamManager();
      for (const s of [shared.SWITCHYARD_EVENTS_STREAM, shared.SWITCHYARD_DLQ_STREAM])
        await jsm.streams.delete(s).catch(() => undefined);
      await nc.close();
      await db.drop();
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
