import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import nats from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectOptionsFor } from '../../bus/nats/nats.bus.ts';
import { adminAuth } from '../access.ts';
import { createTestDatabase, hasPostgres } from '../services.ts';
import {
  adminFetch,
  cleanEnv,
  freePort,
  type Program,
  runCli,
  startProgram,
  until,
  waitForHttp,
} from './program.ts';

const CONF = fileURLToPath(new URL('../../deploy/nats.conf', import.meta.url));
const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find(
  (p) => existsSync(p),
);
const EVERYTHING = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-everything/dist/index.js',
);
const ROLES = ['gateway', 'worker', 'runner', 'relay', 'projector', 'operator'] as const;

const enabled = hasPostgres() && NATS_SERVER !== undefined;
if (!enabled) {
  if (process.env.CI)
    throw new Error('NATS permissions e2e needs PostgreSQL and the nats-server binary on CI');
  console.warn('!!! NATS permissions e2e SKIPPED: needs DATABASE_URL and a nats-server binary');
}

/**
 * docker-compose's NATS (deploy/nats.conf), for real: a nats-server of our own with that file, and
 * every role as its own process with its own NATS user. Everything a user does works with no
 * permission violation in the server's log; what a role may not do is refused.
 */
describe.skipIf(!enabled)("NATS with one user per role (docker-compose's deploy/nats.conf)", () => {
  // As docker-compose's .env asks: letters and digits, starting with a letter (NATS reads the
  // variable as a config value: one starting with a digit would be a number).
  const passwords = Object.fromEntries(
    ROLES.map((r) => [r, `p${randomBytes(12).toString('hex')}`]),
  ) as Record<(typeof ROLES)[number], string>;
  let natsServer: { child: ChildProcess; port: number };
  let dir: string;
  let natsPort: number;
  const management: string[] = [];
  let gateway: string;
  let drop: () => Promise<void>;
  const programs: Program[] = [];
  const urlOf = (role: (typeof ROLES)[number]) => `nats://${role}:${passwords[role]}@127.0.0.1:${natsPort}`;
  const natsLog = () => readFile(join(dir, 'nats.log'), 'utf8');
  const violations = async () => (await natsLog()).split('\n').filter((l) => /Violation/i.test(l));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sy-nats-perms-'));
    natsServer = await startNatsServer(dir, passwords);
    natsPort = natsServer.port;

    const db = await createTestDatabase('sy_nats_perms');
    drop = db.drop;
    const common = {
      DATABASE_URL: db.url,
      SWITCHYARD_SECRET_KEY: randomBytes(32).toString('base64'),
      SWITCHYARD_LOG_LEVEL: 'info',
      SWITCHYARD_WORKSPACE: join(dir, 'workspace'),
    };
    const start = (role: (typeof ROLES)[number], extra: string[] = [], env: Record<string, string> = {}) => {
      const p = startProgram(
        ['start', role, ...extra],
        cleanEnv({ ...common, NATS_URL: urlOf(role), ...env }),
      );
      programs.push(p);
      return p;
    };
    // Any order: a role that may not create the streams waits for the relay to.
    const port = await freePort();
    const g = start('gateway', ['--port', String(port)]);
    // The other roles serve /ready and /metrics on a management port, which reads the bus too.
    for (const role of ['runner', 'worker', 'projector', 'relay'] as const) {
      const port = await freePort();
      management.push(`http://127.0.0.1:${port}`);
      start(role, [], { SWITCHYARD_MANAGEMENT_PORT: String(port) });
    }
    gateway = `http://127.0.0.1:${port}`;
    await waitForHttp(`${gateway}/ready`, g, 120_000);
    // Every role up (the worker serving commands, the runner following servers, …).
    const deadline = Date.now() + 120_000;
    while (!programs.every((p) => p.output().includes('switchyard started'))) {
      const dead = programs.find((p) => p.child.exitCode !== null);
      if (dead || Date.now() > deadline) {
        throw new Error(`roles did not start:\n${programs.map((p) => p.output()).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all(programs.map((p) => p.stop()));
    // Wait for nats-server to exit: while it still flushes its store, removing the directory fails
    // (ENOTEMPTY, seen in CI).
    const nats = natsServer?.child;
    if (nats && nats.exitCode === null && nats.signalCode === null) {
      const exited = once(nats, 'exit');
      nats.kill();
      await exited;
    }
    await drop?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('serves everything a user does, with no permission violation', { timeout: 180_000 }, async () => {
    const json = { 'content-type': 'application/json' };
    const registered = await adminFetch(`${gateway}/api/v1/servers?wait=true`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        name: 'everything',
        transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] },
      }),
    });
    expect(registered.status, await registered.clone().text()).toBe(202);
    // Gateway → runner (sy.exec.<serverId>) and back (in the reply, or on sy.exec.reply.<gatewayId>.<callId>.result); the worker's
    // discovery through the runner lists the tool.
    const echoed = await until(async () => {
      const r = await adminFetch(`${gateway}/api/v1/servers/everything/tools/echo`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ message: 'through every role' }),
      });
      return r.status === 200 ? await r.text() : undefined;
    }, 90_000);
    expect(echoed).toContain('through every role');

    // Runner → gateway requests (sampling for the caller) and progress, over MCP.
    const mcp = new Client({ name: 'perms', version: '1.0.0' }, { capabilities: { sampling: {} } });
    mcp.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: 'test',
      role: 'assistant',
      content: { type: 'text', text: 'sampled by the caller' },
    }));
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway}/servers/everything/mcp`), {
        requestInit: { headers: adminAuth },
      }),
    );
    try {
      const sampled = await mcp.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi' } });
      expect(JSON.stringify(sampled)).toContain('sampled by the caller');
      const progress: number[] = [];
      await mcp.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 2 } },
        undefined,
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(progress.length).toBeGreaterThan(0);
    } finally {
      await mcp.close();
    }

    // Gateway → projector (sy.cmd.projection.rebuild); an access change (sy.access.changed).
    const rebuilt = await adminFetch(`${gateway}/api/v1/projections/servers/rebuild`, { method: 'POST' });
    expect(rebuilt.status).toBe(200);
    const key = await adminFetch(`${gateway}/api/v1/api-keys`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'perms-key' }),
    });
    expect(key.status, await key.clone().text()).toBeLessThan(300);

    // An operator reads the bus with the read-only user.
    const info = await runCli(['nats', '--json', '--nats-url', urlOf('operator')], cleanEnv({}));
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ stream: { name: 'SY_EVENTS' } });

    // Every role's readiness and metrics, which look at the stream and its consumers.
    for (const url of management) {
      expect((await fetch(`${url}/ready`)).status, url).toBe(200);
      expect((await fetch(`${url}/metrics`)).status, url).toBe(200);
    }

    // The one refusal expected: a role that started before the relay tried to create the streams,
    // was refused, and waited for the relay (the gateway and the runner above start first).
    const unexpected = (await violations()).filter(
      (l) =>
        !/User "(gateway|worker|runner|projector)", Subject "\$JS\.API\.STREAM\.CREATE\.SY_(EVENTS|DLQ)"/.test(
          l,
        ),
    );
    expect(unexpected).toEqual([]);
  });

  it('refuses a runner commands, events, the streams and the replies of other roles', async () => {
    const before = (await violations()).length;
    const nc = await nats.connect(connectOptionsFor(urlOf('runner')));
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.data));
    })();
    try {
      const refused = async (f: () => Promise<unknown>) => {
        const e = await f().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect((e as { code?: string } | undefined)?.code).toBe('PERMISSIONS_VIOLATION');
      };
      await refused(() => nc.request('sy.cmd.server.register', '{}', { timeout: 2_000 }));
      const jsm = await nc.jetstreamManager();
      await refused(() => jsm.streams.delete('SY_EVENTS'));
      await refused(() => jsm.streams.purge('SY_EVENTS'));
      await refused(() => jsm.consumers.add('SY_EVENTS', { durable_name: 'spy' }));
      nc.publish('sy.events.server.server-registered', '{}');
      nc.publish('sy.access.changed', '{}');
      nc.subscribe('_INBOX_gateway.>');
      nc.subscribe('sy.exec.reply.*.>');
      nc.subscribe('sy.cmd.>');
      await nc.flush();
      await until(async () => ((await violations()).length >= before + 9 ? true : undefined), 10_000);
    } finally {
      await nc.close();
    }
    const lines = (await violations()).slice(before);
    expect(lines.every((l) => l.includes('User "runner"'))).toBe(true);
    for (const subject of [
      'sy.cmd.server.register',
      '$JS.API.STREAM.DELETE.SY_EVENTS',
      '$JS.API.STREAM.PURGE.SY_EVENTS',
      'sy.events.server.server-registered',
      'sy.access.changed',
      '_INBOX_gateway.>',
      'sy.exec.reply.*.>',
      'sy.cmd.>',
    ]) {
      expect(
        lines.some((l) => l.includes(`"${subject}"`)),
        subject,
      ).toBe(true);
    }
  });

  it('refuses a gateway the events and the streams', async () => {
    const before = (await violations()).length;
    const nc = await nats.connect(connectOptionsFor(urlOf('gateway')));
    try {
      nc.publish('sy.events.server.server-registered', '{}');
      const jsm = await nc.jetstreamManager();
      await expect(jsm.streams.delete('SY_EVENTS')).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      await nc.flush();
      await until(async () => ((await violations()).length >= before + 2 ? true : undefined), 10_000);
    } finally {
      await nc.close();
    }
    // Nothing got onto the stream that the relay did not put there.
    const operator = await nats.connect(connectOptionsFor(urlOf('operator')));
    try {
      const info = await (await operator.jetstreamManager()).streams.info('SY_EVENTS', {
        subjects_filter: 'sy.events.server.server-registered',
      });
      expect(info.state.subjects?.['sy.events.server.server-registered']).toBe(1);
    } finally {
      await operator.close();
    }
  });
});

