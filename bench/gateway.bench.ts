import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { newApiKey } from '../kernel/api-keys.ts';
import { silentLogger } from '../kernel/logger.ts';
import { type System, startSystem } from '../runtime/compose.ts';
import { parseConfig } from '../runtime/config.ts';
import { type AccessCost, measureAccessCost } from './access-cost.ts';
import { type BareProxy, startBareProxy } from './bare-proxy.ts';
import type { BenchContext } from './context.ts';
import {
  alternate,
  alternateAll,
  type LoopResult,
  latency,
  merge,
  type PairResult,
  throughput,
} from './load.ts';
import type { BenchResult, Note, Row } from './report.ts';
import { statelessVsSessions } from './stateless.ts';
import type { LatencySummary } from './stats.ts';

const EVERYTHING = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);
const CONCURRENCY = 32;
/** The administrator every system of this bench is started with (SWITCHYARD_ADMIN_KEY). */
const SWITCHYARD = fileURLToPath(new URL('../bin/switchyard.mjs', import.meta.url));
const BARE_PROXY = fileURLToPath(new URL('./bare-proxy.ts', import.meta.url));
const ADMIN_KEY = newApiKey().key;
const AUTHORIZATION = `Bearer ${ADMIN_KEY}`;

async function until<T>(f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function direct(): Promise<Client> {
  const client = new Client({ name: 'bench-direct', version: '1' });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [EVERYTHING], stderr: 'ignore' }),
  );
  return client;
}

/** An MCP session on the gateway's `/mcp`, as the administrator unless `authorization` is null. */
function viaGateway(url: string, authorization: string | null = AUTHORIZATION): Promise<Client> {
  return mcpClient(`${url}/mcp`, authorization);
}

/** An MCP session over Streamable HTTP on `endpoint`. */
async function mcpClient(endpoint: string, authorization: string | null): Promise<Client> {
  const client = new Client({ name: 'bench-gateway', version: '1' });
  const headers: Record<string, string> = authorization === null ? {} : { authorization };
  await client.connect(new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers } }));
  return client;
}

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function registerEverything(url: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/servers?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: AUTHORIZATION },
    body: JSON.stringify({
      name: 'everything',
      transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] },
      // One upstream process for every client, as the bare proxy has: by default a client whose call
      // would share it with another client's gets a process of its own (up to 16), which the
      // baselines do not start.
      settings: { clientSessions: 0 },
    }),
  });
  if (res.status !== 202) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  const probe = await viaGateway(url);
  await until(async () => {
    const { tools } = await probe.listTools();
    return tools.some((t) => t.name === 'everything__echo') ? true : undefined;
  });
  await probe.close();
}

/** What a gateway is measured against, started once per run and shared by both modes. */
interface Baselines {
  /** The SDK client straight on the upstream over stdio: one client, calls multiplexed. */
  stdio: Client;
  /** The same upstream serving Streamable HTTP itself (server-everything's own HTTP mode). */
  http: { url: string; stop(): Promise<void> };
  /** The bare SDK proxy (bare-proxy.ts), in this process like the gateway. */
  proxy: BareProxy;
}

async function startBaselines(): Promise<Baselines> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
  const http = {
    url: `http://127.0.0.1:${port}/mcp`,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
  await until(async () => {
    await (await mcpClient(http.url, null)).close();
    return true;
  });
  return {
    stdio: await direct(),
    http,
    proxy: await startBareProxy({ command: process.execPath, args: [EVERYTHING] }),
  };
}

async function stopBaselines(b: Baselines): Promise<void> {
  await Promise.allSettled([b.stdio.close(), b.http.stop(), b.proxy.close()]);
}

/**
 * The same echo tool through `/mcp` against the baselines, sequentially and at 32 concurrent
 * clients (each with its own session, on the gateway, the upstream's own HTTP and the bare proxy),
 * alternating all four; every gateway call recorded in the event log.
 */
