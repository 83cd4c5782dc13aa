import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { silentLogger } from '../kernel/logger.ts';
import { type System, startSystem } from '../runtime/compose.ts';
import { parseConfig } from '../runtime/config.ts';
import type { BenchContext } from './context.ts';
import { alternate, latency, throughput } from './load.ts';
import type { BenchResult, Note, Row } from './report.ts';

const EVERYTHING = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);
const CONCURRENCY = 32;

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

async function viaGateway(url: string): Promise<Client> {
  const client = new Client({ name: 'bench-gateway', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return client;
}

async function registerEverything(system: System): Promise<void> {
  const res = await fetch(`${system.url}/api/v1/servers?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'everything',
      transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] },
    }),
  });
  if (res.status !== 202) throw new Error(`register failed: ${res.status} ${await res.text()}`);
  const probe = await viaGateway(system.url!);
  await until(async () => {
    const { tools } = await probe.listTools();
    return tools.some((t) => t.name === 'everything__echo') ? true : undefined;
  });
  await probe.close();
}

/**
 * The same echo tool called by the SDK client straight on the upstream (stdio) and through `/mcp`,
 * sequentially and at 32 concurrent clients, with every gateway call recorded in the event log.
 */
async function measure(
  ctx: BenchContext,
  mode: string,
  system: System,
): Promise<{ rows: Row[]; notes: Note[] }> {
  const directClient = await direct();
  const gatewayClients = await Promise.all(
    Array.from({ length: CONCURRENCY }, () => viaGateway(system.url!)),
  );
  const headBefore = await system.store.headPosition();
  const calledBefore = await system.store.countAfter(0n, {
    categories: ['toolcall'],
    types: ['ToolCallSucceeded'],
  });
  let gatewayCalls = 0;
  const directOp = async () => {
    await directClient.callTool({ name: 'echo', arguments: { message: 'bench' } });
  };
  const gatewayOp = async (worker: number) => {
    await gatewayClients[worker]!.callTool({ name: 'everything__echo', arguments: { message: 'bench' } });
    gatewayCalls++;
  };
  const rows: Row[] = [];
  const notes: Note[] = [];
  for (const concurrency of [1, CONCURRENCY]) {
    ctx.log(`gateway (${mode}): echo at ${concurrency} concurrent`);
    const r = await alternate({
      subject: gatewayOp,
      baseline: directOp,
      concurrency,
      sliceMs: ctx.scale(3_000, 1_000),
      rounds: ctx.scale(3, 2),
      warmupMs: ctx.scale(1_000, 500),
    });
    const s = latency(r.subject);
    const b = latency(r.baseline);
    const label = concurrency === 1 ? 'sequential' : `${concurrency} clients`;
    rows.push({
      bench: `gateway ${mode}`,
      metric: `echo, ${label}: p50 latency`,
      unit: 'ms',
      value: s.p50,
      baseline: b.p50,
      baselineLabel: 'SDK client straight to the stdio upstream',
      better: 'lower',
      ...(concurrency === 1 && mode === 'embedded'
        ? { aim: { text: 'added p50 ≤ 3 ms', met: s.p50 - b.p50 <= 3 } }
        : {}),
    });
    rows.push({
      bench: `gateway ${mode}`,
      metric: `echo, ${label}: p99 latency`,
      unit: 'ms',
      value: s.p99,
      baseline: b.p99,
      baselineLabel: 'SDK client straight to the stdio upstream',
      better: 'lower',
    });
    const st = throughput(r.subject);
    const bt = throughput(r.baseline);
    rows.push({
      bench: `gateway ${mode}`,
      metric: `echo, ${label}: calls/s`,
      unit: 'calls/s',
      value: st,
      baseline: bt,
      baselineLabel: 'SDK client straight to the stdio upstream',
      better: 'higher',
      ...(concurrency === CONCURRENCY && mode === 'embedded'
        ? { aim: { text: '≥ 50% of direct', met: st >= bt * 0.5 } }
        : {}),
    });
    notes.push({
      bench: `gateway ${mode}`,
      text: `${label}: added latency p50 ${(s.p50 - b.p50).toFixed(2)} ms, p99 ${(s.p99 - b.p99).toFixed(2)} ms`,
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
  await directClient.close();
  await Promise.all(gatewayClients.map((c) => c.close()));
  return { rows, notes };
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

export async function gatewayBench(ctx: BenchContext): Promise<BenchResult> {
  const rows: Row[] = [];
  const notes: Note[] = [];

  ctx.log('gateway: embedded system (PGlite, in-process bus)');
  const embedded = await startSystem(
    parseConfig({ SWITCHYARD_DATA_DIR: 'memory://', SWITCHYARD_PORT: '0', SWITCHYARD_LOG_LEVEL: 'silent' }),
    silentLogger(),
  );
  try {
    await registerEverything(embedded);
    const r = await measure(ctx, 'embedded', embedded);
    rows.push(...r.rows);
    notes.push(...r.notes, {
      bench: 'gateway embedded',
      text: `one append on PGlite takes p50 ${(await appendCost(embedded)).toFixed(2)} ms; a call pays one on its path (ToolCallSucceeded before the answer; ToolCallStarted overlaps the upstream call)`,
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
    await registerEverything(gateway);
    const r = await measure(ctx, 'distributed', gateway);
    rows.push(...r.rows);
    notes.push(...r.notes, {
      bench: 'gateway distributed',
      text: `one append on PostgreSQL takes p50 ${(await appendCost(gateway)).toFixed(2)} ms; each call also crosses NATS twice (request + accepted, result)`,
    });
  } finally {
    await gateway.stop();
    await runner.stop();
  }
  return { rows, notes };
}
