import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { System } from '../../runtime/compose.ts';
import { adminAuth } from '../access.ts';
import { until } from '../e2e/program.ts';
import { type HttpFixture, startHttpFixture } from '../fixtures/upstreams/http.server.ts';
import { client, startMemorySystem } from '../systems.ts';
import {
  deeplyNested,
  encodeSegment,
  hostileHeader,
  hostileKey,
  hostileRecord,
  hostileString,
  hostileValue,
} from './hostile.ts';

/**
 * Hostile JSON-RPC messages for every MCP method the gateway serves, on the aggregate `/mcp`, on
 * `/servers/<name>/mcp` (two real upstreams: our HTTP fixture, and server-everything over stdio for
 * resources, prompts, completions and logging) and on `/platform/mcp`: wrong types for id, method
 * and params, NUL, lone surrogates, huge strings, deep nesting, `__proto__` keys, batches, missing
 * `jsonrpc`, hostile tool names and arguments, garbage `Mcp-Session-Id` and `MCP-Protocol-Version`,
 * outside a session or inside a real one. Used by the bounded run in `npm test`
 * (mcp-fuzz.test.ts) and by the long run (`npm run fuzz -- mcp [cases] [seed]`).
 *
 * The rules a case checks (runCase): no HTTP 5xx; no JSON-RPC internal error (-32603); an answer
 * within the timeout; and a refused request (HTTP 4xx, or every JSON-RPC answer an error) appended
 * nothing — events found by the case's correlation id (`x-correlation-id`, which the gateway takes
 * as the request id and puts in the metadata of what the request appends) after the log's head
 * position before the case. A tool call accepted and run appends its start and outcome.
 */

const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

/**
 * Tools (bare names) the fuzzer may call with hostile arguments: quick, offline, and with no effect
 * outside the gateway (no long sleeps, no sampling or elicitation round trips, no network fetches,
 * no files written, no template syncs).
 */
const SAFE_TOOLS = new Set([
  'echo',
  'pid',
  'get-sum',
  'get-tiny-image',
  'get-annotated-message',
  'get-structured-content',
  'get-resource-links',
  'get-resource-reference',
  'list-servers',
  'register-server',
  'template-search',
  'template-inspect',
  'validate-template',
  'preview-project',
]);

const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
const TIMEOUT_MS = 30_000;
const STANDARD_HEADERS = {
  accept: 'application/json, text/event-stream',
  'content-type': 'application/json',
} as const;

/** One MCP endpoint and the names it lists (tools only those the fuzzer may call). */
export interface McpEndpoint {
  path: string;
  tools: string[];
  resources: string[];
  templates: string[];
  prompts: string[];
}

export interface McpFuzzTarget {
  system: System;
  endpoints: McpEndpoint[];
  stop(): Promise<void>;
}

/** A whole in-memory system with the HTTP fixture and server-everything registered, and what each endpoint lists. */
export async function startMcpFuzzTarget(env: Record<string, string> = {}): Promise<McpFuzzTarget> {
  let upstream: HttpFixture | undefined;
  let system: System | undefined;
  try {
    upstream = await startHttpFixture();
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off', ...env });
    const admin = client(system);
    for (const body of [
      { name: 'fixture', transport: { type: 'streamable-http', url: upstream.url } },
      { name: 'everything', transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] } },
    ]) {
      const r = await admin('/api/v1/servers?wait=true', { body });
      if (r.status !== 202) throw new Error(`could not register ${body.name}: ${r.status} ${r.text}`);
    }
    const s = system;
    const endpoints = await until(async () => {
      const all = await Promise.all(
        ['/mcp', '/servers/fixture/mcp', '/servers/everything/mcp', '/platform/mcp'].map((p) => learn(s, p)),
      );
      const [aggregate] = all;
      const ready =
        aggregate?.tools.includes('fixture__echo') &&
        aggregate.tools.includes('everything__echo') &&
        aggregate.prompts.length > 0 &&
        aggregate.resources.length > 0;
      return ready ? all : undefined;
    }, 90_000);
    const u = upstream;
    return {
      system,
      endpoints,
      async stop() {
        await s.stop();
        await u.close();
      },
    };
  } catch (e) {
    await system?.stop();
    await upstream?.close();
    throw e;
  }
}