async function measure(
  ctx: BenchContext,
  mode: string,
  system: System,
  base: Baselines,
): Promise<{ rows: Row[]; notes: Note[] }> {
  const sessions = (url: string, authorization: string | null) =>
    Promise.all(Array.from({ length: CONCURRENCY }, () => mcpClient(url, authorization)));
  const gatewayClients = await sessions(`${system.url!}/mcp`, AUTHORIZATION);
  const httpClients = await sessions(base.http.url, null);
  const proxyClients = await sessions(base.proxy.url, null);
  const headBefore = await system.store.headPosition();
  const calledBefore = await system.store.countAfter(0n, {
    categories: ['toolcall'],
    types: ['ToolCallSucceeded'],
  });
  let gatewayCalls = 0;
  const echo = (clients: Client[], name: string) => async (worker: number) => {
    await clients[worker]!.callTool({ name, arguments: { message: 'bench' } });
  };
  const gatewayEcho = echo(gatewayClients, 'everything__echo');
  const rows: Row[] = [];
  const notes: Note[] = [];
  for (const concurrency of [1, CONCURRENCY]) {
    ctx.log(`gateway (${mode}): echo at ${concurrency} concurrent`);
    const r = await alternateAll({
      subject: async (worker) => {
        await gatewayEcho(worker);
        gatewayCalls++;
      },
      baselines: {
        stdio: echo([base.stdio], 'echo').bind(null, 0),
        http: echo(httpClients, 'echo'),
        proxy: echo(proxyClients, 'echo'),
      },
      concurrency,
      sliceMs: ctx.scale(2_000, 1_000),
      rounds: ctx.scale(3, 2),
      warmupMs: ctx.scale(500, 300),
    });
    const label = concurrency === 1 ? 'sequential' : `${concurrency} clients`;
    rows.push(...comparisonRows(`gateway ${mode}`, label, r.subject, r.baselines));
    const s = latency(r.subject);
    const h = latency(r.baselines.http);
    notes.push({
      bench: `gateway ${mode}`,
      text: `${label}: the upstream's own Streamable HTTP p50 ${h.p50.toFixed(2)} / p99 ${h.p99.toFixed(2)} ms, ${Math.round(throughput(r.baselines.http))} calls/s; Switchyard adds p50 ${(s.p50 - latency(r.baselines.proxy).p50).toFixed(2)} ms to the bare proxy`,
    });
  }
  // Every call through the gateway is in the log: count the ToolCallSucceeded events it added.
  const recorded = await until(async () => {
    const n =
      (await system.store.countAfter(0n, { categories: ['toolcall'], types: ['ToolCallSucceeded'] })) -
      calledBefore;
    return n >= gatewayCalls ? n : undefined;
  }, 30_000).catch(() => -1);
  notes.push({
    bench: `gateway ${mode}`,
    text: `${gatewayCalls} calls through the gateway, ${recorded} ToolCallSucceeded events appended (log head moved from ${headBefore})`,
  });
  const stateless = await statelessVsSessions(ctx, mode, system.url!, AUTHORIZATION, gatewayClients);
  rows.push(...stateless.rows);
  notes.push(...stateless.notes);
  await Promise.all([...gatewayClients, ...httpClients, ...proxyClients].map((c) => c.close()));
  return { rows, notes };
}

