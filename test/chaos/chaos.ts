import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { postgresDataKeys } from '../../event-store/personal-data/postgres-data-keys.ts';
import { openPostgres } from '../../event-store/postgres/connection.ts';
import { createPersonalDataVault } from '../../kernel/personal-data.ts';
import { createSecretBox } from '../../kernel/secrets.ts';
import { allProjections } from '../../projections/index.ts';
import { adminAuth } from '../access.ts';
import { adminFetch, cleanEnv, freePort, type Program, startProgram, waitForHttp } from '../e2e/program.ts';

const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

/** The roles the chaos SIGKILLs. A worker runs throughout: it holds the sweep that abandons calls. */
export const KILLED_ROLES = ['gateway', 'runner', 'relay', 'projector'] as const;
export type KilledRole = (typeof KILLED_ROLES)[number];

export interface ChaosOptions {
  /** PostgreSQL to create this run's database on (it is dropped at the end). */
  databaseUrl: string;
  natsUrl: string;
  /** How long the clients call and the roles are killed. */
  durationMs: number;
  /** Seeds the kill schedule (which role, which instance, when, for how long). */
  seed: number;
  /** MCP clients calling at once, each with its own session (default 32). */
  clients?: number;
  /** Gateways behind the clients (default 2: one killed leaves the other serving). */
  gateways?: number;
  /** Runners hosting the upstream (default 2: one killed leaves the other serving; both may be down). */
  runners?: number;
  /** Time between two kills, drawn uniformly (default 3–8 s). */
  killGapMs?: [number, number];
  /** How long a killed process stays dead (default 0.5–4 s). */
  downMs?: [number, number];
  /**
   * SWITCHYARD_MAX_CALL_MS of the run: a call with no outcome this long is abandoned (default 30 s:
   * above the longest a call can take here — 5 s to be accepted by a runner, twice if refused, 10 s
   * of a dead runner's silence — with room for a loaded machine).
   */
  maxCallMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
  /** A few offending calls or rows, when broken. */
  examples: string[];
}

export interface ChaosReport {
  seed: number;
  durationMs: number;
  clients: number;
  kills: Record<KilledRole, number>;
  calls: {
    /** tools/call requests the clients sent. */
    made: number;
    /** ... of which an answer came back: a result, an error result or a JSON-RPC error. */
    received: number;
    succeeded: number;
    /** Answers other than a success, by code. */
    errors: Record<string, number>;
    /** No answer: the connection broke (a gateway died) or the client gave up; by reason. */
    unanswered: number;
    lost: Record<string, number>;
    /** Latency of the answered calls. */
    p50Ms: number;
    p99Ms: number;
  };
  log: { started: number; succeeded: number; failed: number; abandoned: number; events: number };
  invariants: Invariant[];
  ok: boolean;
}

/** What a client saw of one call (the message is unique to the call). */
interface Sent {
  message: string;
  answer?: { success: boolean; code: string; text: string };
  /** Why no answer came, when none did. */
  lost?: string;
  /** How long the call took, answered or not. */
  ms?: number;
}

