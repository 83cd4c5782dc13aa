import { useState } from 'preact/hooks';
import { useSession } from './context.ts';
import { useAction } from './hooks.ts';
import { useRequestSchema } from './openapi.ts';
import { ObjectFields } from './schema-form.tsx';
import { Card, ErrorBox } from './ui.tsx';

/**
 * A form drawn from the API's own schema of a request body (its OpenAPI document, the same zod
 * schema the API validates), sent as exactly that request: what the console writes, a script could.
 */
export function RequestForm<T>(props: {
  title: string;
  method: 'POST' | 'PATCH';
  /** The route as the OpenAPI document names it: `/api/v1/servers/{id}`. */
  schemaPath: string;
  /** Where to send it, under /api/v1. */
  path: string;
  initial: Record<string, unknown>;
  submit: string;
  pending: string;
  onDone: (result: T, body: Record<string, unknown>) => void;
  onCancel: () => void;
}) {
  const { api } = useSession();
  const { schema, error } = useRequestSchema(props.method, props.schemaPath);
  const [value, setValue] = useState<Record<string, unknown>>(props.initial);
  const send = useAction((body: Record<string, unknown>) => api.send<T>(props.method, props.path, body));
  if (error) return <ErrorBox error={error} />;
  if (!schema) return <p class="muted">Loading the form…</p>;
  return (
    <Card title={props.title} class="wide">
      <form
        aria-label={props.title}
        onSubmit={async (e) => {
          e.preventDefault();
          const result = await send.start(value);
          if (result !== undefined) props.onDone(result, value);
        }}
      >
        <ObjectFields schema={schema} value={value} onChange={setValue} />
        <div class="actions">
          <button type="submit" disabled={send.pending}>
            {send.pending ? props.pending : props.submit}
          </button>
          <button type="button" class="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
        <ErrorBox error={send.error} />
      </form>
    </Card>
  );
}
