/**
 * Switchyard's MCP conformance fixture: a server with exactly the tools, resources, prompts and
 * behaviours that the server scenarios of @modelcontextprotocol/conformance ask for (each
 * scenario's "Server Implementation Requirements"), written on the SDK's low-level `Server` so
 * that schemas and results go on the wire exactly as written here.
 *
 *   node --import tsx test/conformance/fixture-server.ts --stdio
 *   node --import tsx test/conformance/fixture-server.ts --http [--port N] [--host 127.0.0.1]
 *
 * Over HTTP it serves Streamable HTTP at `/mcp` with stateful sessions (one `Server` per session),
 * resumable SSE streams (an in-memory event store, priming events with a retry hint), and DNS
 * rebinding protection (Host and Origin must be localhost, 127.0.0.1 or [::1]); once listening it
 * prints its URL, alone on the first line of stdout. Over stdio, stdout carries only MCP; the
 * process exits when stdin closes.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as NodeHttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  type EventId,
  type EventStore,
  StreamableHTTPServerTransport,
  type StreamId,
} from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  type ElicitRequestFormParams,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  type GetPromptResult,
  isInitializeRequest,
  type JSONRPCMessage,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  type LoggingLevel,
  McpError,
  type Prompt,
  ReadResourceRequestSchema,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  type Tool,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

import {
  getInputRequiredPrompt,
  INPUT_REQUIRED_PROMPT,
  INPUT_REQUIRED_TOOLS,
  STATELESS_DIAGNOSTICS,
} from './fixture-2026-tools.ts';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
type Args = Record<string, unknown>;

export const FIXTURE_NAME = 'switchyard-conformance-fixture';
export const FIXTURE_VERSION = '1.0.0';

/** A 1×1 red PNG. */
export const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
/** 8 samples of silence: a minimal valid 8 kHz, 8-bit mono WAV. */
export const SILENT_WAV = wav(8);

const LOG_SEVERITY: Record<LoggingLevel, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const text = (value: string) => ({ type: 'text' as const, text: value });
const noArguments = { type: 'object' as const, properties: {} };

// ---------------------------------------------------------------------------------------------
// The server: one per client connection (MCP session).
// ---------------------------------------------------------------------------------------------

interface Session {
  server: Server;
  /** Set by logging/setLevel; notifications below it are not sent. */
  logLevel: LoggingLevel | undefined;
  subscriptions: Set<string>;
}

interface FixtureTool {
  tool: Tool;
  call(args: Args, extra: Extra, session: Session): Promise<CallToolResult>;
}

/** Builds a fresh server with every capability the scenarios exercise. */
export function createFixtureServer(): Server {
  const server = new Server(
    { name: FIXTURE_NAME, version: FIXTURE_VERSION },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      instructions: 'Conformance fixture for @modelcontextprotocol/conformance server scenarios.',
    },
  );
  const session: Session = { server, logLevel: undefined, subscriptions: new Set() };
  const tools = new Map<string, FixtureTool>([
    ...TOOLS.map((entry) => [entry.tool.name, entry] as const),
    ...[...INPUT_REQUIRED_TOOLS, ...STATELESS_DIAGNOSTICS].map(
      (entry) =>
        [entry.tool.name, { ...entry, call: (_a: Args, extra: Extra) => entry.call(extra) }] as const,
    ),
  ]);
  const listed = [...tools.values()].map((entry) => entry.tool);

  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    session.logLevel = request.params.level;
    return {};
  });

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const entry = tools.get(request.params.name);
    if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    return entry.call(request.params.arguments ?? {}, extra, session);
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: RESOURCE_TEMPLATES,
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => readResource(request.params.uri));
  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    session.subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    session.subscriptions.delete(request.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: [...PROMPTS, INPUT_REQUIRED_PROMPT],
  }));
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) =>
    request.params.name === INPUT_REQUIRED_PROMPT.name
      ? getInputRequiredPrompt(extra)
      : getPrompt(request.params.name, request.params.arguments ?? {}),
  );

  server.setRequestHandler(CompleteRequestSchema, async (request) => {
    const { ref, argument } = request.params;
    const key =
      ref.type === 'ref/prompt'
        ? `prompt:${ref.name}:${argument.name}`
        : `resource:${ref.uri}:${argument.name}`;
    const values = completionValues(key, argument.value);
    return { completion: { values, total: values.length, hasMore: false } };
  });

  return server;
}