/**
 * The chaos run: Switchyard in distributed mode — two gateways, two runners, a relay, a projector
 * and a worker, each its own process against PostgreSQL and NATS — with MCP clients calling the
 * `echo` tool of server-everything through `/mcp` while gateways, runners, the relay and the
 * projector are SIGKILLed and restarted at random. Afterwards, read straight from PostgreSQL and
 * JetStream: every call whose answer a client received has its outcome in the log; every started
 * call ends succeeded, failed or abandoned; nothing is recorded twice (in the log or on the bus);
 * the read models equal what the log says and what a rebuild from it gives.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const random = mulberry32(options.seed);
  const between = ([lo, hi]: [number, number]) => lo + random() * (hi - lo);
  const clientCount = options.clients ?? 32;
  const maxCallMs = options.maxCallMs ?? 30_000;
  const db = await createDatabase(options.databaseUrl);
  const prefix = `chaos_${randomBytes(4).toString('hex')}`;
  const stream = prefix.toUpperCase();
  const secretKey = randomBytes(32);
  const env = cleanEnv({
    DATABASE_URL: db.url,
    NATS_URL: options.natsUrl,
    SWITCHYARD_SECRET_KEY: secretKey.toString('base64'),
    SWITCHYARD_SUBJECT_PREFIX: prefix,
    SWITCHYARD_EVENTS_STREAM: stream,
    SWITCHYARD_DLQ_STREAM: `${stream}_DLQ`,
    SWITCHYARD_LOG_LEVEL: 'warn',
    SWITCHYARD_BUILTIN_TEMPLATES: 'off',
    SWITCHYARD_MAX_CALL_MS: String(maxCallMs),
  });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const cluster = new Cluster(env);
  let nc: NatsConnection | undefined;
  try {
    const gateways: string[] = [];
    for (let i = 0; i < (options.gateways ?? 2); i++) {
      const port = await freePort();
      cluster.add('gateway', ['start', 'gateway', '--port', String(port)], `http://127.0.0.1:${port}`);
      gateways.push(`http://127.0.0.1:${port}`);
    }
    cluster.add('relay', ['start', 'relay']);
    cluster.add('projector', ['start', 'projector']);
    cluster.add('worker', ['start', 'worker']);
    const runners = options.runners ?? 2;
    for (let i = 0; i < runners; i++) cluster.add('runner', ['start', 'runner']);
    cluster.startAll();
    await cluster.ready();
    log(`cluster up: ${gateways.length} gateways, ${runners} runners, a relay, a projector, a worker`);
    // Every call of the run with what came back: the checks cover the probes that waited for
    // discovery too, the report the clients' calls only.
    const runTag = randomBytes(4).toString('hex');
    const sent: Sent[] = [];
    await registerEverything(gateways[0]!, runTag, sent);
    const probes = sent.length;
    log('server-everything registered and discovered');

    // The clients call until told to stop; the chaos kills meanwhile.
    let stopping = false;
    const clients = Array.from({ length: clientCount }, (_, i) =>
      callLoop(i, gateways, runTag, sent, () => stopping),
    );
    const kills = await cluster.chaos(options.durationMs, {
      random,
      gapMs: () => between(options.killGapMs ?? [3_000, 8_000]),
      downMs: () => between(options.downMs ?? [500, 4_000]),
      log,
    });
    log(`chaos over, kills ${JSON.stringify(kills)}; waiting for every process to be back`);
    await cluster.ready();
    stopping = true;
    await Promise.all(clients);
    log(`clients stopped: ${sent.length - probes} calls made`);

    // Recovery: calls cut off by a dead gateway wait for the worker's sweep (SWITCHYARD_MAX_CALL_MS).
    await settle(pool, gateways[0]!, stream, options.natsUrl, maxCallMs, log);
    nc = await connect({ servers: options.natsUrl });

    // The arguments are sealed with each caller's data key: opened as the read side opens them.
    const keys = openPostgres({ url: db.url, max: 1 });
    const vault = createPersonalDataVault({
      keys: postgresDataKeys(keys.db),
      master: createSecretBox(secretKey),
    });
    const calls = await readCalls(pool, (v) => vault.open(v)).finally(() => keys.close());
    const invariants = [
      invariant('no process died unless killed', 'every exit was a SIGKILL of the chaos', cluster.exits),
      answeredCallsInLog(sent, calls),
      startedCallsEnd(calls),
      nothingTwice(sent, calls),
      await busHasLogOnce(pool, nc, stream),
      await toolCallsRowsMatchLog(pool, calls),
      ...(await readModelsEqualRebuild(pool, gateways[0]!)),
    ];
    const made = sent.slice(probes);
    const answered = made.filter((s) => s.answer);
    const count = (status: string) => [...calls.values()].filter((c) => c.status === status).length;
    const events = Number((await pool.query('SELECT count(*) AS n FROM sy_es.events')).rows[0].n);
    return {
      seed: options.seed,
      durationMs: options.durationMs,
      clients: clientCount,
      kills,
      calls: {
        made: made.length,
        received: answered.length,
        succeeded: answered.filter((s) => s.answer!.success).length,
        errors: tally(answered.filter((s) => !s.answer!.success).map((s) => s.answer!.code)),
        unanswered: made.length - answered.length,
        lost: tally(made.filter((s) => s.lost !== undefined).map((s) => s.lost!.slice(0, 80))),
        p50Ms: percentile(
          answered.map((s) => s.ms ?? 0),
          0.5,
        ),
        p99Ms: percentile(
          answered.map((s) => s.ms ?? 0),
          0.99,
        ),
      },
      log: {
        started: calls.size,
        succeeded: count('succeeded'),
        failed: count('failed'),
        abandoned: count('abandoned'),
        events,
      },
      invariants,
      ok: invariants.every((i) => i.ok),
    };
  } catch (e) {
    log(`chaos run failed; last output of each process:\n${cluster.tails()}`);
    throw e;
  } finally {
    await cluster.stopAll();
    await nc?.close();
    await pool.end();
    const admin = await connect({ servers: options.natsUrl });
    const jsm = await admin.jetstreamManager();
    for (const s of [stream, `${stream}_DLQ`]) await jsm.streams.delete(s).catch(() => undefined);
    await admin.close();
    await db.drop();
  }
}

/** A report as lines for a terminal. */
export function formatReport(r: ChaosReport): string {
  const counts = (t: Record<string, number>) =>
    Object.entries(t)
      .sort(([, a], [, b]) => b - a)
      .map(([what, n]) => `${what} ×${n}`)
      .join(', ');
  const errors = counts(r.calls.errors);
  const lost = counts(r.calls.lost);
  const lines = [
    `chaos run: ${(r.durationMs / 1000).toFixed(0)} s, ${r.clients} clients, seed ${r.seed}`,
    `kills: ${KILLED_ROLES.map((role) => `${role} ${r.kills[role]}`).join(', ')}`,
    `calls made ${r.calls.made}; answered ${r.calls.received} (succeeded ${r.calls.succeeded}` +
      `${errors ? `; errors: ${errors}` : ''}); unanswered ${r.calls.unanswered}${lost ? ` (${lost})` : ''}`,
    `answered calls' latency: p50 ${r.calls.p50Ms.toFixed(0)} ms, p99 ${r.calls.p99Ms.toFixed(0)} ms`,
    `log: ${r.log.started} calls started — ${r.log.succeeded} succeeded, ${r.log.failed} failed, ` +
      `${r.log.abandoned} abandoned; ${r.log.events} events in all`,
    ...r.invariants.flatMap((i) => [
      `${i.ok ? 'PASS' : 'FAIL'} ${i.name}: ${i.detail}`,
      ...i.examples.map((e) => `     ${e}`),
    ]),
    r.ok ? 'every invariant holds' : 'INVARIANTS BROKEN',
  ];
  return lines.join('\n');
}