/** What `path` lists: its safe tools, resources, resource templates and prompts. */
async function learn(system: System, path: string): Promise<McpEndpoint> {
  const list = async (method: string, key: string, field: string): Promise<string[]> => {
    const r = await send(system, path, { jsonrpc: '2.0', id: 1, method }, STANDARD_HEADERS, 'learn');
    const result = r.messages[0]?.result as Record<string, Array<Record<string, string>>> | undefined;
    return (result?.[key] ?? []).map((x) => x[field] ?? '');
  };
  const tools = await list('tools/list', 'tools', 'name');
  return {
    path,
    tools: tools.filter((t) => SAFE_TOOLS.has(t.split('__').at(-1) ?? '')),
    resources: await list('resources/list', 'resources', 'uri'),
    templates: await list('resources/templates/list', 'resourceTemplates', 'uriTemplate'),
    prompts: await list('prompts/list', 'prompts', 'name'),
  };
}

export interface McpFuzzCase {
  path: string;
  httpMethod: 'POST' | 'GET' | 'DELETE';
  /** No session, a real one opened for the case (and ended after it), or a made-up id. */
  session: { kind: 'none' } | { kind: 'open' } | { kind: 'garbage'; id: string };
  /** Headers of the request; `undefined` leaves one out. */
  headers: Record<string, string | undefined>;
  /** A JSON value (sent as JSON.stringify of it), or text as is. */
  body: { json: unknown } | { text: string } | undefined;
  correlationId: string;
}

/** A name from those an endpoint lists, one of them with something appended, or anything hostile. */
function nameFrom(real: readonly string[]): fc.Arbitrary<unknown> {
  if (real.length === 0) return fc.oneof(hostileString, hostileValue);
  const known = fc.constantFrom(...real);
  return fc.oneof(
    { weight: 10, arbitrary: known },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: fc.tuple(known, hostileString).map(([k, h]) => k + h) },
    { weight: 1, arbitrary: hostileValue },
  );
}

/** Often plausible, sometimes anything: what a method's params may be. */
function paramsOr(plausible: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 10, arbitrary: plausible },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const cursor = fc.option(fc.record({ cursor: fc.oneof(hostileString, hostileValue) }), { nil: undefined });

const toolArguments = fc.oneof(
  { weight: 3, arbitrary: fc.record({ message: hostileString }) },
  {
    weight: 2,
    arbitrary: hostileRecord([
      'message',
      'a',
      'b',
      'name',
      'transport',
      'query',
      'template',
      'version',
      'path',
      'resourceId',
      'resourceType',
      'messageType',
      'includeImage',
      'variables',
    ]),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      a: fc.oneof(fc.integer(), fc.double(), hostileValue),
      b: fc.oneof(fc.integer(), fc.double(), hostileValue),
    }),
  },
  { weight: 1, arbitrary: hostileValue },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const requestId = fc.oneof(
  { weight: 24, arbitrary: fc.integer() },
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: hostileValue },
);

