/**
 * A 2026-07-28 upstream for the tests, on the SDK's v2 server (`@modelcontextprotocol/server`,
 * `createMcpHandler`: the stateless revision per request, and 2025 traffic statelessly beside it).
 * Its tools and prompt are those of the suite's own reference server (typescript-sdk
 * test/conformance/src/everythingServer.ts) for the `input-required-result-*` scenarios, written the
 * 2026 way: a handler returns `input_required` with its questions under keys of its own, and runs
 * again with the answers — plus `test_simple_text`. It is the upstream the gateway must be
 * transparent in front of for 2026-07-28 clients, and bridge for 2025 ones.
 *
 *   node --import tsx test/conformance/fixture-modern.ts      # prints its URL on the first line
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server as NodeHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import {
  acceptedContent,
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  completable,
  createMcpHandler,
  createRequestStateCodec,
  fromJsonSchema,
  type GetPromptResult,
  type InputRequests,
  type InputRequiredResult,
  inputRequired,
  McpServer,
  ResourceNotFoundError,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import * as z from 'zod/v4';
import {
  COMPLETIONS,
  completionValues,
  getPrompt,
  isLocal,
  PROMPTS,
  RESOURCE_TEMPLATES,
  RESOURCES,
  resourceContents,
  STATIC_TOOLS,
} from './fixture-server.ts';

export const MODERN_FIXTURE_NAME = 'switchyard-modern-fixture';

const requestStateCodec = createRequestStateCodec<Record<string, unknown>>({
  key: crypto.getRandomValues(new Uint8Array(32)),
});

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
const askName = (message = 'What is your name?') =>
  inputRequired.elicit({
    message,
    requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  });
const askConfirm = () =>
  inputRequired.elicit({
    message: 'Please confirm',
    requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
  });
const noArgs = { inputSchema: z.object({}) };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
type Answer = Promise<CallToolResult | InputRequiredResult>;

/** The handler's listen streams, for the trigger tool (set once the handler exists). */
let notify: { toolsChanged(): void; promptsChanged(): void } = {
  toolsChanged: () => undefined,
  promptsChanged: () => undefined,
};