async function log(extra: Extra, session: Session, level: LoggingLevel, data: string): Promise<void> {
  if (session.logLevel && LOG_SEVERITY[level] < LOG_SEVERITY[session.logLevel]) return;
  await extra.sendNotification({
    method: 'notifications/message',
    params: { level, logger: 'fixture', data },
  });
}

async function progress(extra: Extra, value: number, total: number): Promise<void> {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) return;
  await extra.sendNotification({
    method: 'notifications/progress',
    params: { progressToken, progress: value, total },
  });
}

function requireString(args: Args, name: string): string {
  const value = args[name];
  if (typeof value !== 'string')
    throw new McpError(ErrorCode.InvalidParams, `Argument '${name}' must be a string`);
  return value;
}

function noCapability(what: string): CallToolResult {
  return { isError: true, content: [text(`The client does not support ${what}`)] };
}

// ---------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------

export const JSON_SCHEMA_2020_12_TOOL = 'json_schema_2020_12_tool';

/**
 * The tools whose answer never varies: the same on this fixture and on the 2026-07-28 one
 * (fixture-modern.ts).
 */
export const STATIC_TOOLS: ReadonlyArray<{ tool: Tool; result: CallToolResult }> = [
  {
    tool: {
      name: 'test_simple_text',
      description: 'Returns a simple text response',
      inputSchema: noArguments,
    },
    result: { content: [text('This is a simple text response for testing.')] },
  },
  {
    tool: {
      name: 'test_image_content',
      description: 'Returns an image (a 1x1 red PNG)',
      inputSchema: noArguments,
    },
    result: { content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }] },
  },
  {
    tool: {
      name: 'test_audio_content',
      description: 'Returns audio (a short silent WAV)',
      inputSchema: noArguments,
    },
    result: { content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }] },
  },
  {
    tool: {
      name: 'test_embedded_resource',
      description: 'Returns an embedded text resource',
      inputSchema: noArguments,
    },
    result: {
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    },
  },
  {
    tool: {
      name: 'test_multiple_content_types',
      description: 'Returns text, an image and an embedded resource',
      inputSchema: noArguments,
    },
    result: {
      content: [
        text('Multiple content types test:'),
        { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    },
  },
  {
    tool: {
      name: 'test_error_handling',
      description: 'Always fails with a tool error (isError: true)',
      inputSchema: noArguments,
    },
    result: {
      isError: true,
      content: [text('This tool intentionally returns an error for testing')],
    },
  },
];

const TOOLS: FixtureTool[] = [
  ...STATIC_TOOLS.map(({ tool, result }) => ({ tool, call: async () => result })),
  {
    tool: {
      name: 'test_tool_with_logging',
      description: 'Sends three info log notifications while it runs',
      inputSchema: noArguments,
    },
    call: async (_args, extra, session) => {
      await log(extra, session, 'info', 'Tool execution started');
      await sleep(50);
      await log(extra, session, 'info', 'Tool processing data');
      await sleep(50);
      await log(extra, session, 'info', 'Tool execution completed');
      return { content: [text('Tool with logging executed successfully')] };
    },
  },
  {
    tool: {
      name: 'test_tool_with_progress',
      description: 'Reports progress 0, 50 and 100 of 100 when given a progress token',
      inputSchema: noArguments,
    },
    call: async (_args, extra) => {
      await progress(extra, 0, 100);
      await sleep(50);
      await progress(extra, 50, 100);
      await sleep(50);
      await progress(extra, 100, 100);
      return { content: [text('Tool with progress executed successfully')] };
    },
  },
  {
    tool: {
      name: 'test_sampling',
      description: 'Asks the client for an LLM completion (sampling/createMessage) of the prompt',
      inputSchema: {
        type: 'object',
        properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' } },
        required: ['prompt'],
      },
    },
    call: async (args, extra, session) => {
      const prompt = requireString(args, 'prompt');
      if (!session.server.getClientCapabilities()?.sampling) return noCapability('sampling');
      const result = await extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: text(prompt) }], maxTokens: 100 },
        },
        CreateMessageResultSchema,
      );
      const reply = result.content.type === 'text' ? result.content.text : JSON.stringify(result.content);
      return { content: [text(`LLM response: ${reply}`)] };
    },
  },
  {
    tool: {
      name: 'test_elicitation',
      description: 'Asks the user (elicitation/create) for a username and an email address',
      inputSchema: {
        type: 'object',
        properties: { message: { type: 'string', description: 'The message to show the user' } },
        required: ['message'],
      },
    },
    call: async (args, extra, session) =>
      elicit(extra, session, requireString(args, 'message'), {
        type: 'object',
        properties: {
          username: { type: 'string', description: "User's response" },
          email: { type: 'string', description: "User's email address" },
        },
        required: ['username', 'email'],
      }),
  },
  {
    tool: {
      name: 'test_elicitation_sep1034_defaults',
      description: 'Elicitation whose schema has a default for every primitive type (SEP-1034)',
      inputSchema: noArguments,
    },
    call: async (_args, extra, session) =>
      elicit(extra, session, 'Please review and update the form fields with defaults', {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'User name', default: 'John Doe' },
          age: { type: 'integer', description: 'User age', default: 30 },
          score: { type: 'number', description: 'User score', default: 95.5 },
          status: {
            type: 'string',
            description: 'User status',
            enum: ['active', 'inactive', 'pending'],
            default: 'active',
          },
          verified: { type: 'boolean', description: 'Verification status', default: true },
        },
        required: [],
      }),
  },
  {
    tool: {
      name: 'test_elicitation_sep1330_enums',
      description: 'Elicitation whose schema has all five enum variants (SEP-1330)',
      inputSchema: noArguments,
    },
    call: async (_args, extra, session) =>
      elicit(extra, session, 'Please select options from the enum fields', {
        type: 'object',
        properties: {
          untitledSingle: {
            type: 'string',
            description: 'Untitled single-select',
            enum: ['option1', 'option2', 'option3'],
          },
          titledSingle: {
            type: 'string',
            description: 'Titled single-select',
            oneOf: [
              { const: 'value1', title: 'First Option' },
              { const: 'value2', title: 'Second Option' },
              { const: 'value3', title: 'Third Option' },
            ],
          },
          legacyEnum: {
            type: 'string',
            description: 'Legacy titled enum (enumNames, deprecated)',
            enum: ['opt1', 'opt2', 'opt3'],
            enumNames: ['Option One', 'Option Two', 'Option Three'],
          },
          untitledMulti: {
            type: 'array',
            description: 'Untitled multi-select',
            items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          },
          titledMulti: {
            type: 'array',
            description: 'Titled multi-select',
            items: {
              anyOf: [
                { const: 'value1', title: 'First Choice' },
                { const: 'value2', title: 'Second Choice' },
                { const: 'value3', title: 'Third Choice' },
              ],
            },
          },
        },
        required: [],
      }),
  },
  {
    tool: {
      name: JSON_SCHEMA_2020_12_TOOL,
      description: 'Tool with JSON Schema 2020-12 features',
      inputSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: {
          address: {
            type: 'object',
            properties: { street: { type: 'string' }, city: { type: 'string' } },
          },
        },
        properties: {
          name: { type: 'string' },
          address: { $ref: '#/$defs/address' },
        },
        additionalProperties: false,
      },
    },
    call: async (args) => ({ content: [text(`Received: ${JSON.stringify(args)}`)] }),
  },
  {
    tool: {
      name: 'test_reconnection',
      description:
        'Closes its SSE stream mid-call (when the transport can resume) and answers after the client reconnects',
      inputSchema: noArguments,
    },
    call: async (_args, extra) => {
      if (extra.closeSSEStream) {
        await sleep(20);
        extra.closeSSEStream();
      }
      // The result is produced while the client is disconnected; the event store replays it.
      await sleep(100);
      return { content: [text('Reconnection test completed successfully')] };
    },
  },
];