/** One JSON-RPC message for `ep`: a request of any method, a notification, a response, or garbage. */
function message(ep: McpEndpoint): fc.Arbitrary<unknown> {
  const promptRef = fc.record({ type: fc.constant('ref/prompt'), name: nameFrom(ep.prompts) });
  const resourceRef = fc.record({ type: fc.constant('ref/resource'), uri: nameFrom(ep.templates) });
  const requests: Array<[string, fc.Arbitrary<unknown>]> = [
    [
      'initialize',
      fc.record(
        {
          protocolVersion: fc.oneof(fc.constantFrom(...PROTOCOL_VERSIONS), hostileValue),
          capabilities: fc.oneof(
            fc.constant({}),
            fc.constant({ sampling: {}, elicitation: {}, roots: { listChanged: true } }),
            hostileValue,
          ),
          clientInfo: fc.oneof(fc.record({ name: hostileString, version: hostileString }), hostileValue),
        },
        { requiredKeys: [] },
      ),
    ],
    ['ping', fc.constant(undefined)],
    ['tools/list', cursor],
    [
      'tools/call',
      fc.record(
        {
          name: nameFrom(ep.tools),
          arguments: toolArguments,
          _meta: fc.record({
            progressToken: fc.oneof(
              { weight: 4, arbitrary: fc.integer() },
              { weight: 4, arbitrary: hostileString },
              { weight: 1, arbitrary: hostileValue },
            ),
          }),
        },
        { requiredKeys: ['name'] },
      ),
    ],
    ['resources/list', cursor],
    ['resources/templates/list', cursor],
    ['resources/read', fc.record({ uri: nameFrom(ep.resources) })],
    ['resources/subscribe', fc.record({ uri: nameFrom(ep.resources) })],
    ['resources/unsubscribe', fc.record({ uri: nameFrom(ep.resources) })],
    ['prompts/list', cursor],
    [
      'prompts/get',
      fc.record(
        {
          name: nameFrom(ep.prompts),
          arguments: fc.oneof(fc.dictionary(hostileKey, hostileString, { maxKeys: 3 }), hostileValue),
        },
        { requiredKeys: ['name'] },
      ),
    ],
    [
      'completion/complete',
      fc.record(
        {
          ref: fc.oneof(promptRef, resourceRef, hostileValue),
          argument: fc.oneof(
            fc.record({
              name: fc.oneof(
                fc.constantFrom('department', 'name', 'resourceType', 'resourceId'),
                hostileString,
              ),
              value: hostileString,
            }),
            hostileValue,
          ),
          context: fc.record({ arguments: fc.dictionary(hostileKey, hostileString, { maxKeys: 2 }) }),
        },
        { requiredKeys: ['ref', 'argument'] },
      ),
    ],
    [
      'logging/setLevel',
      fc.record({
        level: fc.oneof(
          fc.constantFrom('debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'),
          hostileValue,
        ),
      }),
    ],
    // Methods a server sends, not receives, and the tasks extension the gateway does not offer.
    ['sampling/createMessage', hostileValue],
    ['elicitation/create', hostileValue],
    ['roots/list', hostileValue],
    ['tasks/list', hostileValue],
    ['tasks/get', fc.record({ taskId: hostileString })],
  ];
  const notifications: Array<[string, fc.Arbitrary<unknown>]> = [
    ['notifications/initialized', fc.constant(undefined)],
    ['notifications/cancelled', fc.record({ requestId, reason: hostileString }, { requiredKeys: [] })],
    [
      'notifications/progress',
      fc.record({ progressToken: requestId, progress: fc.oneof(fc.double(), hostileValue) }),
    ],
    ['notifications/roots/list_changed', fc.constant(undefined)],
  ];
  const envelope = (
    method: fc.Arbitrary<unknown>,
    params: fc.Arbitrary<unknown>,
    id: fc.Arbitrary<unknown>,
  ) =>
    fc
      .record({
        jsonrpc: fc.oneof(
          { weight: 40, arbitrary: fc.constant('2.0') },
          { weight: 1, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: hostileValue },
        ),
        id,
        method,
        params,
        extra: fc.oneof(
          { weight: 20, arbitrary: fc.constant({}) },
          { weight: 1, arbitrary: hostileRecord() },
        ),
      })
      .map(({ jsonrpc, id, method, params, extra }) => ({ ...extra, jsonrpc, id, method, params }));
  // Tool calls most often: they are what reaches an upstream and what appends.
  const request = fc.oneof(
    ...requests.map(([method, params]) => ({
      weight: method === 'tools/call' ? 12 : 1,
      arbitrary: envelope(fc.constant(method), paramsOr(params), requestId),
    })),
  );
  const notification = fc
    .oneof(
      fc.constantFrom(...notifications),
      hostileString.map((s): [string, fc.Arbitrary<unknown>] => [`notifications/${s}`, hostileValue]),
    )
    .chain(([method, params]) => envelope(fc.constant(method), paramsOr(params), fc.constant(undefined)));
  const unknownMethod = envelope(
    fc.oneof(hostileString, hostileValue, fc.constant(undefined)),
    hostileValue,
    fc.option(requestId, { nil: undefined }),
  );
  const response = fc.oneof(
    fc.record({ jsonrpc: fc.constant('2.0'), id: requestId, result: hostileValue }),
    fc.record({
      jsonrpc: fc.constant('2.0'),
      id: requestId,
      error: fc.record({ code: fc.oneof(fc.integer(), hostileValue), message: hostileValue }),
    }),
  );
  return fc.oneof(
    { weight: 12, arbitrary: request },
    { weight: 2, arbitrary: notification },
    { weight: 2, arbitrary: unknownMethod },
    { weight: 1, arbitrary: response },
  );
}

