import { useEffect, useState } from 'preact/hooks';
import { useSession } from './context.ts';
import type { JsonSchema } from './schema-form.tsx';

interface OpenApi {
  paths: Record<
    string,
    Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>
  >;
}

let doc: Promise<OpenApi> | undefined;

/**
 * The JSON schema of a route's request body, from the gateway's own OpenAPI document: a form drawn
 * from it asks for exactly what the API validates (the same zod schema).
 */
export function useRequestSchema(method: string, path: string): { schema?: JsonSchema; error?: Error } {
  const { api } = useSession();
  const [state, setState] = useState<{ schema?: JsonSchema; error?: Error }>({});
  useEffect(() => {
    doc ??= api.text('/openapi.json').then((t) => JSON.parse(t) as OpenApi);
    doc.then(
      (d) => {
        const schema =
          d.paths[path]?.[method.toLowerCase()]?.requestBody?.content?.['application/json']?.schema;
        setState(
          schema ? { schema } : { error: new Error(`the API describes no body for ${method} ${path}`) },
        );
      },
      (error: Error) => {
        doc = undefined;
        setState({ error });
      },
    );
  }, [api, method, path]);
  return state;
}