function createModernServer(): McpServer {
  const server = new McpServer(
    { name: MODERN_FIXTURE_NAME, version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { listChanged: true },
        logging: {},
        completions: {},
      },
      requestState: { verify: requestStateCodec.verify },
    },
  );

  // The `server-stateless` scenario's diagnostics, as the reference server has them.
  server.registerTool(
    'test_missing_capability',
    { description: 'Needs the sampling capability (-32021 without it)', ...noArgs },
    async (_args, ctx): Answer => {
      if (ctx.mcpReq.inputResponses?.llm_answer !== undefined) return text('sampling round-trip complete');
      return inputRequired({
        inputRequests: {
          llm_answer: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'Reply with the single word: pong' } }],
            maxTokens: 16,
          }),
        },
      });
    },
  );
  server.registerTool(
    'test_streaming_elicitation',
    { description: 'A response stream with no independent requests on it', ...noArgs },
    async () => text('stream observed: result frames only, no top-level requests'),
  );
  server.registerTool(
    'test_logging_tool',
    { description: 'Logs, which reaches a client only when its request set a log level', ...noArgs },
    async (_args, ctx) => {
      await ctx.mcpReq.log('info', 'test_logging_tool ran');
      return text('logged through the request-scoped, logLevel-gated channel');
    },
  );
  server.registerTool(
    'test_trigger_tool_change',
    { description: 'Announces a tools/list_changed to the listen streams', ...noArgs },
    async () => {
      notify.toolsChanged();
      return text('tools_list_changed published');
    },
  );

  server.registerTool(
    'test_trigger_prompt_change',
    { description: 'Announces a prompts/list_changed to the listen streams', ...noArgs },
    async () => {
      notify.promptsChanged();
      return text('prompts_list_changed published');
    },
  );

  server.registerTool(
    'test_input_required_result_elicitation',
    { description: 'Asks for the caller name (in-band elicitation)', ...noArgs },
    async (_args, ctx): Answer => {
      const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'user_name')?.name;
      if (typeof name !== 'string') return inputRequired({ inputRequests: { user_name: askName() } });
      return text(`Hello, ${name}!`);
    },
  );

  server.registerTool(
    'test_input_required_result_sampling',
    { description: 'Asks for an LLM completion (in-band sampling)', ...noArgs },
    async (_args, ctx): Answer => {
      const reply = ctx.mcpReq.inputResponses?.capital_question as
        | { content?: { text?: string } }
        | undefined;
      if (reply === undefined)
        return inputRequired({
          inputRequests: {
            capital_question: inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
              maxTokens: 100,
            }),
          },
        });
      return text(`Sampling response: ${reply.content?.text ?? JSON.stringify(reply)}`);
    },
  );

  server.registerTool(
    'test_input_required_result_list_roots',
    { description: "Asks for the client's roots (in-band roots/list)", ...noArgs },
    async (_args, ctx): Answer => {
      const roots = (
        ctx.mcpReq.inputResponses?.client_roots as { roots?: Array<{ uri?: string }> } | undefined
      )?.roots;
      if (!Array.isArray(roots))
        return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
      return text(`Client exposed ${roots.length} root(s): ${roots.map((r) => r.uri).join(', ')}`);
    },
  );

  server.registerTool(
    'test_input_required_result_request_state',
    { description: 'Round-trips integrity-protected requestState with an elicitation', ...noArgs },
    async (_args, ctx): Answer => {
      if (acceptedContent<{ ok: boolean }>(ctx.mcpReq.inputResponses, 'confirm') === undefined)
        return inputRequired({
          inputRequests: { confirm: askConfirm() },
          requestState: await requestStateCodec.mint({ tool: 'request_state', nonce: randomUUID() }),
        });
      if (ctx.mcpReq.requestState() === undefined) throw new Error('requestState missing');
      return text('state-ok: requestState verified and confirmation received');
    },
  );

  server.registerTool(
    'test_input_required_result_multiple_inputs',
    { description: 'Asks for elicitation, sampling and roots input in one round', ...noArgs },
    async (_args, ctx): Answer => {
      const responses = ctx.mcpReq.inputResponses;
      const name = acceptedContent<{ name: string }>(responses, 'user_name')?.name;
      const greeting = (responses?.greeting as { content?: { text?: string } } | undefined)?.content?.text;
      const roots = (responses?.client_roots as { roots?: unknown[] } | undefined)?.roots;
      if (typeof name !== 'string' || typeof greeting !== 'string' || !Array.isArray(roots))
        return inputRequired({
          inputRequests: {
            user_name: askName(),
            greeting: inputRequired.createMessage({
              messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
              maxTokens: 50,
            }),
            client_roots: inputRequired.listRoots(),
          },
          requestState: await requestStateCodec.mint({ tool: 'multiple_inputs', nonce: randomUUID() }),
        });
      return text(`${greeting} ${name} — ${roots.length} root(s) visible`);
    },
  );

  server.registerTool(
    'test_input_required_result_multi_round',
    { description: 'Two elicitation rounds with evolving requestState', ...noArgs },
    async (_args, ctx): Answer => {
      const state = ctx.mcpReq.requestState<Record<string, unknown>>();
      const round = state?.tool === 'multi_round' && typeof state.round === 'number' ? state.round : 0;
      if (round === 0)
        return inputRequired({
          inputRequests: { step1: askName('Step 1: What is your name?') },
          requestState: await requestStateCodec.mint({ tool: 'multi_round', round: 1, nonce: randomUUID() }),
        });
      if (round === 1) {
        const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'step1')?.name ?? 'unknown';
        return inputRequired({
          inputRequests: {
            step2: inputRequired.elicit({
              message: 'Step 2: What is your favorite color?',
              requestedSchema: {
                type: 'object',
                properties: { color: { type: 'string' } },
                required: ['color'],
              },
            }),
          },
          requestState: await requestStateCodec.mint({
            tool: 'multi_round',
            round: 2,
            name,
            nonce: randomUUID(),
          }),
        });
      }
      const color =
        acceptedContent<{ color: string }>(ctx.mcpReq.inputResponses, 'step2')?.color ?? 'unknown';
      return text(`Multi-round complete: ${String(state?.name ?? 'unknown')} likes ${color}`);
    },
  );

  server.registerTool(
    'test_input_required_result_tampered_state',
    { description: 'Rejects retries whose requestState fails integrity verification', ...noArgs },
    async (_args, ctx): Answer => {
      if (ctx.mcpReq.requestState() !== undefined && acceptedContent(ctx.mcpReq.inputResponses, 'confirm'))
        return text('integrity-ok: requestState verified');
      return inputRequired({
        inputRequests: { confirm: askConfirm() },
        requestState: await requestStateCodec.mint({ tool: 'tampered_state', nonce: randomUUID() }),
      });
    },
  );

  server.registerTool(
    'test_input_required_result_capabilities',
    { description: 'Asks only for the input kinds the client declared', ...noArgs },
    async (_args, ctx): Answer => {
      if (ctx.mcpReq.inputResponses !== undefined) return text('Capability-aware input requests fulfilled');
      const envelope = ctx.mcpReq.envelope as Record<string, Record<string, unknown> | undefined> | undefined;
      const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY];
      const inputRequests: InputRequests = {};
      if (declared?.elicitation !== undefined) inputRequests.user_name = askName();
      if (declared?.sampling !== undefined)
        inputRequests.greeting = inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'Generate a short greeting' } }],
          maxTokens: 50,
        });
      if (declared?.roots !== undefined) inputRequests.client_roots = inputRequired.listRoots();
      if (Object.keys(inputRequests).length === 0)
        return text('No declared client capability supports an in-band input request');
      return inputRequired({ inputRequests });
    },
  );

  server.registerPrompt(
    'test_input_required_result_prompt',
    { description: 'A prompt that requires elicitation input before rendering' },
    async (ctx): Promise<GetPromptResult | InputRequiredResult> => {
      const context = acceptedContent<{ context: string }>(
        (ctx as ServerContext).mcpReq.inputResponses,
        'user_context',
      )?.context;
      if (typeof context !== 'string')
        return inputRequired({
          inputRequests: {
            user_context: inputRequired.elicit({
              message: 'What context should the prompt use?',
              requestedSchema: {
                type: 'object',
                properties: { context: { type: 'string' } },
                required: ['context'],
              },
            }),
          },
        });
      return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt context: ${context}` } }] };
    },
  );
  registerEverything(server);
  return server;
}

/**
 * What the reference server serves besides its input_required tools, as the 2025 fixture serves
 * it (fixture-server.ts's static tools, resources, prompts and completions): the same answers to
 * a 2026-07-28 client.
 */
function registerEverything(server: McpServer): void {
  for (const { tool, result } of STATIC_TOOLS)
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: fromJsonSchema(tool.inputSchema) },
      async () => result,
    );
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Sends three info log notifications while it runs', ...noArgs },
    async (_args, ctx) => {
      for (const [i, message] of [
        'Tool execution started',
        'Tool processing data',
        'Tool execution completed',
      ].entries()) {
        if (i > 0) await sleep(50);
        await ctx.mcpReq.log('info', message, 'fixture');
      }
      return text('Tool with logging executed successfully');
    },
  );
  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50 and 100 of 100 when given a progress token', ...noArgs },
    async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const [i, progress] of [0, 50, 100].entries()) {
        if (i > 0) await sleep(50);
        if (progressToken !== undefined)
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100 },
          });
      }
      return text('Tool with progress executed successfully');
    },
  );

  const read = (uri: URL) => {
    const found = resourceContents(uri.href);
    if (!found) throw new ResourceNotFoundError(uri.href);
    return found;
  };
  for (const { name, uri, description, mimeType } of RESOURCES)
    server.registerResource(name, uri, { description, mimeType }, async (u) => read(u));
  for (const { name, uriTemplate, description, mimeType } of RESOURCE_TEMPLATES) {
    const variable = /\{(\w+)\}/.exec(uriTemplate)?.[1] ?? 'id';
    const key = `resource:${uriTemplate}:${variable}`;
    server.registerResource(
      name,
      new ResourceTemplate(uriTemplate, {
        list: undefined,
        complete: { [variable]: (value) => completionValues(key, value) },
      }),
      { description, mimeType },
      async (u) => read(u),
    );
  }
  for (const prompt of PROMPTS) {
    const args = prompt.arguments ?? [];
    const shape = Object.fromEntries(
      args.map((a) => {
        const key = `prompt:${prompt.name}:${a.name}`;
        const field = z.string().describe(a.description ?? a.name);
        return [
          a.name,
          COMPLETIONS[key] ? completable(field, (value) => completionValues(key, value)) : field,
        ];
      }),
    );
    const render = (values: Record<string, string>) => getPrompt(prompt.name, values);
    if (args.length === 0)
      server.registerPrompt(prompt.name, { description: prompt.description }, async () => render({}));
    else
      server.registerPrompt(
        prompt.name,
        { description: prompt.description, argsSchema: z.object(shape) },
        async (values) => render(values as Record<string, string>),
      );
  }
}

export interface ModernFixture {
  url: string;
  close(): Promise<void>;
}

/** Serves the fixture on loopback (any free port), at `/mcp`. */
export async function startModernFixture(): Promise<ModernFixture> {
  const handler = createMcpHandler(() => createModernServer());
  notify = handler.notify;
  const listener = getRequestListener((request) => handler.fetch(request));
  const http: NodeHttpServer = createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    // DNS rebinding protection, as the 2025 fixture has it: a foreign Host or Origin is refused.
    const origin = req.headers.origin;
    if (!isLocal(req.headers.host ?? '', false) || (origin !== undefined && !isLocal(origin, true))) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          jsonrpc: '2.0',
          error: { code: -32000, message: 'Forbidden: Host or Origin is not a local address' },
          id: null,
        }),
      );
      return;
    }
    void listener(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async close() {
      await handler.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const fixture = await startModernFixture();
  process.stdout.write(`${fixture.url}\n`);
}