/** Bodies that are not a JSON value built here: broken JSON, duplicate keys, deep nesting, huge. */
function textBodies(ep: McpEndpoint): string[] {
  const tool = ep.tools.find((t) => t.endsWith('echo')) ?? ep.tools[0] ?? 'echo';
  const call = (args: string) =>
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":${JSON.stringify(tool)},"arguments":${args}}}`;
  const bodies = [
    '',
    '{',
    '[',
    'null',
    '[]',
    '{}',
    '"ping"',
    '1',
    'true',
    '{"jsonrpc":"2.0","id":1,"method":"ping"',
    '{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}',
    '{"__proto__":{"method":"tools/call"},"jsonrpc":"2.0","id":1}',
    '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"constructor":{"prototype":{"x":1}}}}',
    '{"jsonrpc":"2.0","id":1e999,"method":"ping"}',
    '{"jsonrpc":"2.0","id":1,"method":"ping"}\u0000',
    '\uFEFF{"jsonrpc":"2.0","id":1,"method":"ping"}',
    call(`{"message":"${'A'.repeat(900_000)}"}`),
    call(`{"message":"${'A'.repeat(2_000_000)}"}`),
    call('{"message":"\\ud800"}'),
    call('{"message":"\\u0000"}'),
    JSON.stringify(Array.from({ length: 1_000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' }))),
  ];
  for (const depth of [100, 1_000, 10_000, 100_000])
    for (const kind of ['object', 'array'] as const) {
      const deep = deeplyNested(depth, kind);
      bodies.push(
        call(`{"message":"deep","deep":${deep}}`),
        `{"jsonrpc":"2.0","id":${deep},"method":"ping"}`,
        `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":${deep}}`,
        `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"x","arguments":${deep}}}`,
      );
    }
  return bodies;
}

const hostileEndpoint: fc.Arbitrary<McpEndpoint> = hostileString.map((s) => ({
  path: `/servers/${encodeSegment(s)}/mcp`,
  tools: [],
  resources: [],
  templates: [],
  prompts: [],
}));

function optionalHeader(
  usual: string | undefined,
  others: readonly string[],
): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { weight: 24, arbitrary: fc.constant(usual) },
    { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, ...others) },
    { weight: 1, arbitrary: hostileHeader },
  );
}

/** Cases for the endpoints of `target` (and for server endpoints that do not exist). */
export function mcpFuzzCase(target: Pick<McpFuzzTarget, 'endpoints'>): fc.Arbitrary<McpFuzzCase> {
  const real = new Set(target.endpoints.map((e) => e.path));
  const bodies = new Map(target.endpoints.map((e) => [e.path, textBodies(e)]));
  return fc
    .oneof(
      { weight: 12, arbitrary: fc.constantFrom(...target.endpoints) },
      { weight: 1, arbitrary: hostileEndpoint },
    )
    .chain((ep) => {
      const one = message(ep);
      const body = fc.oneof(
        { weight: 14, arbitrary: one.map((json) => ({ json })) },
        { weight: 3, arbitrary: fc.array(one, { maxLength: 4 }).map((json) => ({ json })) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(...(bodies.get(ep.path) ?? textBodies(ep))).map((text) => ({ text })),
        },
        { weight: 1, arbitrary: hostileValue.map((json) => ({ json })) },
      );
      const session = fc.oneof(
        { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
        { weight: real.has(ep.path) ? 4 : 0, arbitrary: fc.constant({ kind: 'open' as const }) },
        { weight: 1, arbitrary: hostileHeader.map((id) => ({ kind: 'garbage' as const, id })) },
      );
      return fc.record({
        ep: fc.constant(ep),
        httpMethod: fc.oneof(
          { weight: 16, arbitrary: fc.constant('POST' as const) },
          { weight: 1, arbitrary: fc.constantFrom('GET' as const, 'DELETE' as const) },
        ),
        session,
        body,
        accept: optionalHeader(STANDARD_HEADERS.accept, [
          'application/json',
          'text/event-stream',
          '*/*',
          'text/html',
        ]),
        contentType: optionalHeader(STANDARD_HEADERS['content-type'], [
          'text/plain',
          'application/json; charset=latin1',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/json-patch+json',
        ]),
        protocolVersion: fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 4, arbitrary: fc.constantFrom(...PROTOCOL_VERSIONS) },
          { weight: 1, arbitrary: hostileHeader },
        ),
        lastEventId: fc.oneof(
          { weight: 20, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: hostileHeader },
        ),
        n: fc.nat(),
      });
    })
    .map(({ ep, httpMethod, session, body, accept, contentType, protocolVersion, lastEventId, n }) => ({
      path: ep.path,
      httpMethod,
      session,
      headers: {
        accept,
        'content-type': httpMethod === 'POST' ? contentType : undefined,
        'mcp-protocol-version': protocolVersion,
        'last-event-id': lastEventId,
      },
      body: httpMethod === 'POST' ? body : undefined,
      correlationId: `mcpfuzz-${n}-${Math.random().toString(36).slice(2)}`,
    }));
}

