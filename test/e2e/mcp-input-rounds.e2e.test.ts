import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { adminAuth } from '../access.ts';
import { type ModernFixture, startModernFixture } from '../conformance/fixture-modern.ts';
import { type HttpFixture, startHttpFixture } from '../conformance/fixture-server.ts';
import { postModern } from '../modern-requests.ts';
import { eventually } from '../runners.ts';
import { client, startGatewayPair, startMemorySystem } from '../systems.ts';

type Json = Record<string, unknown>;

/**
 * 2026-07-28 multi round-trip requests through the gateway, in front of a 2025-11-25 upstream (the
 * conformance fixture over Streamable HTTP, SDK server): the upstream's questions in the middle of
 * a call reach a stateless client as `input_required` rounds, its answers reach the upstream, and
 * a round's state is good once, for its own request, from its own caller.
 */
describe('input_required rounds in front of a 2025 upstream', () => {
  let system: System;
  let fixture: HttpFixture;
  let otherKey: string;

  /** One 2026-07-28 request to the fixture's endpoint, as `token` (the administrator by default). */
  async function modern(
    method: string,
    params: Json,
    options: { token?: string; capabilities?: Json; stream?: boolean } = {},
  ): Promise<{ status: number; body: Json; text: string }> {
    const res = await postModern(system, '/servers/fixture/mcp', method, params, options);
    // A streamed answer is its last event.
    const last = res.text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .pop();
    const body = (last ? JSON.parse(last.slice(6)) : res.json) as Json;
    return { status: res.status, body, text: res.text };
  }
  const result = (r: { body: Json }) => r.body.result as Json;
  const errorOf = (r: { body: Json }) => r.body.error as { code: number; message: string } | undefined;
  const textOf = (r: { body: Json }) =>
    ((result(r).content as Array<{ text: string }>)[0] as { text: string }).text;
  const accept = (content: Json) => ({ action: 'accept', content });

  beforeAll(async () => {
    fixture = await startHttpFixture();
    system = await startMemorySystem({ SWITCHYARD_LOG_LEVEL: 'error', SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    const admin = client(system);
    const registered = await admin('/api/v1/servers?wait=true', {
      body: { name: 'fixture', transport: { type: 'streamable-http', url: fixture.url } },
    });
    expect(registered.status).toBe(202);
    await eventually(
      async () => {
        const listed = await modern('tools/list', {});
        const names = ((result(listed)?.tools as Array<{ name: string }> | undefined) ?? []).map(
          (t) => t.name,
        );
        return names.includes('test_input_required_result_multi_round') ? true : undefined;
      },
      { timeoutMs: 60_000, what: "the fixture's tools" },
    );
    const p = await admin('/api/v1/principals', { body: { name: 'rounds-user', roles: ['executor'] } });
    otherKey = (
      (
        await admin('/api/v1/api-keys', {
          body: { name: 'rounds', principalId: (p.json as { id: string }).id },
        })
      ).json as { key: string }
    ).key;
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await fixture?.close();
  });

  it('asks each of the upstream’s questions in its own round; a state is good once, for its own request and caller', async () => {
    const call = { name: 'test_input_required_result_multi_round', arguments: {} };
    const first = await modern('tools/call', call);
    expect(result(first)).toMatchObject({
      resultType: 'input_required',
      inputRequests: {
        elicitation: { method: 'elicitation/create', params: { message: 'Step 1: What is your name?' } },
      },
    });
    const state1 = result(first).requestState as string;

    const second = await modern('tools/call', {
      ...call,
      inputResponses: { elicitation: accept({ name: 'Ada' }) },
      requestState: state1,
    });
    expect(result(second)).toMatchObject({
      resultType: 'input_required',
      inputRequests: { elicitation_2: { params: { message: 'Step 2: What is your favorite color?' } } },
    });
    const state2 = result(second).requestState as string;
    expect(state2).not.toBe(state1);

    const answer = { inputResponses: { elicitation_2: accept({ color: 'blue' }) } };
    // An earlier round's state, a tampered one, another caller, another tool: refused, and the
    // round still waits for its own client.
    const refusals = [
      await modern('tools/call', { ...call, ...answer, requestState: state1 }),
      await modern('tools/call', { ...call, ...answer, requestState: `${state2}-TAMPERED` }),
      await modern('tools/call', { ...call, ...answer, requestState: state2 }, { token: otherKey }),
      await modern('tools/call', {
        name: 'test_input_required_result_tampered_state',
        arguments: {},
        ...answer,
        requestState: state2,
      }),
    ];
    for (const r of refusals) expect(errorOf(r)?.code).toBe(-32602);
    expect(errorOf(refusals[1]!)?.message).toContain('integrity');

    const done = await modern('tools/call', { ...call, ...answer, requestState: state2 });
    expect(result(done).resultType).toBe('complete');
    expect(textOf(done)).toBe('name="Ada" color="blue"');
    // Finished: the state continues nothing any more.
    expect(errorOf(await modern('tools/call', { ...call, ...answer, requestState: state2 }))?.code).toBe(
      -32602,
    );

    // One audited call, succeeded, for all its rounds.
    const items = await eventually(async () => {
      const calls = await client(system)('/api/v1/tool-calls?tool=test_input_required_result_multi_round');
      const listed = (calls.json.items ?? []) as Array<{ tool: string; status: string }>;
      return listed.every((c) => c.status !== 'running') && listed.length > 0 ? listed : undefined;
    });
    expect(items.map((c) => [c.tool, c.status])).toEqual([
      ['test_input_required_result_multi_round', 'succeeded'],
    ]);
  });

  it('refuses an answer of the wrong shape without spending the round', async () => {
    const call = { name: 'test_input_required_result_sampling', arguments: {} };
    const first = await modern('tools/call', call);
    const requestState = result(first).requestState as string;
    expect(Object.keys(result(first).inputRequests as Json)).toEqual(['sampling']);
    const wrong = await modern('tools/call', {
      ...call,
      inputResponses: { sampling: accept({ name: 'not a completion' }) },
      requestState,
    });
    expect(errorOf(wrong)?.code).toBe(-32602);
    const right = await modern('tools/call', {
      ...call,
      inputResponses: {
        sampling: {
          role: 'assistant',
          content: { type: 'text', text: 'Paris.' },
          model: 'm',
          stopReason: 'endTurn',
        },
        unrelated: accept({}),
      },
      requestState,
    });
    expect(textOf(right)).toBe('The model said: Paris.');
  });

  it('asks a client only what it declared it can answer; the upstream is refused the rest', async () => {
    const call = { name: 'test_input_required_result_capabilities', arguments: {} };
    const first = await modern('tools/call', call, { capabilities: { sampling: {} } });
    expect(Object.keys(result(first).inputRequests as Json)).toEqual(['sampling']);
    const done = await modern(
      'tools/call',
      {
        ...call,
        inputResponses: {
          sampling: { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'm' },
        },
        requestState: result(first).requestState,
      },
      { capabilities: { sampling: {} } },
    );
    expect(textOf(done)).toBe('elicitation=refused sampling=hi');
  });

  it('gathers questions asked together into one round (as JSON to a client that accepts a stream, when nothing came before)', async () => {
    const call = { name: 'test_input_required_result_multiple_inputs', arguments: {} };
    const first = await modern('tools/call', call, { stream: true });
    expect(first.text).not.toContain('event: message');
    const asked = result(first).inputRequests as Record<string, { method: string }>;
    expect(Object.fromEntries(Object.entries(asked).map(([k, v]) => [k, v.method]))).toEqual({
      elicitation: 'elicitation/create',
      sampling: 'sampling/createMessage',
      roots: 'roots/list',
    });
    const done = await modern(
      'tools/call',
      {
        ...call,
        inputResponses: {
          elicitation: accept({ name: 'Ada' }),
          sampling: { role: 'assistant', content: { type: 'text', text: 'Hello!' }, model: 'm' },
          roots: { roots: [{ uri: 'file:///work' }] },
        },
        requestState: result(first).requestState,
      },
      { stream: true },
    );
    expect(textOf(done)).toBe('name="Ada" greeting=Hello! roots=file:///work');
  });

  it('serves a prompt that asks first', async () => {
    const get = { name: 'test_input_required_result_prompt' };
    const first = await modern('prompts/get', get);
    expect(result(first).resultType).toBe('input_required');
    const done = await modern('prompts/get', {
      ...get,
      inputResponses: { elicitation: accept({ context: 'tests' }) },
      requestState: result(first).requestState,
    });
    expect(result(done)).toMatchObject({
      resultType: 'complete',
      messages: [{ content: { text: 'Use this context: tests' } }],
    });
  });
});

/**
 * Two gateways of one deployment (PostgreSQL + NATS): a retry that reaches the gateway not holding
 * its round is answered by the one that does, over the bus; once that gateway is gone, refused.
 */
describe('input_required rounds across gateways', () => {
  let fixture: HttpFixture;
  let pair: Awaited<ReturnType<typeof startGatewayPair>>;

  const call = { name: 'test_input_required_result_multi_round', arguments: {} };
  const ask = (system: System, params: Json) =>
    postModern(
      system,
      '/servers/fixture/mcp',
      'tools/call',
      { ...call, ...params },
      {
        capabilities: { elicitation: {} },
        id: 2,
      },
    );
  const resultOf = (r: { json: Json }) => r.json.result as Json;

  beforeAll(async () => {
    fixture = await startHttpFixture();
    // The fixture listens on loopback, which a distributed deployment refuses to reach by default.
    pair = await startGatewayPair({
      SWITCHYARD_LOG_LEVEL: 'error',
      SWITCHYARD_EGRESS_ALLOW_LOOPBACK: 'true',
    });
    const registered = await client(pair.a)('/api/v1/servers?wait=true', {
      body: { name: 'fixture', transport: { type: 'streamable-http', url: fixture.url } },
    });
    expect(registered.status).toBe(202);
    await eventually(
      async () => {
        const r = await ask(pair.b, call);
        return resultOf(r)?.resultType === 'input_required' ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'gateway b to serve the fixture' },
    );
  }, 120_000);

  afterAll(async () => {
    await pair?.stop();
    await fixture?.close();
  });

  it('answers a retry on the gateway that holds its round, whichever gateway it reaches', async () => {
    const first = await ask(pair.b, call);
    const state1 = resultOf(first).requestState as string;
    // Round two through a: b holds the upstream's call, and asks the next question.
    const second = await ask(pair.a, {
      ...call,
      inputResponses: { elicitation: { action: 'accept', content: { name: 'Ada' } } },
      requestState: state1,
    });
    expect(resultOf(second)).toMatchObject({
      resultType: 'input_required',
      inputRequests: { elicitation_2: { method: 'elicitation/create' } },
    });
    // A tampered state sent through a is refused by b, and the round still waits.
    const state2 = resultOf(second).requestState as string;
    const tampered = await ask(pair.a, {
      ...call,
      inputResponses: { elicitation_2: { action: 'accept', content: { color: 'red' } } },
      requestState: `${state2.slice(0, -2)}xx`,
    });
    expect((tampered.json.error as { code: number }).code).toBe(-32602);
    const done = await ask(pair.b, {
      ...call,
      inputResponses: { elicitation_2: { action: 'accept', content: { color: 'blue' } } },
      requestState: state2,
    });
    expect(resultOf(done)).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: 'name="Ada" color="blue"' }],
    });
  });

  it('refuses a retry whose gateway is gone', async () => {
    const first = await ask(pair.b, call);
    await pair.b.stop();
    const retry = await ask(pair.a, {
      ...call,
      inputResponses: { elicitation: { action: 'accept', content: { name: 'Ada' } } },
      requestState: resultOf(first).requestState,
    });
    expect(retry.json.error).toMatchObject({ code: -32602, message: expect.stringContaining('gone') });
  });
});

