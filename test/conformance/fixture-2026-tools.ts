/**
 * The conformance fixture's tools and prompt for the 2026-07-28 scenarios — `input-required-result-*`
 * and the diagnostics `server-stateless` calls — written the way a server of the stateful revisions
 * (2025-11-25) writes them. The input-required ones ask it asks
 * its client in the middle of the call (elicitation/create, sampling/createMessage, roots/list) and
 * waits for the answers. Directly, a 2025 client answers them; through the gateway, a 2026-07-28
 * client gets them as `input_required` rounds (gateway/mcp/modern/input-rounds.ts). Each does what
 * the scenario's "Server Implementation Requirements" ask of the reference server: the same
 * questions, in the same order, and a result that shows the answers arrived.
 */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolResult,
  type CreateMessageResult,
  CreateMessageResultSchema,
  type ElicitRequestFormParams,
  type ElicitResult,
  ElicitResultSchema,
  type GetPromptResult,
  type ListRootsResult,
  ListRootsResultSchema,
  McpError,
  type Prompt,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const text = (value: string) => ({ type: 'text' as const, text: value });
const noArguments = { type: 'object' as const, properties: {} };

function ask(extra: Extra, message: string, property: string, type: 'string' | 'boolean') {
  const requestedSchema: ElicitRequestFormParams['requestedSchema'] = {
    type: 'object',
    properties: { [property]: type === 'string' ? { type: 'string' } : { type: 'boolean' } },
    required: [property],
  };
  return extra.sendRequest(
    { method: 'elicitation/create', params: { message, requestedSchema } },
    ElicitResultSchema,
  );
}

function sample(extra: Extra, prompt: string, maxTokens: number): Promise<CreateMessageResult> {
  return extra.sendRequest(
    {
      method: 'sampling/createMessage',
      params: { messages: [{ role: 'user', content: text(prompt) }], maxTokens },
    },
    CreateMessageResultSchema,
  );
}

const roots = (extra: Extra): Promise<ListRootsResult> =>
  extra.sendRequest({ method: 'roots/list' }, ListRootsResultSchema);

const field = (r: ElicitResult, name: string) => JSON.stringify(r.content?.[name] ?? null);
const said = (r: CreateMessageResult) => (r.content.type === 'text' ? r.content.text : '(not text)');
const uris = (r: ListRootsResult) => r.roots.map((root) => root.uri).join(', ');

interface InputTool {
  tool: Tool;
  call(extra: Extra): Promise<CallToolResult>;
}

const tool = (name: string, description: string, call: InputTool['call']): InputTool => ({
  tool: { name, description, inputSchema: noArguments },
  call,
});

const done = (value: string): CallToolResult => ({ content: [text(value)] });

export const INPUT_REQUIRED_TOOLS: InputTool[] = [
  tool('test_input_required_result_elicitation', 'Asks the user for their name', async (extra) => {
    const r = await ask(extra, 'What is your name?', 'name', 'string');
    return done(`Hello, ${String(r.content?.name ?? 'nobody')}!`);
  }),
  tool('test_input_required_result_sampling', 'Asks the client for a completion', async (extra) =>
    done(`The model said: ${said(await sample(extra, 'What is the capital of France?', 100))}`),
  ),
  tool('test_input_required_result_list_roots', 'Asks the client for its roots', async (extra) =>
    done(`Roots: ${uris(await roots(extra))}`),
  ),
  tool(
    'test_input_required_result_request_state',
    'Asks for a confirmation; what it learnt stays with the open call',
    async (extra) => {
      const r = await ask(extra, 'Please confirm', 'ok', 'boolean');
      return done(`state-ok: confirmed=${field(r, 'ok')}`);
    },
  ),
  tool(
    'test_input_required_result_multiple_inputs',
    'Asks for a name, a completion and the roots at once',
    async (extra) => {
      const [name, greeting, listed] = await Promise.all([
        ask(extra, 'What is your name?', 'name', 'string'),
        sample(extra, 'Generate a greeting', 50),
        roots(extra),
      ]);
      return done(`name=${field(name, 'name')} greeting=${said(greeting)} roots=${uris(listed)}`);
    },
  ),
  tool('test_input_required_result_multi_round', 'Asks two questions, one after the other', async (extra) => {
    const name = await ask(extra, 'Step 1: What is your name?', 'name', 'string');
    const color = await ask(extra, 'Step 2: What is your favorite color?', 'color', 'string');
    return done(`name=${field(name, 'name')} color=${field(color, 'color')}`);
  }),
  tool(
    'test_input_required_result_tampered_state',
    'Asks for a confirmation (the scenario tampers with the state of the retry)',
    async (extra) => {
      const r = await ask(extra, 'Please confirm', 'ok', 'boolean');
      return done(`confirmed=${field(r, 'ok')}`);
    },
  ),
  tool(
    'test_input_required_result_capabilities',
    'Asks for a name and a completion, each only if the client can be asked',
    async (extra) => {
      // A client without one of them refuses that question; the tool carries on with the other.
      const [name, reply] = await Promise.allSettled([
        ask(extra, 'What is your name?', 'name', 'string'),
        sample(extra, 'Say hello', 50),
      ]);
      return done(
        `elicitation=${name.status === 'fulfilled' ? field(name.value, 'name') : 'refused'} sampling=${
          reply.status === 'fulfilled' ? said(reply.value) : 'refused'
        }`,
      );
    },
  ),
];

/**
 * The diagnostics of `server-stateless`, as the reference server has them: a tool that needs
 * sampling (answered -32021, the revision's missing-capability error, when the client cannot be
 * asked), one that returns a plain result, one that logs, and two that announce list changes.
 */
export const STATELESS_DIAGNOSTICS: InputTool[] = [
  tool('test_missing_capability', 'Needs the sampling capability (-32021 without it)', async (extra) => {
    try {
      return done(`The model said: ${said(await sample(extra, 'Reply with the single word: pong', 16))}`);
    } catch {
      throw new McpError(-32021, 'Missing required client capability: sampling', {
        requiredCapabilities: { sampling: {} },
      });
    }
  }),
  tool('test_streaming_elicitation', 'A plain result, no requests on the way', async () =>
    done('stream observed: result frames only, no top-level requests'),
  ),
  tool('test_logging_tool', 'Logs at info, then answers', async (extra) => {
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level: 'info', logger: 'fixture', data: 'test_logging_tool ran' },
    });
    return done('logged');
  }),
  tool('test_trigger_tool_change', 'Announces that its tool list changed', async (extra) => {
    await extra.sendNotification({ method: 'notifications/tools/list_changed' });
    return done('tools_list_changed published');
  }),
  tool('test_trigger_prompt_change', 'Announces that its prompt list changed', async (extra) => {
    await extra.sendNotification({ method: 'notifications/prompts/list_changed' });
    return done('prompts_list_changed published');
  }),
];

export const INPUT_REQUIRED_PROMPT: Prompt = {
  name: 'test_input_required_result_prompt',
  description: 'A prompt that asks the user for its context first',
};

export async function getInputRequiredPrompt(extra: Extra): Promise<GetPromptResult> {
  const r = await ask(extra, 'What context should the prompt use?', 'context', 'string');
  return {
    messages: [{ role: 'user', content: text(`Use this context: ${String(r.content?.context ?? '')}`) }],
  };
}
