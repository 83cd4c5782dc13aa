import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth } from '../access.ts';
import { everythingEntry } from '../runners.ts';
import { createTestDatabase, hasNats, hasPostgres, services, uniqueName } from '../services.ts';
import { adminFetch, cleanEnv, freePort, type Program, startProgram, until, waitForHttp } from './program.ts';

const enabled = hasPostgres() && hasNats();
if (!enabled) console.warn('!!! metrics e2e SKIPPED: needs DATABASE_URL and NATS_URL');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A scrape: its samples, and every metric family it declares (`# TYPE`), with or without samples. */
interface Scrape {
  samples: Sample[];
  families: Set<string>;
}

function parseExposition(text: string): Scrape {
  const samples: Sample[] = [];
  const families = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) families.add(type[1]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, families };
}

/** The sum of the series of `name` whose labels include `match`; undefined when there is none. */
function value(scrape: Scrape, name: string, match: Record<string, string> = {}): number | undefined {
  const hits = scrape.samples.filter(
    (s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v),
  );
  return hits.length === 0 ? undefined : hits.reduce((n, s) => n + s.value, 0);
}

/** Pids of every process below `pid` (from /proc: the runner's upstream servers). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const tasks = (() => {
    try {
      return readdirSync(`/proc/${pid}/task`);
    } catch {
      return [];
    }
  })();
  for (const t of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ').filter(Boolean).map(Number)) out.push(c, ...descendants(c));
  }
  return out;
}

const MONITORING = fileURLToPath(new URL('../../deploy/monitoring/', import.meta.url));

/**
 * Every role as a process of its own against the local PostgreSQL and NATS, as the README starts
 * them — relay, projector, worker and runner each with a management port, and a gateway — scraped
 * before and after a user's calls: the series of each role move with what happened.
 */
