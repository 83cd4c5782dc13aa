import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.ts';
import { silentLogger } from '../../kernel/logger.ts';
import {
  capturingLogger,
  eventually,
  everythingTransport,
  newMarker,
  processesWith,
  spec,
  startEverythingHttp,
  textOf,
} from '../../test/runners.ts';
import type { ListChanged, UpstreamSpec } from '../upstream.port.ts';
import { createUpstreamPool, type UpstreamPool } from './pool.ts';

/** A client's sampling handler answering `text`. */
const sampler = (text: string) => async () => ({
  model: 'm',
  role: 'assistant' as const,
  content: { type: 'text' as const, text },
});

/** Client a's long call, in flight on the server while `during` runs; then a's own sampling request. */
async function whileAnotherCalls(
  pool: UpstreamPool,
  serverId: string,
  during: () => Promise<void>,
): Promise<CallToolResult> {
  const running = pool.callTool(
    serverId,
    'trigger-long-running-operation',
    { duration: 1.5, steps: 3 },
    { caller: 'a', createMessage: sampler('from a') },
  );
  await new Promise((r) => setTimeout(r, 200));
  await during();
  // a's next call: only a's calls are where it runs, so there is no doubt whose its request is.
  const own = await samplingOf(pool, serverId, 'a');
  await running;
  return own;
}

/** `who`'s call of the tool that asks its client for sampling. */
function samplingOf(pool: UpstreamPool, serverId: string, who: string): Promise<CallToolResult> {
  return pool.callTool(
    serverId,
    'trigger-sampling-request',
    { prompt: 'whose?' },
    { caller: who, createMessage: sampler(`from ${who}`) },
  );
}

