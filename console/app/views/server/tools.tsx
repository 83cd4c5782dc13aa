import { useState } from 'preact/hooks';
import { holds, useSession } from '../../context.ts';
import { useAction, useResource } from '../../hooks.ts';
import { href } from '../../router.ts';
import { type JsonSchema, ObjectFields } from '../../schema-form.tsx';
import { Card, ErrorBox, Json, Loaded } from '../../ui.tsx';

interface Tool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: JsonSchema;
  annotations?: Record<string, unknown>;
}

interface CallAnswer {
  callId: string;
  content?: unknown[];
  structuredContent?: unknown;
  isError?: boolean;
}

/** "Try this tool": a form from the tool's input schema, called through the gateway (and audited). */
function TryTool(props: { server: string; tool: Tool }) {
  const { api } = useSession();
  const [args, setArgs] = useState<Record<string, unknown>>({});
  const call = useAction((body: Record<string, unknown>) =>
    api.send<CallAnswer>(
      'POST',
      `/servers/${encodeURIComponent(props.server)}/tools/${encodeURIComponent(props.tool.name)}`,
      body,
    ),
  );
  return (
    <form
      aria-label={`Call ${props.tool.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void call.start(args);
      }}
    >
      <ObjectFields schema={props.tool.inputSchema ?? { type: 'object' }} value={args} onChange={setArgs} />
      <div class="actions">
        <button type="submit" disabled={call.pending}>
          {call.pending ? 'Calling…' : `Call ${props.tool.name}`}
        </button>
      </div>
      <ErrorBox error={call.error} />
      {call.result && (
        <div class="call-result" role="status">
          <p>
            {call.result.isError ? 'The tool reported an error.' : 'Result'} ·{' '}
            <a href={href('calls', call.result.callId)}>this call in the log</a>
          </p>
          <Json value={call.result.structuredContent ?? call.result.content} />
        </div>
      )}
    </form>
  );
}

export function ToolsTab(props: { server: string }) {
  const { me } = useSession();
  const tools = useResource<{ tools: Tool[]; discoveredAt: string | null; lastError: string | null }>(
    `/servers/${encodeURIComponent(props.server)}/tools`,
    5000, // discovery may still be running, and a refresh may change the list
  );
  const [open, setOpen] = useState<string>();
  const mayCall = holds(me, 'mcp:execute');
  return (
    <Loaded resource={tools}>
      {(t) => (
        <div class="grid">
          {t.lastError && <p class="error">Discovery: {t.lastError}</p>}
          {t.tools.length === 0 && <p class="muted">No tool discovered (yet).</p>}
          {t.tools.map((tool) => (
            <Card key={tool.name} title={tool.title ? `${tool.title} (${tool.name})` : tool.name}>
              <p>{tool.description ?? <span class="muted">No description.</span>}</p>
              {mayCall &&
                (open === tool.name ? (
                  <TryTool server={props.server} tool={tool} />
                ) : (
                  <button type="button" class="secondary" onClick={() => setOpen(tool.name)}>
                    Try {tool.name}
                  </button>
                ))}
              <details>
                <summary>Input schema</summary>
                <Json value={tool.inputSchema ?? {}} />
              </details>
            </Card>
          ))}
        </div>
      )}
    </Loaded>
  );
}
