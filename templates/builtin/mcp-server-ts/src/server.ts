import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SERVER_DESCRIPTION, SERVER_NAME, SERVER_VERSION } from './about.js';
import { registerPrompts } from './prompts/index.js';
import { registerResources } from './resources/index.js';
import { registerTools } from './tools/index.js';

export { SERVER_DESCRIPTION, SERVER_NAME, SERVER_VERSION } from './about.js';

/** Sent to clients at initialization; many pass it on to the model as a system hint. */
const INSTRUCTIONS = `${SERVER_DESCRIPTION}

Tools: "add" sums two numbers, "word_count" counts the words, characters and lines of a text,
"echo" returns its message, "countdown" counts down and reports progress on the way.
Resources: ${SERVER_NAME}://server-info describes this server; ${SERVER_NAME}://guides/<topic>
holds short guides (resources/list names them). Prompt: "summarize".`;

/**
 * Builds a fully registered server, not yet connected to any transport.
 *
 * Over stdio there is one per process; over Streamable HTTP one per session, since an McpServer
 * serves exactly one connection. Keep per-client state inside this function (or in maps keyed by
 * `extra.sessionId`); state at module level is shared by every session.
 */
export function createMcpServer(): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    {
      instructions: INSTRUCTIONS,
      // Capabilities for tools, resources, prompts and completions are declared by the
      // register* calls below.
    },
  );
  registerTools(server);
  registerResources(server);
  registerPrompts(server);
  return server;
}