interface JsonRpcAnswer {
  id?: unknown;
  result?: unknown;
  error?: { code?: unknown; message?: unknown };
}

interface Sent {
  status: number;
  contentType: string;
  sessionId: string | null;
  /** The JSON-RPC messages of the answer (a JSON body, or the `data:` lines of an event stream). */
  messages: JsonRpcAnswer[];
  text: string;
}

/** Status of the last answer, to say what came before a request that got none. */
let previousAnswer = 0;

/** One HTTP request to an MCP endpoint; an event stream from GET is not waited for (it stays open). */
async function send(
  system: System,
  path: string,
  body: unknown,
  headers: Record<string, string | undefined>,
  correlationId: string,
  options: { method?: string; text?: string } = {},
): Promise<Sent> {
  const method = options.method ?? 'POST';
  const res = await fetch(`${system.url}${path}`, {
    method,
    headers: Object.fromEntries(
      Object.entries({ ...adminAuth, ...headers, 'x-correlation-id': correlationId }).filter(
        (kv): kv is [string, string] => kv[1] !== undefined,
      ),
    ),
    ...(method === 'POST' && { body: options.text ?? JSON.stringify(body) }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const contentType = res.headers.get('content-type') ?? '';
  const sessionId = res.headers.get('mcp-session-id');
  if (method === 'GET' && contentType.includes('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, contentType, sessionId, messages: [], text: '' };
  }
  const text = await res.text();
  // An answer without keep-alive (431 for a header past Node's limit, 414…) comes with the server
  // closing the connection; fetch may send the next request on it before it sees the close and fail
  // with "other side closed" (nodejs/undici#3492; twice in 100,000 cases, each right after a 431).
  // A moment's wait lets it see the close first.
  if (!res.headers.has('keep-alive')) await new Promise((resolve) => setTimeout(resolve, 20));
  previousAnswer = res.status;
  return { status: res.status, contentType, sessionId, messages: parseAnswer(contentType, text), text };
}

function parseAnswer(contentType: string, text: string): JsonRpcAnswer[] {
  const parse = (s: string): JsonRpcAnswer[] => {
    try {
      const v = JSON.parse(s) as unknown;
      return (Array.isArray(v) ? v : [v]).filter(
        (m): m is JsonRpcAnswer => typeof m === 'object' && m !== null,
      );
    } catch {
      return [];
    }
  };
  if (contentType.includes('text/event-stream'))
    return text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .flatMap((l) => parse(l.slice(5)));
  return contentType.includes('json') ? parse(text) : [];
}

/** Opens a real session on `path` as a client would (initialize, then initialized); undefined if refused. */
async function openSession(system: System, path: string, correlationId: string): Promise<string | undefined> {
  const init = await send(
    system,
    path,
    {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } },
    },
    STANDARD_HEADERS,
    correlationId,
  );
  if (!init.sessionId) return undefined;
  await send(
    system,
    path,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { ...STANDARD_HEADERS, 'mcp-session-id': init.sessionId, 'mcp-protocol-version': '2025-06-18' },
    correlationId,
  );
  return init.sessionId;
}

async function endSession(
  system: System,
  path: string,
  sessionId: string,
  correlationId: string,
): Promise<void> {
  await send(system, path, undefined, { 'mcp-session-id': sessionId }, correlationId, {
    method: 'DELETE',
  }).catch(() => undefined);
}

export interface McpCaseResult {
  status: number;
  /** JSON-RPC error codes in the answer. */
  errors: number[];
  /** Of those, internal errors that relay an upstream's failure (`data.code` UPSTREAM.*). */
  relayed: number;
  problem?: string;
}

/** Sends one case; answers the status, the JSON-RPC error codes and whether the rules held. */
export async function runCase(system: System, c: McpFuzzCase): Promise<McpCaseResult> {
  const what = () =>
    `${c.httpMethod} ${c.path} (session ${c.session.kind}) ${
      c.body === undefined ? '' : 'text' in c.body ? c.body.text : JSON.stringify(c.body.json)
    }`.slice(0, 400);
  let opened: string | undefined;
  let before = 0n;
  let sent: Sent;
  try {
    if (c.session.kind === 'open') opened = await openSession(system, c.path, `${c.correlationId}-open`);
    const sessionId = c.session.kind === 'garbage' ? c.session.id : opened;
    before = await system.store.headPosition();
    sent = await send(
      system,
      c.path,
      c.body && 'json' in c.body ? c.body.json : undefined,
      { ...c.headers, ...(sessionId !== undefined && { 'mcp-session-id': sessionId }) },
      c.correlationId,
      { method: c.httpMethod, ...(c.body && 'text' in c.body && { text: c.body.text }) },
    );
  } catch (e) {
    const err = e as Error;
    const cause = (err.cause as Error | undefined)?.message;
    const reason =
      err.name === 'TimeoutError'
        ? `no answer within ${TIMEOUT_MS / 1000} s`
        : `${err.message}${cause ? ` (${cause})` : ''} after a ${previousAnswer} answer`;
    return { status: 0, errors: [], relayed: 0, problem: `${what()}: ${reason}` };
  } finally {
    if (opened) await endSession(system, c.path, opened, `${c.correlationId}-end`);
  }
  // A stateful session opened by the case itself is ended too (the per-principal cap would end it anyway).
  if (sent.sessionId && sent.sessionId !== opened)
    await endSession(system, c.path, sent.sessionId, `${c.correlationId}-end`);
  const errors = sent.messages
    .map((m) => m.error?.code)
    .filter((code): code is number => typeof code === 'number');
  const upstreamFailure = (m: JsonRpcAnswer) =>
    m.error?.code === -32603 &&
    String((m.error as { data?: { code?: unknown } }).data?.code).startsWith('UPSTREAM.');
  const result = { status: sent.status, errors, relayed: sent.messages.filter(upstreamFailure).length };
  if (sent.status >= 500)
    return { ...result, problem: `${what()} answered ${sent.status}: ${sent.text.slice(0, 300)}` };
  // An upstream's own failure is relayed as -32603 with its code (a bad gateway, UPSTREAM.*): the
  // upstream's fault, counted by the caller, not the gateway's.
  const internal = sent.messages.find((m) => m.error?.code === -32603 && !upstreamFailure(m));
  if (internal)
    return {
      ...result,
      problem: `${what()} answered an internal error: ${JSON.stringify(internal.error).slice(0, 300)}`,
    };
  const answers = sent.messages.filter((m) => 'result' in m || 'error' in m);
  const refused = sent.status >= 400 || (answers.length > 0 && answers.every((m) => m.error !== undefined));
  if (refused) {
    const caused = (await system.store.readAll({ after: before, maxCount: 10_000 })).filter(
      (e) => e.metadata.correlationId === c.correlationId,
    );
    if (caused.length > 0)
      return {
        ...result,
        problem: `${what()} was refused (${sent.status} ${errors.join(',')}) yet appended ${caused
          .map((e) => e.type)
          .join(', ')}`,
      };
  }
  return result;
}