/** The gateway against the bare proxy (with the aims) and against the stdio upstream. */
function comparisonRows(
  bench: string,
  label: string,
  subject: LoopResult,
  baselines: { stdio: LoopResult; proxy: LoopResult },
): Row[] {
  const s = latency(subject);
  const p = latency(baselines.proxy);
  const d = latency(baselines.stdio);
  const sequential = label === 'sequential';
  const proxy = 'bare SDK proxy (Streamable HTTP → one stdio client)';
  const stdio = 'SDK client straight to the stdio upstream';
  return [
    {
      bench,
      metric: `echo, ${label}: p50 latency`,
      unit: 'ms',
      value: s.p50,
      baseline: p.p50,
      baselineLabel: proxy,
      better: 'lower',
      ...(sequential ? { aim: { text: '≤ bare proxy + 2 ms', met: s.p50 <= p.p50 + 2 } } : {}),
    },
    {
      bench,
      metric: `echo, ${label}: p99 latency`,
      unit: 'ms',
      value: s.p99,
      baseline: p.p99,
      baselineLabel: proxy,
      better: 'lower',
    },
    {
      bench,
      metric: `echo, ${label}: calls/s`,
      unit: 'calls/s',
      value: throughput(subject),
      baseline: throughput(baselines.proxy),
      baselineLabel: proxy,
      better: 'higher',
      ...(sequential
        ? {}
        : {
            aim: {
              text: '≥ 80% of bare proxy',
              met: throughput(subject) >= throughput(baselines.proxy) * 0.8,
            },
          }),
    },
    {
      bench,
      metric: `echo, ${label}: p50 latency`,
      unit: 'ms',
      value: s.p50,
      baseline: d.p50,
      baselineLabel: stdio,
      better: 'lower',
    },
    {
      bench,
      metric: `echo, ${label}: calls/s`,
      unit: 'calls/s',
      value: throughput(subject),
      baseline: throughput(baselines.stdio),
      baselineLabel: stdio,
      better: 'higher',
    },
  ];
}

/** The resident memory of a process, from /proc (Linux), in MB. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (in parentheses, which may hold spaces): utime is 14th, stime 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Calls each of the 32 sessions makes in the footprint, and over which the CPU per call is taken. */
const FOOTPRINT_CALLS = 30;

/**
 * Opens 32 sessions on `endpoint`, has each call the tool FOOTPRINT_CALLS times, and answers the
 * RSS of `pid` and the CPU it used per call (all its threads: for the embedded system, PGlite's
 * too) while the calls ran.
 */
async function footprintWith32Sessions(pid: number, endpoint: string, tool: string, auth: string | null) {
  const clients = await Promise.all(Array.from({ length: CONCURRENCY }, () => mcpClient(endpoint, auth)));
  const cpuBefore = await cpuSeconds(pid);
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < FOOTPRINT_CALLS; i++)
        await c.callTool({ name: tool, arguments: { message: 'bench' } });
    }),
  );
  const cpuMsPerCall = (((await cpuSeconds(pid)) - cpuBefore) * 1000) / (CONCURRENCY * FOOTPRINT_CALLS);
  const rss = await rssMb(pid);
  await Promise.all(clients.map((c) => c.close()));
  return { rss, cpuMsPerCall };
}

/**
 * The memory and start-up of the embedded system as a user runs it (`switchyard start`, its own
 * process, PGlite in a temporary directory, authentication on) against the bare proxy in its own
 * process, both with 32 sessions open that have called a tool; the upstreams' processes not counted.
 */