// --- the processes ---------------------------------------------------------------------------

interface Proc {
  role: KilledRole | 'worker';
  args: string[];
  url: string | undefined;
  program: Program | undefined;
  up: boolean;
  /** Output of the instances before this one (their last lines). */
  previous: string;
}

class Cluster {
  private readonly procs: Proc[] = [];
  /** Processes that exited without being killed (each restarted), with their last output. */
  readonly exits: string[] = [];
  private stopped = false;
  constructor(private readonly env: Record<string, string>) {}

  add(role: Proc['role'], args: string[], url?: string): void {
    this.procs.push({ role, args, url, program: undefined, up: false, previous: '' });
  }

  startAll(): void {
    for (const p of this.procs) this.start(p);
  }

  private start(p: Proc): void {
    if (this.stopped) return;
    if (p.program) p.previous = `${p.previous}${p.program.output()}`.slice(-4_000);
    const program = startProgram(p.args, this.env);
    p.program = program;
    p.up = true;
    program.child.once('exit', (code, signal) => {
      if (p.program !== program || !p.up) return;
      this.exits.push(`${p.args.join(' ')} exited (${code ?? signal}): ${program.output().slice(-500)}`);
      setTimeout(() => this.start(p), 1_000);
    });
  }

  /** Every gateway answers /ready; every other process is alive. */
  async ready(): Promise<void> {
    for (const p of this.procs) {
      // Generous: six processes start at once on what may be a small, shared machine.
      if (p.url) await waitForHttp(`${p.url}/ready`, p.program!, 180_000);
      else if (p.program!.child.exitCode !== null)
        throw new Error(`${p.args.join(' ')} exited:\n${p.program!.output()}`);
    }
  }