/** The reference server from npm, over each transport, through the pool. */
describe('upstream pool: server-everything over stdio', () => {
  const marker = newMarker();
  let pool: UpstreamPool;
  let everything: UpstreamSpec;
  const changes: ListChanged[] = [];

  beforeAll(async () => {
    pool = createUpstreamPool({ logger: silentLogger() });
    pool.onListChanged((c) => changes.push(c));
    everything = spec(everythingTransport(marker), { name: 'everything' });
    await pool.ensure(everything);
  });

  afterAll(async () => {
    await pool.close();
  });

  it('starts one process and reports it healthy', async () => {
    const [status] = pool.status(everything.serverId);
    expect(status).toMatchObject({ name: 'everything', revision: '1' });
    expect(status!.instances).toHaveLength(1);
    expect(status!.instances[0]).toMatchObject({ state: 'healthy', circuit: 'closed', inFlight: 0 });
    expect(status!.instances[0]!.target).toMatch(/^pid \d+$/);
    expect(await processesWith(marker)).toHaveLength(1);
  });

  it("emits the server's list_changed notifications", async () => {
    // server-everything registers its client-dependent tools after initialize, and says so.
    await eventually(() => changes.some((c) => c.serverId === everything.serverId && c.kind === 'tools'), {
      what: 'a tools list_changed',
    });
  });

  it('calls tools', async () => {
    const echo = await pool.callTool(everything.serverId, 'echo', { message: 'hello' });
    expect(textOf(echo)).toBe('Echo: hello');
    const sum = await pool.callTool(everything.serverId, 'get-sum', { a: 2, b: 3 });
    expect(textOf(sum)).toContain('is 5');
  });

  it('lists every tool, resource, template and prompt the server advertises', async () => {
    const catalog = await pool.discover(everything.serverId);
    expect(catalog.serverInfo?.name).toBe('mcp-servers/everything');
    expect(catalog.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(catalog.instructions).toBeTruthy();
    expect(catalog.capabilities).toHaveProperty('tools');
    const tools = catalog.tools.map((t) => t.name);
    // Tools registered only for clients that can sample, elicit and list roots are there too.
    expect(tools).toEqual(
      expect.arrayContaining([
        'echo',
        'get-sum',
        'trigger-long-running-operation',
        'trigger-sampling-request',
      ]),
    );
    expect(tools).toEqual(expect.arrayContaining(['trigger-elicitation-request', 'get-roots-list']));
    expect(catalog.resources.length).toBeGreaterThan(0);
    expect(catalog.resourceTemplates.length).toBeGreaterThan(0);
    expect(catalog.prompts.map((p) => p.name)).toEqual(
      expect.arrayContaining(['simple-prompt', 'args-prompt']),
    );
  });

  it('reads resources and gets prompts', async () => {
    const catalog = await pool.discover(everything.serverId);
    const first = catalog.resources[0]!;
    const read = await pool.readResource(everything.serverId, first.uri);
    expect(read.contents[0]?.uri).toBe(first.uri);
    const prompt = await pool.getPrompt(everything.serverId, 'args-prompt', { city: 'Lyon', state: 'Rhône' });
    expect(JSON.stringify(prompt.messages)).toContain('Lyon');
  });

  it('reports progress of a long-running tool to the caller', async () => {
    const progress: Array<{ progress: number; total?: number | undefined }> = [];
    const result = await pool.callTool(
      everything.serverId,
      'trigger-long-running-operation',
      { duration: 1, steps: 4 },
      { onProgress: (p) => progress.push(p) },
    );
    expect(textOf(result)).toContain('completed');
    expect(progress.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
    expect(progress[0]!.total).toBe(4);
  });

  it('relays sampling, elicitation and roots requests to the call that caused them', async () => {
    const sampled: unknown[] = [];
    const sampling = await pool.callTool(
      everything.serverId,
      'trigger-sampling-request',
      { prompt: 'a haiku', maxTokens: 20 },
      {
        createMessage: async (params) => {
          sampled.push(params);
          return {
            model: 'test-model',
            role: 'assistant',
            content: { type: 'text', text: 'cherry blossoms' },
          };
        },
      },
    );
    expect(sampled).toHaveLength(1);
    expect(JSON.stringify(sampled[0])).toContain('a haiku');
    expect(textOf(sampling)).toContain('cherry blossoms');

    const elicited = await pool.callTool(
      everything.serverId,
      'trigger-elicitation-request',
      {},
      { elicit: async () => ({ action: 'decline' }) },
    );
    expect(textOf(elicited)).toContain('declined');

    const roots = await pool.callTool(
      everything.serverId,
      'get-roots-list',
      {},
      { listRoots: async () => ({ roots: [{ uri: 'file:///work/project', name: 'project' }] }) },
    );
    expect(textOf(roots)).toContain('file:///work/project');
  });

  it("gives a client a process of its own when another client's call is in flight: each sampling request reaches its caller", async () => {
    const own = await whileAnotherCalls(pool, everything.serverId, async () => {
      const before = await processesWith(marker);
      expect(textOf(await samplingOf(pool, everything.serverId, 'b'))).toContain('from b');
      const started = (await processesWith(marker)).filter((p) => !before.includes(p));
      expect(started.length).toBeGreaterThan(0);
    });
    expect(textOf(own)).toContain('from a');
  });

  it('answers a sampling request with an error when the caller cannot sample', async () => {
    const result = await pool.callTool(everything.serverId, 'trigger-sampling-request', { prompt: 'x' });
    // The tool reports the failed sampling request as a tool error: the call itself succeeds.
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/sampling is not available|Method not found/i);
  });

  it('passes tool errors through as results, maps JSON-RPC errors to AppErrors, and stays up', async () => {
    // McpServer reports an unknown tool and invalid arguments as tool errors: results, not throws.
    const unknownTool = await pool.callTool(everything.serverId, 'no-such-tool', {});
    expect(unknownTool.isError).toBe(true);
    expect(textOf(unknownTool)).toContain('no-such-tool not found');
    const badArgs = await pool.callTool(everything.serverId, 'get-sum', { a: 'two' });
    expect(badArgs.isError).toBe(true);
    const missing = await pool
      .readResource(everything.serverId, 'demo://nothing/here')
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AppError);
    expect(missing).toMatchObject({
      kind: 'validation',
      code: 'UPSTREAM.INVALID_PARAMS',
      message: 'Resource demo://nothing/here not found',
      details: { mcpCode: -32602 },
    });
    expect(textOf(await pool.callTool(everything.serverId, 'echo', { message: 'still here' }))).toBe(
      'Echo: still here',
    );
  });

  it("shares the instance's process between concurrent calls that name no caller", async () => {
    const before = pool.status(everything.serverId)[0]!.instances[0]!.target;
    const processes = (await processesWith(marker)).length;
    const callers = Array.from({ length: 16 }, async (_, c) => {
      const texts: string[] = [];
      for (let i = 0; i < 5; i++) {
        texts.push(textOf(await pool.callTool(everything.serverId, 'echo', { message: `${c}-${i}` })));
      }
      return texts;
    });
    const all = (await Promise.all(callers)).flat();
    expect(all).toHaveLength(80);
    expect(new Set(all).size).toBe(80);
    expect(await processesWith(marker)).toHaveLength(processes);
    expect(pool.status(everything.serverId)[0]!.instances[0]!.target).toBe(before);
  });

  it('cancels an upstream call when the caller aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    const e = await pool
      .callTool(
        everything.serverId,
        'trigger-long-running-operation',
        { duration: 10, steps: 10 },
        { signal: controller.signal },
      )
      .catch((err: unknown) => err);
    expect(e).toMatchObject({ kind: 'timeout', code: 'UPSTREAM.CANCELLED' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(textOf(await pool.callTool(everything.serverId, 'echo', { message: 'after' }))).toBe(
      'Echo: after',
    );
  });

  it('times out a call that takes longer than the server allows, resetting on progress', async () => {
    // 1.5 s with progress every 0.5 s completes under a 1 s timeout: each report resets it.
    const progressing = await pool.callTool(
      everything.serverId,
      'trigger-long-running-operation',
      { duration: 1.5, steps: 3 },
      { timeoutMs: 1_000 },
    );
    expect(textOf(progressing)).toContain('completed');
    // One 2 s step: no progress within the timeout.
    const e = await pool
      .callTool(
        everything.serverId,
        'trigger-long-running-operation',
        { duration: 2, steps: 1 },
        { timeoutMs: 500 },
      )
      .catch((err: unknown) => err);
    expect(e).toMatchObject({ kind: 'timeout', code: 'UPSTREAM.TIMEOUT' });
  });

  it('pings', async () => {
    const ms = await pool.ping(everything.serverId);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(5_000);
  });

  it('stops: the process is gone and calls are refused as unknown', async () => {
    await pool.stop(everything.serverId);
    expect(await processesWith(marker)).toEqual([]);
    expect(pool.status(everything.serverId)).toEqual([]);
    await expect(pool.callTool(everything.serverId, 'echo', { message: 'x' })).rejects.toMatchObject({
      kind: 'not_found',
      code: 'UPSTREAM.UNKNOWN_SERVER',
    });
    await pool.stop(everything.serverId);
  });
});

describe('upstream pool: server-everything over Streamable HTTP and SSE', () => {
  let pool: UpstreamPool;
  const servers: Array<{ stop(): Promise<void> }> = [];

  beforeAll(() => {
    pool = createUpstreamPool({ logger: silentLogger() });
  });

  afterAll(async () => {
    await pool.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('calls tools, reports progress and lists everything over Streamable HTTP', async () => {
    const http = await startEverythingHttp('streamableHttp');
    servers.push(http);
    const s = spec(
      { type: 'streamable-http', url: http.url, headers: { 'x-test': 'yes' } },
      { name: 'http' },
    );
    await pool.ensure(s);
    expect(pool.status(s.serverId)[0]!.instances[0]).toMatchObject({ state: 'healthy', target: http.url });
    expect(textOf(await pool.callTool(s.serverId, 'echo', { message: 'over http' }))).toBe('Echo: over http');
    const progress: number[] = [];
    await pool.callTool(
      s.serverId,
      'trigger-long-running-operation',
      { duration: 0.6, steps: 3 },
      { onProgress: (p) => progress.push(p.progress) },
    );
    expect(progress).toEqual([1, 2, 3]);
    const sampled = await pool.callTool(
      s.serverId,
      'trigger-sampling-request',
      { prompt: 'http sampling' },
      {
        createMessage: async () => ({
          model: 'm',
          role: 'assistant',
          content: { type: 'text', text: 'via http' },
        }),
      },
    );
    expect(textOf(sampled)).toContain('via http');
    const catalog = await pool.discover(s.serverId);
    expect(catalog.tools.map((t) => t.name)).toContain('echo');
    await pool.stop(s.serverId);
  });

  it("gives each client's sampling request to its own call over Streamable HTTP while other clients' calls run", async () => {
    const http = await startEverythingHttp('streamableHttp');
    servers.push(http);
    const s = spec({ type: 'streamable-http', url: http.url, headers: {} }, { name: 'attributed' });
    await pool.ensure(s);
    const asked: string[] = [];
    const sampler = (who: string) => async () => {
      asked.push(who);
      return {
        model: 'm',
        role: 'assistant' as const,
        content: { type: 'text' as const, text: `from ${who}` },
      };
    };
    // Over stdio with one process for every caller these would be refused (no way to tell whose).
    const running = pool.callTool(
      s.serverId,
      'trigger-long-running-operation',
      { duration: 1.5, steps: 3 },
      { caller: 'a', createMessage: sampler('a') },
    );
    await new Promise((r) => setTimeout(r, 200));
    const [b, c] = await Promise.all(
      ['b', 'c'].map((who) =>
        pool.callTool(
          s.serverId,
          'trigger-sampling-request',
          { prompt: `for ${who}` },
          { caller: who, createMessage: sampler(who) },
        ),
      ),
    );
    expect(textOf(b!)).toContain('from b');
    expect(textOf(c!)).toContain('from c');
    expect(asked.sort()).toEqual(['b', 'c']);
    await running;
    await pool.stop(s.serverId);
  });

  it('calls tools over SSE', async () => {
    const sse = await startEverythingHttp('sse');
    servers.push(sse);
    const s = spec({ type: 'sse', url: sse.url, headers: {} }, { name: 'sse' });
    await pool.ensure(s);
    expect(pool.status(s.serverId)[0]!.instances[0]!.state).toBe('healthy');
    expect(textOf(await pool.callTool(s.serverId, 'echo', { message: 'over sse' }))).toBe('Echo: over sse');
    expect(await pool.ping(s.serverId)).toBeGreaterThan(0);
    await pool.stop(s.serverId);
  });

  it('says clearly when an HTTP upstream cannot be reached', async () => {
    const s = spec(
      { type: 'streamable-http', url: 'http://127.0.0.1:9/mcp', headers: {} },
      { name: 'nowhere', connectTimeoutMs: 2_000 },
    );
    await pool.ensure(s);
    const status = pool.status(s.serverId)[0]!.instances[0]!;
    expect(status.state).toBe('unhealthy');
    expect(status.lastError).toMatch(/could not initialize/);
    const e = await pool.callTool(s.serverId, 'echo', { message: 'x' }).catch((err: unknown) => err);
    expect(e).toMatchObject({ kind: 'unavailable', code: 'UPSTREAM.NO_HEALTHY_INSTANCE' });
    await eventually(async () => {
      await pool.stop(s.serverId);
      return true;
    });
  });
});

describe('upstream pool: server-everything over stdio, one process for every caller (clientSessions 0)', () => {
  const marker = newMarker();
  const logs = capturingLogger('warn');
  let pool: UpstreamPool;
  let everything: UpstreamSpec;

  beforeAll(async () => {
    pool = createUpstreamPool({ logger: logs.logger });
    everything = spec(everythingTransport(marker), { name: 'everything', clientSessions: 0 });
    await pool.ensure(everything);
  });

  afterAll(async () => {
    await pool.close();
  });

  it("never hands one client's sampling request to another client's call: it refuses", async () => {
    const own = await whileAnotherCalls(pool, everything.serverId, async () => {
      const refused = await samplingOf(pool, everything.serverId, 'b');
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/refused: calls of 2 different clients/);
      // The operator is told, and what would make it exact.
      expect(logs.lines().some((l) => /settings\.clientSessions/.test(l.msg as string))).toBe(true);
    });
    expect(textOf(own)).toContain('from a');
    expect(await processesWith(marker)).toHaveLength(1);
  });
});