async function footprint(ctx: BenchContext): Promise<{ rows: Row[]; notes: Note[] }> {
  ctx.log('gateway (footprint): embedded `switchyard start` and the bare proxy as processes');
  const dir = await mkdtemp(join(tmpdir(), 'sy-bench-footprint-'));
  const { DATABASE_URL: _db, NATS_URL: _nats, EVENTSTORE_URL: _es, ...env } = process.env;
  const port = await freePort();
  const t0 = performance.now();
  const system = spawn(process.execPath, [SWITCHYARD, 'start'], {
    env: {
      ...env,
      SWITCHYARD_DATA_DIR: dir,
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_AUTH: 'on',
      SWITCHYARD_ADMIN_KEY: ADMIN_KEY,
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
      SWITCHYARD_LOG_LEVEL: 'silent',
    },
    stdio: 'ignore',
  });
  const proxyPort = await freePort();
  const proxy = spawn(
    process.execPath,
    ['--import', 'tsx', BARE_PROXY, String(proxyPort), process.execPath, EVERYTHING],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    const url = `http://127.0.0.1:${port}`;
    await until(async () => ((await fetch(`${url}/ready`)).ok ? true : undefined), 120_000);
    const startupMs = performance.now() - t0;
    await registerEverything(url);
    const systemUse = await footprintWith32Sessions(
      system.pid!,
      `${url}/mcp`,
      'everything__echo',
      AUTHORIZATION,
    );
    await once(proxy.stdout!, 'data');
    const proxyUse = await footprintWith32Sessions(
      proxy.pid!,
      `http://127.0.0.1:${proxyPort}/mcp`,
      'echo',
      null,
    );
    return {
      rows: [
        {
          bench: 'gateway embedded',
          metric: 'RSS of the process, 32 sessions open',
          unit: 'MB',
          value: systemUse.rss,
          baseline: proxyUse.rss,
          baselineLabel: 'the bare SDK proxy, 32 sessions open',
          better: 'lower',
          aim: { text: '≤ 300 MB', met: systemUse.rss <= 300 },
        },
        {
          bench: 'gateway embedded',
          metric: `CPU of the process per call (all its threads), 32 sessions × ${FOOTPRINT_CALLS} calls`,
          unit: 'ms',
          value: systemUse.cpuMsPerCall,
          baseline: proxyUse.cpuMsPerCall,
          baselineLabel: 'the bare SDK proxy, the same calls',
          better: 'lower',
        },
      ],
      notes: [
        {
          bench: 'gateway embedded',
          text: `\`switchyard start\` (embedded, fresh data directory, auth on) answered /ready ${Math.round(startupMs)} ms after its spawn`,
        },
      ],
    };
  } finally {
    system.kill('SIGTERM');
    proxy.kill('SIGTERM');
    await Promise.allSettled([once(system, 'exit'), once(proxy, 'exit')]);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Where the time goes: the store appends on the call's path, timed alone on the same store. */
async function appendCost(system: System): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const id = crypto.randomUUID();
    await system.store.append(
      `benchprobe-${id}`,
      [
        {
          id,
          type: 'Probe',
          data: {},
          metadata: { correlationId: id, causationId: id, actor: 'bench', schemaVersion: 1 },
        },
      ],
      'no-stream',
    );
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/** One request kind measured through `/mcp` with authentication on and off. */
interface OnOff {
  what: string;
  on: LatencySummary;
  off: LatencySummary;
  /** p50 of the off side in each block: how far it moves on its own between blocks. */
  offBlocks: number[];
}

/**
 * `on` against `off`, sequentially, alternating, in two blocks (so that the off side, measured twice,
 * shows how far a p50 moves between blocks with nothing changed: the noise floor of the difference).
 */
async function onOff(
  what: string,
  on: () => Promise<void>,
  off: () => Promise<void>,
  timing: { sliceMs: number; rounds: number; warmupMs: number },
): Promise<OnOff> {
  const blocks: PairResult[] = [];
  for (let b = 0; b < 2; b++) {
    blocks.push(
      await alternate({
        subject: on,
        baseline: off,
        concurrency: 1,
        ...timing,
        warmupMs: b === 0 ? timing.warmupMs : 0,
      }),
    );
  }
  return {
    what,
    on: latency(merge(blocks.map((x) => x.subject))),
    off: latency(merge(blocks.map((x) => x.baseline))),
    offBlocks: blocks.map((x) => latency(x.baseline).p50),
  };
}

/** An embedded system (PGlite, in-process bus) without the built-in templates (see gatewayBench). */
function startEmbedded(auth: 'on' | 'off'): Promise<System> {
  return startSystem(
    parseConfig({
      SWITCHYARD_DATA_DIR: 'memory://',
      SWITCHYARD_PORT: '0',
      SWITCHYARD_LOG_LEVEL: 'silent',
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
      SWITCHYARD_AUTH: auth,
      ...(auth === 'on' ? { SWITCHYARD_ADMIN_KEY: ADMIN_KEY } : {}),
    }),
    silentLogger(),
  );
}

/**
 * What authentication and authorization add to a call, two ways. Through HTTP, the embedded system
 * `on` (the administrator's API key on every request) against a second one alike but for
 * SWITCHYARD_AUTH=off (loopback, the dev principal), both fresh: the echo call, and an MCP `ping`
 * (the same authentication on its request, no tool call, no append: a request cheap enough for
 * microseconds to show). In process: the resolver and the decisions alone (access-cost.ts), which a
 * call of milliseconds through PGlite cannot resolve to tens of microseconds.
 */
async function authOnOff(ctx: BenchContext, on: System): Promise<{ rows: Row[]; notes: Note[] }> {
  ctx.log('gateway (auth): a second embedded system, SWITCHYARD_AUTH=off');
  const off = await startEmbedded('off');
  const http: OnOff[] = [];
  try {
    await registerEverything(off.url!);
    const onClient = await viaGateway(on.url!);
    const offClient = await viaGateway(off.url!, null);
    const echo = (client: Client) => async () => {
      await client.callTool({ name: 'everything__echo', arguments: { message: 'bench' } });
    };
    const ping = (client: Client) => async () => {
      await client.ping();
    };
    ctx.log('gateway (auth): sequential echo and ping through /mcp, SWITCHYARD_AUTH=on vs off');
    http.push(
      await onOff('echo', echo(onClient), echo(offClient), {
        sliceMs: ctx.scale(1_500, 800),
        rounds: ctx.scale(2, 1),
        warmupMs: ctx.scale(500, 300),
      }),
      await onOff('ping', ping(onClient), ping(offClient), {
        sliceMs: ctx.scale(500, 300),
        rounds: ctx.scale(2, 1),
        warmupMs: ctx.scale(300, 200),
      }),
    );
    await onClient.close();
    await offClient.close();
  } finally {
    await off.stop();
  }
  ctx.log('gateway (auth): identity and authorization in process');
  const cost = await measureAccessCost(ctx);
  return { rows: authRows(http, cost), notes: authNotes(http, cost) };
}

function authRows(http: OnOff[], cost: AccessCost): Row[] {
  const bench = 'gateway auth';
  const rows: Row[] = [];
  for (const h of http) {
    for (const p of ['p50', 'p99'] as const) {
      rows.push({
        bench,
        metric: `${h.what} through /mcp, sequential, auth on: ${p} latency`,
        unit: 'ms',
        value: h.on[p],
        baseline: h.off[p],
        baselineLabel: 'the same, SWITCHYARD_AUTH=off',
        better: 'lower',
      });
    }
  }
  const echoOff = http.find((h) => h.what === 'echo')!.off.p50 * 1000;
  const perCall = (metric: string, value: number, aim: boolean): Row => ({
    bench,
    metric,
    unit: 'µs',
    value,
    baseline: echoOff,
    baselineLabel: 'p50 of the whole echo call, SWITCHYARD_AUTH=off',
    better: 'lower',
    ...(aim ? { aim: { text: 'added p50 ≤ 50 µs', met: value <= 50 } } : {}),
  });
  rows.push(
    perCall('identity + authorization, API key, in process: p50', cost.apiKey.p50, true),
    perCall('identity + authorization, API key, in process: p99', cost.apiKey.p99, false),
    perCall('identity + authorization, cached OIDC token, in process: p50', cost.oidcCached.p50, true),
    perCall('identity + authorization, cached OIDC token, in process: p99', cost.oidcCached.p99, false),
  );
  return rows;
}

function authNotes(http: OnOff[], cost: AccessCost): Note[] {
  const bench = 'gateway auth';
  const us = (ms: number) => `${Math.round(ms * 1000).toLocaleString('en-US')} µs`;
  const p = (l: LatencySummary) => `p50 ${l.p50.toFixed(1)} / p99 ${l.p99.toFixed(1)} µs`;
  const z = cost.sizes;
  return [
    ...http.map((h) => ({
      bench,
      text: `${h.what} through /mcp, auth on − off: p50 ${us(h.on.p50 - h.off.p50)}, p99 ${us(h.on.p99 - h.off.p99)} (${h.on.count} and ${h.off.count} requests); the off side's p50 alone moved ${us(Math.max(...h.offBlocks) - Math.min(...h.offBlocks))} between its two blocks — the noise floor of this difference`,
    })),
    {
      bench,
      text: `in process, per call: API key ${p(cost.apiKey)} = resolve (HMAC-SHA-256 + constant-time compare + lookups) ${p(cost.resolveApiKey)} + the two decisions (listed, then with arguments) ${p(cost.decisions)}; cached OIDC token ${p(cost.oidcCached)}; a token verified afresh (RS256, JWKS already fetched) ${p(cost.oidcVerify)} — paid once per token until it expires`,
    },
    {
      bench,
      text: `access state: ${z.principals} principals, ${z.keys} API keys, ${z.grants} grants, ${z.policies} CEL policies (version ${z.version}); ${cost.apiKey.count.toLocaleString('en-US')} API-key and ${cost.oidcCached.count.toLocaleString('en-US')} token iterations`,
    },
  ];
}

export async function gatewayBench(ctx: BenchContext): Promise<BenchResult> {
  const rows: Row[] = [];
  const notes: Note[] = [];

  // Without the built-in templates: their sync runs in the background after start and would weigh
  // on whichever measurement it overlaps (and on the auth-on side only).
  const fp = await footprint(ctx);
  rows.push(...fp.rows);
  notes.push(...fp.notes);
  const base = await startBaselines();
  try {
    await measureBoth(ctx, base, rows, notes);
  } finally {
    await stopBaselines(base);
  }
  return { rows, notes };
}

async function measureBoth(ctx: BenchContext, base: Baselines, rows: Row[], notes: Note[]): Promise<void> {
  ctx.log('gateway: embedded system (PGlite, in-process bus)');
  const embedded = await startEmbedded('on');
  try {
    await registerEverything(embedded.url!);
    // First, while its log is as fresh as the auth-off system's.
    const auth = await authOnOff(ctx, embedded);
    rows.push(...auth.rows);
    notes.push(...auth.notes);
    const r = await measure(ctx, 'embedded', embedded, base);
    rows.push(...r.rows);
    notes.push(...r.notes, {
      bench: 'gateway embedded',
      text: `one append on PGlite takes p50 ${(await appendCost(embedded)).toFixed(2)} ms; a call pays two on its path (ToolCallStarted before the upstream sees the call, ToolCallSucceeded before the answer)`,
    });
  } finally {
    await embedded.stop();
  }

  ctx.log('gateway: distributed (PostgreSQL + NATS; the runner in its own system)');
  const db = await ctx.createDatabase('gateway');
  const names = ctx.busNames('gateway');
  const env = {
    DATABASE_URL: db.url,
    NATS_URL: ctx.natsUrl,
    SWITCHYARD_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    SWITCHYARD_ADMIN_KEY: ADMIN_KEY,
    SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    SWITCHYARD_SUBJECT_PREFIX: names.subjectPrefix,
    SWITCHYARD_EVENTS_STREAM: names.eventsStream,
    SWITCHYARD_DLQ_STREAM: names.deadLetterStream,
    SWITCHYARD_LOG_LEVEL: 'silent',
    SWITCHYARD_PORT: '0',
  };
  const runner = await startSystem(parseConfig({ ...env, SWITCHYARD_ROLES: 'runner' }), silentLogger());
  const gateway = await startSystem(
    parseConfig({ ...env, SWITCHYARD_ROLES: 'gateway,worker,relay,projector' }),
    silentLogger(),
  );
  try {
    await registerEverything(gateway.url!);
    const r = await measure(ctx, 'distributed', gateway, base);
    rows.push(...r.rows);
    notes.push(...r.notes, {
      bench: 'gateway distributed',
      text: `one append on PostgreSQL takes p50 ${(await appendCost(gateway)).toFixed(2)} ms; a quick call crosses NATS as one request and its reply (the outcome inline)`,
    });
  } finally {
    await gateway.stop();
    await runner.stop();
  }
}