  /**
   * Kills a random process of a killed role every `gapMs()` for `durationMs` — each role once
   * first, in random order — and restarts it `downMs()` later. Resolves once all are back.
   */
  async chaos(
    durationMs: number,
    o: { random: () => number; gapMs: () => number; downMs: () => number; log: (line: string) => void },
  ): Promise<Record<KilledRole, number>> {
    const kills = Object.fromEntries(KILLED_ROLES.map((r) => [r, 0])) as Record<KilledRole, number>;
    const firstRound: KilledRole[] = [...KILLED_ROLES];
    for (let i = firstRound.length - 1; i > 0; i--) {
      const j = Math.floor(o.random() * (i + 1));
      [firstRound[i], firstRound[j]] = [firstRound[j]!, firstRound[i]!];
    }
    const restarts: Promise<void>[] = [];
    const started = Date.now();
    const end = started + durationMs;
    for (;;) {
      const gap = o.gapMs();
      if (Date.now() + gap > end) {
        await sleep(end - Date.now());
        break;
      }
      await sleep(gap);
      const role = firstRound.shift() ?? KILLED_ROLES[Math.floor(o.random() * KILLED_ROLES.length)]!;
      const candidates = this.procs.filter((p) => p.role === role && p.up);
      if (candidates.length === 0) continue;
      const victim = candidates[Math.floor(o.random() * candidates.length)]!;
      const down = o.downMs();
      victim.up = false;
      await victim.program!.kill();
      kills[role]++;
      o.log(
        `${((Date.now() - started) / 1000).toFixed(1)} s: SIGKILL ${victim.args.join(' ')}, back in ${down.toFixed(0)} ms`,
      );
      restarts.push(sleep(down).then(() => this.start(victim)));
    }
    await Promise.all(restarts);
    return kills;
  }

  tails(): string {
    return this.procs
      .map((p) => `--- ${p.args.join(' ')}\n${`${p.previous}${p.program?.output() ?? ''}`.slice(-3_000)}`)
      .join('\n');
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    for (const p of this.procs) p.up = false;
    await Promise.all(this.procs.map((p) => p.program?.stop(10_000)));
  }
}

// --- the clients -----------------------------------------------------------------------------

/**
 * One MCP client: its own session on a gateway, calling `everything__echo` with a message unique to
 * each call, one call at a time. When its gateway dies it connects again (to the next gateway that
 * answers). Every call is recorded with what came back, if anything.
 */
async function callLoop(
  index: number,
  gateways: string[],
  runTag: string,
  sent: Sent[],
  stopping: () => boolean,
): Promise<void> {
  let client: Client | undefined;
  let transport: StreamableHTTPClientTransport | undefined;
  let attempt = index;
  let seq = 0;
  // The SDK leaves a call pending when the stream of its answer breaks (it would resume the stream,
  // which a dead gateway cannot): the transport's error gives the call up at once.
  let call: AbortController | undefined;
  const drop = async () => {
    // A session on a gateway still alive would stay open until idle: end it.
    await Promise.race([transport?.terminateSession().catch(() => undefined), sleep(1_000)]);
    await client?.close().catch(() => undefined);
    client = undefined;
    transport = undefined;
  };
  while (!stopping()) {
    if (!client) {
      const url = new URL('/mcp', gateways[attempt++ % gateways.length]);
      const c = new Client({ name: `chaos-${index}`, version: '1.0.0' });
      c.onerror = () => call?.abort(new Error('the connection to the gateway broke'));
      const t = new StreamableHTTPClientTransport(url, {
        requestInit: { headers: adminAuth },
        reconnectionOptions: {
          maxRetries: 0,
          initialReconnectionDelay: 1_000,
          maxReconnectionDelay: 1_000,
          reconnectionDelayGrowFactor: 1,
        },
      });
      try {
        await c.connect(t, { timeout: 10_000 });
        client = c;
        transport = t;
      } catch {
        await c.close().catch(() => undefined);
        await sleep(250);
        continue;
      }
    }
    call = new AbortController();
    if (!(await callEcho(client, `chaos ${runTag} ${index} ${seq++}`, sent, call.signal))) await drop();
  }
  await drop();
}