/**
 * A client of the stateful revisions in front of a 2026-07-28 upstream (the SDK's v2 server): the
 * gateway speaks the stateless revision to it, and the upstream's `input_required` questions reach
 * the client as the sampling, elicitation and roots requests it knows, in its session.
 */
describe('a 2025-11-25 client in front of a 2026-07-28 upstream', () => {
  let system: System;
  let upstream: ModernFixture;
  let session: Client;
  const asked: string[] = [];

  beforeAll(async () => {
    upstream = await startModernFixture();
    system = await startMemorySystem({ SWITCHYARD_LOG_LEVEL: 'error', SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    const registered = await client(system)('/api/v1/servers?wait=true', {
      body: { name: 'modern', transport: { type: 'streamable-http', url: upstream.url } },
    });
    expect(registered.status).toBe(202);
    await eventually(
      async () =>
        (await client(system)('/api/v1/servers/modern/tools/test_simple_text', { body: {} })).status === 200,
      { timeoutMs: 60_000, what: 'the 2026-07-28 upstream discovered' },
    );
    session = new Client(
      { name: 'legacy', version: '1.0.0' },
      { capabilities: { elicitation: {}, roots: {} } },
    );
    session.setRequestHandler(ElicitRequestSchema, async (request) => {
      const { message } = request.params as { message: string };
      asked.push(message);
      return message.includes('color')
        ? { action: 'accept', content: { color: 'blue' } }
        : { action: 'accept', content: { name: 'Ada', context: 'tests' } };
    });
    session.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work' }] }));
    await session.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}/servers/modern/mcp`), {
        requestInit: { headers: adminAuth },
      }),
    );
    await eventually(
      async () =>
        (await session.listTools()).tools.some((t) => t.name === 'test_input_required_result_multi_round'),
      { timeoutMs: 60_000, what: "the 2026-07-28 upstream's tools" },
    );
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    await system?.stop();
    await upstream?.close();
  });

  // Spoken to in 2025-11-25, this upstream could not ask at all (its SDK serves that revision
  // statelessly, with no way back to the client): each answer below went by 2026-07-28 rounds.
  it('asks the client each round’s questions in its session, and returns the result', async () => {
    asked.length = 0;
    const result = await session.callTool({ name: 'test_input_required_result_multi_round', arguments: {} });
    expect(asked).toEqual(['Step 1: What is your name?', 'Step 2: What is your favorite color?']);
    expect(result.content).toEqual([{ type: 'text', text: 'Multi-round complete: Ada likes blue' }]);
    // The revision's own fields stay out of a 2025 result.
    expect(result).not.toHaveProperty('resultType');
  });

  it('tells the upstream what this client can be asked: roots yes, sampling no', async () => {
    const result = await session.callTool({ name: 'test_input_required_result_capabilities', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'Capability-aware input requests fulfilled' }]);
    const roots = await session.callTool({ name: 'test_input_required_result_list_roots', arguments: {} });
    expect(roots.content).toEqual([{ type: 'text', text: 'Client exposed 1 root(s): file:///work' }]);
  });

  it('serves a prompt that asks first', async () => {
    const prompt = await session.getPrompt({ name: 'test_input_required_result_prompt' });
    expect(prompt.messages).toEqual([
      { role: 'user', content: { type: 'text', text: 'Prompt context: tests' } },
    ]);
  });
});