/**
 * A nats-server with deploy/nats.conf on a free loopback port, its log in `dir`. Tried again on
 * another port if the one picked was taken in between.
 */
async function startNatsServer(
  dir: string,
  passwords: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const log = join(dir, `nats-${attempt}.log`);
    const child = spawn(
      NATS_SERVER!,
      ['-c', CONF, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'js'), '-l', log],
      {
        env: Object.fromEntries(
          Object.entries(passwords).map(([r, p]) => [`NATS_${r.toUpperCase()}_PASSWORD`, p]),
        ),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if (text.includes('Server is ready')) {
        await symlink(log, join(dir, 'nats.log'));
        return { child, port };
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill();
        if (attempt === 3) {
          throw new Error(`nats-server did not start (exit ${child.exitCode}):\n${stderr}\n${text}`);
        }
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('docker-compose.yml', () => {
  it('mounts deploy/nats.conf and connects every role as its own NATS user', async () => {
    const { parse } = await import('yaml');
    const compose = parse(
      await readFile(fileURLToPath(new URL('../../docker-compose.yml', import.meta.url)), 'utf8'),
      { merge: true },
    );
    expect(compose.services.nats.volumes).toContain('./deploy/nats.conf:/etc/nats/switchyard.conf:ro');
    expect(compose.services.nats.command).toEqual(['-c', '/etc/nats/switchyard.conf', '-js', '-sd', '/data']);
    for (const [service, svc] of Object.entries(
      compose.services as Record<string, Record<string, unknown>>,
    )) {
      const command = svc.command as string[] | undefined;
      if (command?.[0] !== 'start') continue;
      const role = command[1]!;
      const env = svc.environment as Record<string, string>;
      expect(env.NATS_URL, service).toBe(
        `nats://${role}:\${NATS_${role.toUpperCase()}_PASSWORD:?set NATS_${role.toUpperCase()}_PASSWORD in .env}@nats:4222`,
      );
      expect(env.DATABASE_URL, service).toBeDefined();
    }
  });
});