/** One echo call, recorded in `sent` with what came back; undefined when nothing did. */
async function callEcho(
  client: Client,
  message: string,
  sent: Sent[],
  signal?: AbortSignal,
): Promise<Sent['answer']> {
  const s: Sent = { message };
  sent.push(s);
  const began = performance.now();
  try {
    const result = await client.callTool({ name: 'everything__echo', arguments: { message } }, undefined, {
      timeout: 60_000,
      ...(signal && { signal }),
    });
    const content = result.content as Array<{ type: string; text?: string }> | undefined;
    const text = content?.map((c) => c.text ?? '').join('') ?? '';
    s.answer =
      result.isError === true
        ? { success: false, code: errorCode(text), text }
        : { success: true, code: 'OK', text };
  } catch (e) {
    // A JSON-RPC error the gateway sent is an answer; anything else (connection lost, the session
    // gone with its gateway, our own timeout) is none.
    const code = answeredWith(e);
    if (code !== undefined) s.answer = { success: false, code, text: (e as Error).message };
    else s.lost = (e as Error).message;
  } finally {
    s.ms = performance.now() - began;
  }
  return s.answer;
}

/** The code of a JSON-RPC error the gateway answered; undefined for the client's own errors. */
function answeredWith(e: unknown): string | undefined {
  if (!(e instanceof McpError)) return undefined;
  const code = (e.data as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  // The SDK client raises these itself: the connection closed, or our timeout ran out.
  if (e.code === ErrorCode.ConnectionClosed || e.code === ErrorCode.RequestTimeout) return undefined;
  return `JSONRPC ${e.code}`;
}

/** `CODE: detail`, as the gateway words a tool call's error result. */
function errorCode(text: string): string {
  if (text === 'internal error in the gateway') return 'INTERNAL';
  return /^([A-Z_]+\.[A-Z_.]+):/.exec(text)?.[1] ?? 'TOOL_ERROR';
}

// --- setting up and settling -----------------------------------------------------------------

async function registerEverything(gateway: string, runTag: string, sent: Sent[]): Promise<void> {
  const res = await adminFetch(`${gateway}/api/v1/servers?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'everything',
      transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] },
      // Far below SWITCHYARD_MAX_CALL_MS, as the defaults are (an hour, and an hour and a minute):
      // a call that can still complete is never abandoned.
      settings: { callTimeoutMs: 5_000 },
    }),
  });
  if (res.status !== 202) throw new Error(`registration answered ${res.status}: ${await res.text()}`);
  // Wait until a client can call echo through the aggregate endpoint.
  const deadline = Date.now() + 90_000;
  for (let probes = 0; ; ) {
    const client = new Client({ name: 'chaos-probe', version: '1.0.0' });
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL('/mcp', gateway), { requestInit: { headers: adminAuth } }),
      );
      if ((await callEcho(client, `chaos ${runTag} probe ${probes++}`, sent))?.success) return;
    } catch {
      // not discovered yet
    } finally {
      await client.close().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error('echo never became callable through /mcp');
    await sleep(500);
  }
}

/**
 * Waits until the system is at rest: every started call has an outcome (abandoned by the worker's
 * sweep if its gateway died), the relay has put the whole log on JetStream, and every read model has
 * caught up with the log.
 */
async function settle(
  pool: pg.Pool,
  gateway: string,
  stream: string,
  natsUrl: string,
  maxCallMs: number,
  log: (line: string) => void,
): Promise<void> {
  const began = Date.now();
  const open = async () =>
    Number(
      (
        await pool.query(`SELECT count(*) AS n FROM (
          SELECT stream FROM sy_es.events WHERE category = 'toolcall'
          GROUP BY stream HAVING bool_and(type = 'ToolCallStarted')) open`)
      ).rows[0].n,
    );
  // Past the longest call and a few sweeps; calls still open then are reported by the checks.
  const deadline = Date.now() + maxCallMs + 60_000;
  for (let n = await open(); n > 0 && Date.now() < deadline; n = await open()) await sleep(1_000);
  log(`calls without an outcome after ${((Date.now() - began) / 1000).toFixed(0)} s: ${await open()}`);

  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    const relayDeadline = Date.now() + 60_000;
    for (;;) {
      const logged = Number((await pool.query('SELECT count(*) AS n FROM sy_es.events')).rows[0].n);
      const info = await jsm.streams.info(stream);
      if (info.state.messages >= logged || Date.now() > relayDeadline) break;
      await sleep(500);
    }
  } finally {
    await nc.close();
  }

  const projectionsDeadline = Date.now() + 60_000;
  for (;;) {
    const status = (await (await adminFetch(`${gateway}/api/v1/projections`)).json()) as {
      projections: Array<{ name: string; lagEvents: number }>;
    };
    const behind = status.projections.filter((p) => p.lagEvents > 0);
    if (behind.length === 0 || Date.now() > projectionsDeadline) break;
    await sleep(500);
  }
  log(`settled in ${((Date.now() - began) / 1000).toFixed(0)} s`);
}

// --- the log, read straight from PostgreSQL ------------------------------------------------------

interface LoggedCall {
  callId: string;
  message: string | undefined;
  /** Event types of its stream, in order. */
  types: string[];
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  lastRevision: string;
  lastPosition: string;
  resultHash: string | null;
}

/** Every call in the log, folded from its events. */
async function readCalls(
  pool: pg.Pool,
  open: (sealed: unknown) => Promise<unknown>,
): Promise<Map<string, LoggedCall>> {
  // By the column, e.position: a bare `position` names the select list's text (10000000000 sorts
  // before 9999999999), and positions cross such a power of ten in a long enough run.
  const { rows } = await pool.query<{
    stream: string;
    type: string;
    revision: string;
    position: string;
    call_id: string;
    message: unknown;
    result_hash: string | null;
  }>(`SELECT stream, type, revision::text, position::text, data->>'callId' AS call_id,
            data->'arguments'->'message' AS message, data->>'resultHash' AS result_hash
        FROM sy_es.events e WHERE category = 'toolcall' ORDER BY e.position`);
  const calls = new Map<string, LoggedCall>();
  for (const r of rows) {
    let c = calls.get(r.stream);
    if (!c) {
      c = {
        callId: r.call_id,
        message: undefined,
        types: [],
        status: 'running',
        lastRevision: r.revision,
        lastPosition: r.position,
        resultHash: null,
      };
      calls.set(r.stream, c);
    }
    c.types.push(r.type);
    c.lastRevision = r.revision;
    c.lastPosition = r.position;
    if (r.type === 'ToolCallStarted') {
      const message = await open(r.message);
      c.message = typeof message === 'string' ? message : undefined;
    }
    // As the projection folds them: an outcome after an abandonment is the call's last word.
    if (r.type === 'ToolCallSucceeded') c.status = 'succeeded';
    if (r.type === 'ToolCallFailed') c.status = 'failed';
    if (r.type === 'ToolCallAbandoned' && c.status === 'running') c.status = 'abandoned';
    if (r.type === 'ToolCallSucceeded' || r.type === 'ToolCallFailed') c.resultHash = r.result_hash;
  }
  return calls;
}

const OUTCOMES = new Set(['ToolCallSucceeded', 'ToolCallFailed']);
const ENDS = new Set(['ToolCallSucceeded', 'ToolCallFailed', 'ToolCallAbandoned']);

function invariant(name: string, detail: string, broken: string[]): Invariant {
  return {
    name,
    ok: broken.length === 0,
    detail: broken.length === 0 ? detail : `${broken.length} broken — ${detail}`,
    examples: broken.slice(0, 5),
  };
}

/**
 * Every answer a client received is in the log: a result (or an error the call produced) has its
 * call's outcome recorded — all but AUDIT.UNAVAILABLE, which says the outcome could not be. A
 * success carries the client's own message back; an error naming the upstream means the call started.
 */
function answeredCallsInLog(sent: Sent[], calls: Map<string, LoggedCall>): Invariant {
  const byMessage = new Map<string, LoggedCall>();
  for (const c of calls.values()) if (c.message !== undefined) byMessage.set(c.message, c);
  const broken: string[] = [];
  let checked = 0;
  for (const s of sent) {
    if (!s.answer) continue;
    checked++;
    const call = byMessage.get(s.message);
    if (s.answer.success) {
      if (s.answer.text !== `Echo: ${s.message}`) broken.push(`"${s.message}" answered "${s.answer.text}"`);
      if (!call) broken.push(`"${s.message}" succeeded for the client, never started in the log`);
      else if (call.status !== 'succeeded')
        broken.push(`"${s.message}" succeeded for the client, ${call.callId} is ${call.types.join(' → ')}`);
      continue;
    }
    if (s.answer.code === 'AUDIT.UNAVAILABLE') continue;
    if (call && !call.types.some((t) => OUTCOMES.has(t)))
      broken.push(`"${s.message}" answered ${s.answer.code}, ${call.callId} has ${call.types.join(' → ')}`);
    if (!call && s.answer.code.startsWith('UPSTREAM.'))
      broken.push(`"${s.message}" answered ${s.answer.code} (the call ran), never started in the log`);
  }
  return invariant(
    'every call whose answer a client received has its outcome in the log',
    `${checked} answers checked`,
    broken,
  );
}

/** Every ToolCallStarted is followed by ToolCallSucceeded, ToolCallFailed or ToolCallAbandoned. */
function startedCallsEnd(calls: Map<string, LoggedCall>): Invariant {
  const broken = [...calls.values()]
    .filter((c) => !c.types.some((t) => ENDS.has(t)))
    .map((c) => `${c.callId} ("${c.message}"): ${c.types.join(' → ')}`);
  return invariant(
    'every started call ends succeeded, failed or abandoned',
    `${calls.size} calls in the log`,
    broken,
  );
}

/**
 * Nothing recorded twice: one start per call stream, beginning it; one ending (an outcome, or an
 * abandonment — both would mean a call was given up while it could still complete); one call per
 * message a client sent; no call no client sent.
 */
function nothingTwice(sent: Sent[], calls: Map<string, LoggedCall>): Invariant {
  const messages = new Set(sent.map((s) => s.message));
  const seen = new Map<string, string>();
  const broken: string[] = [];
  for (const c of calls.values()) {
    const starts = c.types.filter((t) => t === 'ToolCallStarted').length;
    const ends = c.types.filter((t) => ENDS.has(t)).length;
    if (starts !== 1 || c.types[0] !== 'ToolCallStarted' || ends > 1)
      broken.push(`${c.callId}: ${c.types.join(' → ')}`);
    if (c.message === undefined) continue;
    const other = seen.get(c.message);
    if (other) broken.push(`"${c.message}" recorded as two calls, ${other} and ${c.callId}`);
    seen.set(c.message, c.callId);
    if (!messages.has(c.message)) broken.push(`${c.callId}: "${c.message}" was never sent`);
  }
  return invariant('nothing is recorded twice', `${calls.size} calls, ${sent.length} messages sent`, broken);
}

/**
 * The relay put every event of the log on JetStream once, in the log's order (killed or not). The
 * health monitor may append while this runs: the bus must hold the log as read here, in order, and
 * anything after it only events appended since.
 */
async function busHasLogOnce(pool: pg.Pool, nc: NatsConnection, stream: string): Promise<Invariant> {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM sy_es.events ORDER BY position');
  const jsm = await nc.jetstreamManager();
  const deadline = Date.now() + 30_000;
  let info = await jsm.streams.info(stream);
  while (info.state.last_seq < rows.length && Date.now() < deadline) {
    await sleep(500);
    info = await jsm.streams.info(stream);
  }
  const onBus: string[] = [];
  if (info.state.messages > 0) {
    const messages = await (await nc.jetstream().consumers.get(stream)).consume();
    for await (const m of messages) {
      onBus.push(m.headers?.get('Nats-Msg-Id') ?? `(no id at ${m.seq})`);
      if (m.seq >= info.state.last_seq) break;
    }
    await messages.close();
  }
  const broken: string[] = [];
  const counts = new Map<string, number>();
  for (const id of onBus) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, n] of counts) if (n > 1) broken.push(`event ${id} on the bus ${n} times`);
  const at = rows.findIndex((r, i) => r.id !== onBus[i]);
  if (at >= 0)
    broken.push(`the bus differs from the log at #${at}: ${onBus[at] ?? 'nothing'} for ${rows[at]!.id}`);
  const later = onBus.slice(rows.length);
  if (later.length > 0) {
    const found = await pool.query('SELECT id FROM sy_es.events WHERE id = ANY($1::uuid[])', [later]);
    if (found.rowCount !== later.length)
      broken.push(`${later.length - found.rowCount!} messages on the bus not in the log`);
  }
  return invariant(
    'the relay published every event once, in order',
    `${rows.length} events in the log, ${onBus.length} messages on ${stream}`,
    broken,
  );
}

/** The tool_calls read model holds exactly the log's calls, each at its last event. */
async function toolCallsRowsMatchLog(pool: pg.Pool, calls: Map<string, LoggedCall>): Promise<Invariant> {
  const { rows } = await pool.query<{
    id: string;
    status: string;
    revision: string;
    position: string;
    result_hash: string | null;
  }>('SELECT id, status, revision::text, position::text, result_hash FROM tool_calls');
  const byId = new Map(rows.map((r) => [r.id, r]));
  const broken: string[] = [];
  for (const c of calls.values()) {
    const row = byId.get(c.callId);
    byId.delete(c.callId);
    if (!row) {
      broken.push(`${c.callId}: in the log (${c.status}), no row`);
      continue;
    }
    const want = { status: c.status, revision: c.lastRevision, position: c.lastPosition, hash: c.resultHash };
    const got = { status: row.status, revision: row.revision, position: row.position, hash: row.result_hash };
    if (JSON.stringify(want) !== JSON.stringify(got))
      broken.push(`${c.callId}: log ${JSON.stringify(want)}, row ${JSON.stringify(got)}`);
  }
  for (const id of byId.keys()) broken.push(`${id}: a row, not in the log`);
  return invariant(
    'the tool_calls read model says what the log says',
    `${rows.length} rows, ${calls.size} calls`,
    broken,
  );
}

/**
 * Every read model as the live projector left it equals a rebuild from the log (the product's own
 * rebuild, asked of a gateway: it runs on the projector and swaps fresh tables in). The comparison
 * holds only if no event of the projection arrives between the two snapshots (the health monitor
 * may still append): a difference with such an event in between is measured again, up to 3 times.
 */
async function readModelsEqualRebuild(pool: pg.Pool, gateway: string): Promise<Invariant[]> {
  const snapshot = async (tables: readonly string[]) => {
    const out: Record<string, string[]> = {};
    for (const t of tables) {
      const { rows } = await pool.query(`SELECT * FROM ${t}`);
      out[t] = rows
        .map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
        .sort();
    }
    return out;
  };
  const results: Invariant[] = [];
  for (const { name, tables, filter } of allProjections) {
    // The projection's events: `$1` is null for every category, `$2` for every type.
    const where = `($1::text[] IS NULL OR category = ANY($1)) AND ($2::text[] IS NULL OR type = ANY($2))`;
    const params = [filter.categories ?? null, filter.types ?? null];
    let broken: string[] = [];
    let rows = 0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const head = BigInt(
        (
          await pool.query(
            `SELECT coalesce(max(position), 0)::text AS p FROM sy_es.events WHERE ${where}`,
            params,
          )
        ).rows[0].p,
      );
      await caughtUp(gateway, name, head);
      const live = await snapshot(tables);
      const res = await adminFetch(`${gateway}/api/v1/projections/${name}/rebuild`, { method: 'POST' });
      broken = res.status === 200 ? [] : [`rebuild answered ${res.status}: ${await res.text()}`];
      const rebuilt = await snapshot(tables);
      rows = 0;
      for (const t of tables) {
        rows += live[t]!.length;
        const inLive = new Set(live[t]);
        const inRebuilt = new Set(rebuilt[t]);
        for (const r of live[t]!) if (!inRebuilt.has(r)) broken.push(`${t} live only: ${r.slice(0, 300)}`);
        for (const r of rebuilt[t]!) if (!inLive.has(r)) broken.push(`${t} rebuilt only: ${r.slice(0, 300)}`);
      }
      const since = await pool.query(`SELECT 1 FROM sy_es.events WHERE ${where} AND position > $3 LIMIT 1`, [
        ...params,
        head.toString(),
      ]);
      if (broken.length === 0 || since.rowCount === 0) break;
    }
    results.push(
      invariant(`the ${name} read model equals a rebuild from the log`, `${rows} rows compared`, broken),
    );
  }
  return results;
}

/** Waits (up to 60 s) until the projection's checkpoint is at `position` or past it. */
async function caughtUp(gateway: string, name: string, position: bigint): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const status = (await (await adminFetch(`${gateway}/api/v1/projections`)).json()) as {
      projections: Array<{ name: string; checkpoint: string }>;
    };
    const p = status.projections.find((s) => s.name === name);
    if (p && BigInt(p.checkpoint) >= position) return;
    await sleep(250);
  }
}

// --- small things ------------------------------------------------------------------------------

/** A database of its own on the given PostgreSQL; `drop()` removes it (forcing sessions out). */
async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sy_chaos_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

function tally(items: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const i of items) t[i] = (t[i] ?? 0) + 1;
  return t;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** A small seeded generator (mulberry32): the same seed, the same kill schedule. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