describe.skipIf(!enabled)('Prometheus metrics on every role, end to end', () => {
  let drop: () => Promise<void>;
  let workspace: string;
  let stream: string;
  let gateway: string;
  const programs: Program[] = [];
  const management: Record<'relay' | 'projector' | 'worker' | 'runner', string> = {
    relay: '',
    projector: '',
    worker: '',
    runner: '',
  };
  let runner: Program;

  const scrape = async (role: keyof typeof management | 'gateway'): Promise<Scrape> => {
    const res =
      role === 'gateway'
        ? await adminFetch(`${gateway}/metrics`)
        : await fetch(`${management[role]}/metrics`);
    expect(res.status, `${role} /metrics`).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return parseExposition(await res.text());
  };
  const scrapeAll = async () => ({
    gateway: await scrape('gateway'),
    relay: await scrape('relay'),
    projector: await scrape('projector'),
    worker: await scrape('worker'),
    runner: await scrape('runner'),
  });

  beforeAll(async () => {
    const db = await createTestDatabase('sy_metrics');
    drop = db.drop;
    workspace = await mkdtemp(join(tmpdir(), 'sy-metrics-ws-'));
    const prefix = uniqueName('metrics').toLowerCase();
    stream = prefix.toUpperCase();
    const env = cleanEnv({
      DATABASE_URL: db.url,
      NATS_URL: services().natsUrl,
      SWITCHYARD_SECRET_KEY: randomBytes(32).toString('base64'),
      SWITCHYARD_SUBJECT_PREFIX: prefix,
      SWITCHYARD_EVENTS_STREAM: stream,
      SWITCHYARD_DLQ_STREAM: `${stream}_DLQ`,
      SWITCHYARD_LOG_LEVEL: 'warn',
      SWITCHYARD_WORKSPACE: workspace,
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    });
    for (const role of Object.keys(management) as Array<keyof typeof management>) {
      const port = await freePort();
      management[role] = `http://127.0.0.1:${port}`;
      const p = startProgram(['start', role], { ...env, SWITCHYARD_MANAGEMENT_PORT: String(port) });
      programs.push(p);
      if (role === 'runner') runner = p;
    }
    const port = await freePort();
    gateway = `http://127.0.0.1:${port}`;
    const g = startProgram(['start', 'gateway', '--port', String(port)], env);
    programs.push(g);
    await waitForHttp(`${gateway}/ready`, g, 120_000);
    for (const [i, url] of Object.values(management).entries())
      await waitForHttp(`${url}/ready`, programs[i]!, 120_000);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(programs.map((p) => p.stop()));
    const { connect } = await import('nats');
    const nc = await connect({ servers: services().natsUrl });
    const jsm = await nc.jetstreamManager();
    for (const s of [stream, `${stream}_DLQ`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    await drop?.();
    await rm(workspace, { recursive: true, force: true });
  }, 60_000);

  it('serves /health, /ready and /metrics on the management port of each other role, and nothing else there', async () => {
    for (const [role, url] of Object.entries(management)) {
      const health = await fetch(`${url}/health`);
      expect(health.status, role).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      const ready = await fetch(`${url}/ready`);
      expect(ready.status, role).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ready',
        checks: { database: { ok: true }, eventStore: { ok: true }, bus: { ok: true } },
      });
      // The management port is not a second gateway.
      expect((await fetch(`${url}/api/v1/servers`)).status, role).toBe(404);
      expect((await fetch(`${url}/mcp`, { method: 'POST' })).status, role).toBe(404);
    }
    // The gateway serves them on its main port, /metrics to a caller who may read it.
    expect((await fetch(`${gateway}/metrics`)).status).toBe(401);
    expect((await adminFetch(`${gateway}/metrics`)).status).toBe(200);
  });

  it('moves the series of each role when servers are registered and tools are called', {
    timeout: 240_000,
  }, async () => {
    const before = await scrapeAll();
    const post = (path: string, body: unknown, authorization: string = adminAuth.authorization) =>
      fetch(`${gateway}${path}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const echo = (message: string, authorization: string = adminAuth.authorization) =>
      post('/api/v1/servers/everything/tools/echo', { message }, authorization);

    const registered = await post('/api/v1/servers?wait=true', {
      name: 'everything',
      transport: { type: 'stdio', command: process.execPath, args: [everythingEntry] },
      settings: { healthIntervalMs: 1_000 },
    });
    expect(registered.status).toBe(202);
    await until(async () => ((await echo('up?')).status === 200 ? true : undefined), 90_000);
    for (let i = 0; i < 3; i++) expect((await echo(`call ${i}`)).status).toBe(200);
    expect((await post('/api/v1/servers/everything/tools/no-such-tool', {})).status).toBe(404);

    // A reader may not call tools: denied (and counted), whatever the endpoint answers.
    const principal = async (name: string, roles: string[]) => {
      const p = (await (await post('/api/v1/principals', { name, roles })).json()) as { id: string };
      const k = (await (await post('/api/v1/api-keys', { name, principalId: p.id })).json()) as {
        key: string;
      };
      return { id: p.id, authorization: `Bearer ${k.key}` };
    };
    const reader = await principal('reader', ['reader']);
    expect([403, 404]).toContain((await echo('not mine', reader.authorization)).status);
    // An executor limited to one echo an hour: the second is refused (429) and counted.
    const executor = await principal('executor', ['executor']);
    const limit = await post('/api/v1/rate-limits', {
      name: 'one echo',
      scope: 'principal-tool',
      points: 1,
      windowSeconds: 3600,
      match: { principal: executor.id, server: 'everything', tool: 'echo' },
    });
    expect(limit.status).toBe(202);
    expect((await echo('first', executor.authorization)).status).toBe(200);
    expect((await echo('second', executor.authorization)).status).toBe(429);

    // An MCP session open on the gateway.
    const mcp = new Client({ name: 'metrics-e2e', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway}/mcp`), {
        requestInit: { headers: { authorization: adminAuth.authorization } },
      }),
    );
    let during: Scrape;
    try {
      await mcp.listTools();
      during = await scrape('gateway');
    } finally {
      await mcp.close();
    }
    expect(value(during, 'switchyard_mcp_sessions')).toBeGreaterThanOrEqual(1);

    // The upstream process dies under the runner, which starts it again: a restart.
    const upstream = descendants(runner.child.pid!).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server-everything');
      } catch {
        return false;
      }
    });
    expect(upstream.length).toBeGreaterThan(0);
    for (const pid of upstream) process.kill(pid, 'SIGKILL');
    await until(async () => {
      const r = await scrape('runner');
      return (value(r, 'switchyard_upstream_restarts_total', { server: 'everything' }) ?? 0) >= 1
        ? true
        : undefined;
    }, 90_000);
    await until(async () => ((await echo('back?')).status === 200 ? true : undefined), 90_000);
    // The health monitor's verdict reaches the read model the worker reports from.
    await until(async () => {
      const w = await scrape('worker');
      return (value(w, 'switchyard_servers', { health: 'healthy' }) ?? 0) >= 1 ? true : undefined;
    }, 90_000);

    const after = await scrapeAll();
    const grew = (role: keyof typeof after, name: string, match: Record<string, string> = {}) =>
      (value(after[role], name, match) ?? 0) - (value(before[role], name, match) ?? 0);

    // Gateway: tool calls by server, tool and outcome, their latency, denials and rate-limit hits.
    const echoCalls = { server: 'everything', tool: 'echo' };
    expect(
      grew('gateway', 'switchyard_tool_calls_total', { ...echoCalls, outcome: 'succeeded' }),
    ).toBeGreaterThanOrEqual(6);
    expect(
      grew('gateway', 'switchyard_tool_call_duration_seconds_count', { ...echoCalls, outcome: 'succeeded' }),
    ).toBeGreaterThanOrEqual(6);
    expect(grew('gateway', 'switchyard_tool_calls_total', { ...echoCalls, outcome: 'rate_limited' })).toBe(1);
    expect(
      grew('gateway', 'switchyard_tool_calls_total', {
        server: 'everything',
        tool: '(unknown)',
        outcome: 'not_found',
      }),
    ).toBe(1);
    expect(after.gateway.samples.some((s) => s.labels.tool === 'no-such-tool')).toBe(false);
    expect(grew('gateway', 'switchyard_authz_denials_total')).toBeGreaterThanOrEqual(1);
    expect(grew('gateway', 'switchyard_rate_limit_hits_total', { scope: 'tool' })).toBe(1);
    expect(after.gateway.families).toContain('switchyard_mcp_sessions');

    // Runner: its instances by state, and the restart.
    expect(
      value(after.runner, 'switchyard_upstream_instances', { server: 'everything', state: 'healthy' }),
    ).toBeGreaterThanOrEqual(1);
    expect(value(before.runner, 'switchyard_upstream_instances', { server: 'everything' })).toBeUndefined();
    expect(
      grew('runner', 'switchyard_upstream_restarts_total', { server: 'everything' }),
    ).toBeGreaterThanOrEqual(1);

    // Worker: the registration it handled, and the servers by health.
    expect(grew('worker', 'switchyard_commands_total', { command: 'server.register', outcome: 'ok' })).toBe(
      1,
    );
    expect(value(after.worker, 'switchyard_servers', { health: 'healthy' })).toBeGreaterThanOrEqual(1);

    // Projector: checkpoints moved with the calls, lag and state are reported, the NATS consumers too.
    expect(
      grew('projector', 'switchyard_projection_checkpoint_position', { projection: 'tool_calls' }),
    ).toBeGreaterThan(0);
    expect(
      grew('projector', 'switchyard_projection_checkpoint_position', { projection: 'servers' }),
    ).toBeGreaterThan(0);
    expect(
      value(after.projector, 'switchyard_projection_lag_events', { projection: 'tool_calls' }),
    ).toBeDefined();
    expect(
      value(after.projector, 'switchyard_projection_state', { projection: 'tool_calls', state: 'failed' }),
    ).toBe(0);
    // The projections' watch is an ordered consumer the client recreates after an idle pull: look
    // again rather than at one instant.
    const groups = new Set<string>();
    await until(async () => {
      const p = await scrape('projector');
      for (const c of p.samples.filter((x) => x.name === 'switchyard_nats_consumer_pending'))
        groups.add(c.labels.consumer ?? '');
      return groups.has('projections') ? true : undefined;
    }, 30_000).catch(() => undefined);
    expect([...groups].join(' ')).toMatch(/(^| )projections( |$)/);
    expect(grew('projector', 'switchyard_nats_stream_messages')).toBeGreaterThan(0);

    // Relay: it leads, published the new events, and reports its lag.
    expect(value(after.relay, 'switchyard_relay_leader')).toBe(1);
    expect(grew('relay', 'switchyard_relay_events_published_total')).toBeGreaterThan(0);
    expect(grew('relay', 'switchyard_relay_published_position')).toBeGreaterThan(0);
    expect(value(after.relay, 'switchyard_relay_lag_events')).toBeDefined();

    // Every series the shipped alert rules and dashboard use is one some role exports.
    const exported = new Set(Object.values(after).flatMap((s) => [...s.families]));
    const used = new Set(
      [
        readFileSync(join(MONITORING, 'switchyard.rules.yml'), 'utf8'),
        readFileSync(join(MONITORING, 'switchyard.dashboard.json'), 'utf8'),
      ].flatMap((text) => text.match(/switchyard_[a-z_]+/g) ?? []),
    );
    const family = (name: string) => (exported.has(name) ? name : name.replace(/_(bucket|count|sum)$/, ''));
    expect([...used].filter((name) => !exported.has(family(name)))).toEqual([]);
  });
});

