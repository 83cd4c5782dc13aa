import { z } from 'zod';
import { MAX_TOOLSET_TOOLS, toolRefSchema } from './events.ts';

/** What callers send to define a toolset (its name is the resource's: PUT /api/v1/toolsets/<name>). */
export const DefineToolsetInput = z
  .object({
    description: z.string().max(2_000).optional(),
    tools: z
      .array(toolRefSchema)
      .min(1)
      .max(MAX_TOOLSET_TOOLS)
      .refine(
        (tools) => new Set(tools.map((t) => `${t.server}\u0000${t.tool}`)).size === tools.length,
        'a tool is listed twice',
      ),
  })
  .strict();
export type DefineToolsetInput = z.input<typeof DefineToolsetInput>;

export type ToolsetCommand =
  | {
      type: 'DefineToolset';
      data: {
        toolsetId: string;
        name: string;
        description?: string | undefined;
        tools: Array<{ server: string; tool: string }>;
        tenant: string;
        at: Date;
      };
    }
  | { type: 'RemoveToolset'; data: { toolsetId: string; name: string; tenant: string; at: Date } };