async function elicit(
  extra: Extra,
  session: Session,
  message: string,
  requestedSchema: ElicitRequestFormParams['requestedSchema'],
): Promise<CallToolResult> {
  if (!session.server.getClientCapabilities()?.elicitation) return noCapability('elicitation');
  const result = await extra.sendRequest(
    { method: 'elicitation/create', params: { message, requestedSchema } },
    ElicitResultSchema,
  );
  return {
    content: [
      text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

export const RESOURCES: Resource[] = [
  {
    uri: 'test://static-text',
    name: 'static-text',
    description: 'A static text resource',
    mimeType: 'text/plain',
  },
  {
    uri: 'test://static-binary',
    name: 'static-binary',
    description: 'A static binary resource (a 1x1 red PNG)',
    mimeType: 'image/png',
  },
  {
    uri: 'test://watched-resource',
    name: 'watched-resource',
    description: 'A resource that can be subscribed to',
    mimeType: 'text/plain',
  },
];

export const RESOURCE_TEMPLATES: ResourceTemplate[] = [
  {
    uriTemplate: 'test://template/{id}/data',
    name: 'template-data',
    description: 'Data for an id, substituted from the URI',
    mimeType: 'application/json',
  },
];

function readResource(uri: string): ReadResourceResult {
  const found = resourceContents(uri);
  if (!found) throw new McpError(-32002, `Resource not found: ${uri}`, { uri });
  return found;
}

/** A listed resource's or a template's contents; undefined for any other URI. */
export function resourceContents(uri: string): ReadResourceResult | undefined {
  switch (uri) {
    case 'test://static-text':
      return {
        contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
      };
    case 'test://static-binary':
      return { contents: [{ uri, mimeType: 'image/png', blob: RED_PIXEL_PNG }] };
    case 'test://watched-resource':
      return { contents: [{ uri, mimeType: 'text/plain', text: 'Watched resource content.' }] };
  }
  const match = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
  if (match?.[1] !== undefined) {
    const id = decodeURIComponent(match[1]);
    return {
      contents: [
        {
          uri,
          mimeType: 'application/json',
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Prompts and completions
// ---------------------------------------------------------------------------------------------

export const PROMPTS: Prompt[] = [
  { name: 'test_simple_prompt', description: 'A simple prompt without arguments' },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with two required arguments',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt that embeds a resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  { name: 'test_prompt_with_image', description: 'A prompt with image content' },
];

export function getPrompt(name: string, args: Record<string, string>): GetPromptResult {
  const need = (key: string): string => {
    const value = args[key];
    if (value === undefined)
      throw new McpError(ErrorCode.InvalidParams, `Missing required argument '${key}'`);
    return value;
  };
  switch (name) {
    case 'test_simple_prompt':
      return { messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }] };
    case 'test_prompt_with_arguments':
      return {
        messages: [
          {
            role: 'user',
            content: text(`Prompt with arguments: arg1='${need('arg1')}', arg2='${need('arg2')}'`),
          },
        ],
      };
    case 'test_prompt_with_embedded_resource':
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'resource',
              resource: {
                uri: need('resourceUri'),
                mimeType: 'text/plain',
                text: 'Embedded resource content for testing.',
              },
            },
          },
          { role: 'user', content: text('Please process the embedded resource above.') },
        ],
      };
    case 'test_prompt_with_image':
      return {
        messages: [
          { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
          { role: 'user', content: text('Please analyze the image above.') },
        ],
      };
  }
  throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
}

export const COMPLETIONS: Record<string, string[]> = {
  'prompt:test_prompt_with_arguments:arg1': ['paris', 'park', 'party', 'test', 'testing', 'tested'],
  'prompt:test_prompt_with_arguments:arg2': ['alpha', 'beta', 'gamma'],
  'resource:test://template/{id}/data:id': ['1', '2', '3', '123'],
};

/** The completions of `key` (`prompt:<name>:<arg>` or `resource:<template>:<variable>`) starting with `prefix`. */
export function completionValues(key: string, prefix: string): string[] {
  return (COMPLETIONS[key] ?? []).filter((value) => value.startsWith(prefix));
}

// ---------------------------------------------------------------------------------------------
// Transports
// ---------------------------------------------------------------------------------------------

/** Serves the fixture over stdio until stdin closes. */
export async function serveStdio(): Promise<void> {
  const server = createFixtureServer();
  const transport = new StdioServerTransport();
  const stop = () => {
    void server.close().finally(() => process.exit(0));
  };
  process.stdin.once('end', stop);
  process.stdin.once('close', stop);
  await server.connect(transport);
}

/**
 * Keeps a session's SSE events so a client that reconnects with Last-Event-ID gets what it missed.
 * In memory, bounded, per session.
 */
export class MemoryEventStore implements EventStore {
  readonly #events: Array<{ id: EventId; streamId: StreamId; message: JSONRPCMessage }> = [];
  #sequence = 0;

  constructor(private readonly limit = 1_000) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = `${++this.#sequence}`;
    this.#events.push({ id, streamId, message });
    if (this.#events.length > this.limit) this.#events.shift();
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return this.#events.find((event) => event.id === eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const index = this.#events.findIndex((event) => event.id === lastEventId);
    const last = this.#events[index];
    if (!last) return '';
    for (const event of this.#events.slice(index + 1)) {
      if (event.streamId === last.streamId) await send(event.id, event.message);
    }
    return last.streamId;
  }
}

export interface HttpFixture {
  /** The Streamable HTTP endpoint, `http://<host>:<port>/mcp`. */
  url: string;
  /** The same server over the older HTTP+SSE transport: GET `/sse`, POST `/messages?sessionId=`. */
  sseUrl: string;
  /** Open MCP sessions. */
  sessionCount(): number;
  close(): Promise<void>;
}

/** What answers one session: the fixture's `Server`, or anything that takes a transport as it does. */
export interface Servable {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

export interface HttpFixtureOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The `retry` hint of SSE priming events, ms. */
  retryIntervalMs?: number;
  /** What answers each session (default: a fixture server). */
  serve?: () => Servable;
}

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLocal(hostOrOrigin: string, withScheme: boolean): boolean {
  try {
    return LOCAL_HOSTNAMES.has(new URL(withScheme ? hostOrOrigin : `http://${hostOrOrigin}`).hostname);
  } catch {
    return false;
  }
}

function sendJsonError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function readJson(req: IncomingMessage, limit = 4 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** Serves the fixture over Streamable HTTP at `/mcp`, and over HTTP+SSE at `/sse`. */
export async function startHttpFixture(options: HttpFixtureOptions = {}): Promise<HttpFixture> {
  const host = options.host ?? '127.0.0.1';
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: Servable }>();
  const sseSessions = new Map<string, { transport: SSEServerTransport; server: Servable }>();
  const serve = options.serve ?? createFixtureServer;

  /** The older transport: a GET opens the stream (and a session), each message is a POST. */
  const handleSse = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (url.pathname === '/sse' && req.method === 'GET') {
      const server = serve();
      const transport = new SSEServerTransport('/messages', res);
      sseSessions.set(transport.sessionId, { transport, server });
      transport.onclose = () => sseSessions.delete(transport.sessionId);
      await server.connect(transport);
      return;
    }
    if (url.pathname === '/messages' && req.method === 'POST') {
      const session = sseSessions.get(url.searchParams.get('sessionId') ?? '');
      if (!session) return sendJsonError(res, 404, -32001, 'Session not found');
      return session.transport.handlePostMessage(req, res);
    }
    return sendJsonError(res, 404, -32000, 'Not found');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path !== '/mcp' && path !== '/sse' && path !== '/messages')
      return sendJsonError(res, 404, -32000, 'Not found');

    // DNS rebinding protection: a browser tricked into calling us carries a foreign Host/Origin.
    const origin = req.headers.origin;
    if (!isLocal(req.headers.host ?? '', false) || (origin !== undefined && !isLocal(origin, true))) {
      return sendJsonError(res, 403, -32000, 'Forbidden: Host or Origin is not a local address');
    }
    if (path !== '/mcp') return handleSse(req, res, url);

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session) return sendJsonError(res, 404, -32001, 'Session not found');
      return session.transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return sendJsonError(res, 400, -32000, 'Bad Request: no session id');

    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      return sendJsonError(res, 400, -32700, 'Parse error');
    }
    const initializes = Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body);
    if (!initializes) return sendJsonError(res, 400, -32000, 'Bad Request: no session id');

    const server = serve();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new MemoryEventStore(),
      retryInterval: options.retryIntervalMs ?? 200,
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http: NodeHttpServer = createHttpServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('fixture: request failed', error);
      if (!res.headersSent) sendJsonError(res, 500, ErrorCode.InternalError, 'Internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}/mcp`,
    sseUrl: `http://${urlHost}:${port}/sse`,
    sessionCount: () => sessions.size,
    close: async () => {
      const open = [...sessions.values(), ...sseSessions.values()];
      sessions.clear();
      sseSessions.clear();
      await Promise.allSettled(open.map(({ server }) => server.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function wav(samples: number): string {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24); // sample rate
  header.writeUInt32LE(8000, 28); // byte rate
  header.writeUInt16LE(1, 32); // block align
  header.writeUInt16LE(8, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples, 40);
  return Buffer.concat([header, Buffer.alloc(samples, 0x80)]).toString('base64');
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const flag = (name: string) => argv.includes(name);
  const value = (name: string) => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  if (flag('--stdio')) return serveStdio();
  if (flag('--http')) {
    const port = Number(value('--port') ?? 0);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new Error(`bad --port ${value('--port')}`);
    const fixture = await startHttpFixture({ port, host: value('--host') ?? '127.0.0.1' });
    process.stdout.write(`${fixture.url}\n`);
    const stop = () => {
      void fixture.close().finally(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return;
  }
  process.stderr.write('usage: fixture-server.ts --stdio | --http [--port N] [--host 127.0.0.1]\n');
  process.exit(2);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