/**
 * Embedded: one process runs every role and serves every role's series on the gateway's own port;
 * a management port configured anyway is not opened.
 */
describe('Prometheus metrics of an embedded process, end to end', () => {
  let program: Program;
  let dataDir: string;
  let url: string;
  let managementPort: number;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sy-metrics-embedded-'));
    const port = await freePort();
    managementPort = await freePort();
    url = `http://127.0.0.1:${port}`;
    program = startProgram(
      ['start', '--port', String(port)],
      cleanEnv({
        SWITCHYARD_DATA_DIR: dataDir,
        SWITCHYARD_MANAGEMENT_PORT: String(managementPort),
        SWITCHYARD_BUILTIN_TEMPLATES: 'off',
        SWITCHYARD_LOG_LEVEL: 'warn',
      }),
    );
    await waitForHttp(`${url}/ready`, program, 120_000);
  }, 180_000);

  afterAll(async () => {
    await program?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("serves every role's series on the gateway's /metrics, and opens no management port", async () => {
    const res = await adminFetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    const { families, samples } = parseExposition(await res.text());
    for (const name of [
      'switchyard_tool_calls_total',
      'switchyard_tool_call_duration_seconds',
      'switchyard_mcp_sessions',
      'switchyard_authz_denials_total',
      'switchyard_rate_limit_hits_total',
      'switchyard_upstream_instances',
      'switchyard_upstream_restarts_total',
      'switchyard_commands_total',
      'switchyard_servers',
      'switchyard_projection_checkpoint_position',
      'switchyard_projection_lag_events',
      'switchyard_nats_consumer_pending',
      'switchyard_relay_leader',
      'switchyard_relay_lag_events',
    ])
      expect(families, name).toContain(name);
    // The first start's events went through the in-process relay and into the projections.
    expect(value({ families, samples }, 'switchyard_relay_leader')).toBe(1);
    expect(
      value({ families, samples }, 'switchyard_projection_checkpoint_position', { projection: 'servers' }),
    ).toBeDefined();
    await expect(fetch(`http://127.0.0.1:${managementPort}/metrics`)).rejects.toThrow();
  });
});
