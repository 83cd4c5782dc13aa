import { z } from 'zod';
import { ownerIdSchema, tenantIdSchema } from '../../kernel/ownership.ts';
import { isSecretName, redactArguments } from '../../kernel/redaction.ts';
import { REDACTED, secretRefSchema } from '../../kernel/secrets.ts';
import { parseWith } from '../../kernel/validation.ts';
import { invalidInput } from './errors.ts';
import {
  ENV_KEY_RE,
  HEADER_NAME_RE,
  QUERY_NAME_RE,
  serverNameSchema,
  serverSettingsSchema,
  storedTransportSchema,
  tagSchema,
} from './events.ts';
import { MAX_INSTANCES, settingsIssues } from './settings.ts';

// ---------------------------------------------------------------------------------------------
// Inputs: what a user sends (HTTP bodies, MCP tool arguments, CLI flags). Secrets in clear text or
// as references; the application layer seals them before a command reaches the decider.
// ---------------------------------------------------------------------------------------------

/**
 * A secret as a user gives it: clear text (sealed before it is stored), or `{ "secretRef": "env:NAME" }`
 * (stored as a reference). On update, the literal `"[redacted]"` keeps the current value, so a body
 * read back from the API can be sent again unchanged.
 */
export const SecretInput = z.union([
  z.string().max(16_384, 'must be at most 16384 characters'),
  secretRefSchema,
]);
export type SecretInput = z.infer<typeof SecretInput>;
export { REDACTED as KEEP_CURRENT_SECRET };

const envInput = z.record(
  z
    .string()
    .regex(ENV_KEY_RE, 'environment variable names are letters, digits and "_", not starting with a digit'),
  SecretInput,
);
const headersInput = z.record(
  z.string().regex(HEADER_NAME_RE, 'must be a valid HTTP header name'),
  SecretInput,
);
const queryInput = z
  .record(
    z.string().regex(QUERY_NAME_RE, 'query parameter names are 1 to 128 letters, digits and "-_.~[]"'),
    SecretInput,
  )
  .refine((q) => Object.keys(q).length <= 32, 'at most 32 query parameters');

/**
 * The first query parameter of `url` that redaction would hide (a credential by its name, like
 * `api_key`, or by its value, like a JWT or `sk-…`), or undefined. Such a value would sit in clear
 * text in the event log and every read model: it belongs in `transport.query`, which is sealed.
 */
export function credentialInQuery(url: string): string | undefined {
  const parsed = URL.parse(url);
  if (!parsed) return undefined;
  for (const [name, value] of parsed.searchParams) {
    if (isSecretName(name) || redactArguments(value) !== value) return name;
  }
  return undefined;
}

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2048, 'must be at most 2048 characters')
  // A password in the URL would sit in clear text in the event log: it belongs in a header, which is sealed.
  .refine((u) => {
    const parsed = URL.parse(u);
    return !parsed || (parsed.username === '' && parsed.password === '');
  }, 'must not carry credentials (user:password@); send them in headers, which are encrypted')
  .superRefine((u, ctx) => {
    const name = credentialInQuery(u);
    if (name !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `query parameter "${name.slice(0, 64)}" looks like a credential: give it in transport.query, which is encrypted, not in the URL`,
      });
    }
  });

export const TransportInput = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('stdio'),
        command: z.string().min(1, 'must not be empty').max(4096),
        args: z.array(z.string().max(16_384)).max(256).default([]),
        env: envInput.default({}),
        cwd: z.string().min(1).max(4096).optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('streamable-http'),
        url: httpUrl,
        headers: headersInput.default({}),
        query: queryInput.optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('sse'),
        url: httpUrl,
        headers: headersInput.default({}),
        query: queryInput.optional(),
      })
      .strict(),
  ],
  { error: 'transport.type must be one of "stdio", "streamable-http", "sse"' },
);
export type TransportInput = z.infer<typeof TransportInput>;

/**
 * Settings as a user gives them: extra instance URLs obey the same rules as transport.url. How they
 * fit the transport is checked where both are known (see settingsIssues).
 */
export const ServerSettingsInput = serverSettingsSchema.extend({
  extraUrls: z
    .array(httpUrl)
    .max(MAX_INSTANCES - 1, `at most ${MAX_INSTANCES - 1} extra URLs (${MAX_INSTANCES} instances in all)`)
    .optional(),
});
export type ServerSettingsInput = z.infer<typeof ServerSettingsInput>;

/** Adds the issues of settings that do not fit their transport, at `settings.<field>`. */
function checkSettings(
  transport: TransportInput,
  settings: ServerSettingsInput,
  ctx: { addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string }): void },
): void {
  const url = transport.type === 'stdio' ? undefined : transport.url;
  for (const issue of settingsIssues({ type: transport.type, url }, settings)) {
    ctx.addIssue({ code: 'custom', path: ['settings', issue.path], message: issue.message });
  }
}

const tagsInput = z
  .array(tagSchema)
  .max(32, 'at most 32 tags')
  .transform((tags) => [...new Set(tags)]);

const description = z.string().max(2000, 'must be at most 2000 characters');

/**
 * Names a client may give a server: not the platform's own, whose tools are `switchyard__…` on the
 * aggregate endpoint — a server of that name would shadow them.
 */
export const RESERVED_SERVER_NAMES: readonly string[] = ['switchyard'];
const newServerName = serverNameSchema.refine(
  (n) => !RESERVED_SERVER_NAMES.includes(n),
  'is reserved for the platform (its own tools are listed under it)',
);

/** Body of "register a server". Unknown keys are rejected, so a typo never silently does nothing. */
export const RegisterServerInput = z
  .object({
    name: newServerName,
    description: description.optional(),
    transport: TransportInput,
    tags: tagsInput.default([]),
    enabled: z.boolean().default(true),
    settings: ServerSettingsInput.default({}),
  })
  .strict()
  .superRefine((v, ctx) => checkSettings(v.transport, v.settings, ctx));
export type RegisterServerInput = z.infer<typeof RegisterServerInput>;

/**
 * Body of "update a server": the fields to change. `transport`, `tags` and `settings` replace the
 * current value as a whole; `description: null` clears the description.
 */
export const UpdateServerInput = z
  .object({
    name: newServerName.optional(),
    description: description.nullable().optional(),
    transport: TransportInput.optional(),
    tags: tagsInput.optional(),
    settings: ServerSettingsInput.optional(),
  })
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: 'nothing to update: give at least one of name, description, transport, tags, settings',
  })
  // Given together, they are checked here; given alone, the decider checks them against the other half.
  .superRefine((p, ctx) => {
    if (p.transport && p.settings) checkSettings(p.transport, p.settings, ctx);
  });
export type UpdateServerInput = z.infer<typeof UpdateServerInput>;

/**
 * The edges' one rule for a registration (REST's body schema is RegisterServerInput itself; the MCP
 * tool and the worker's NATS boundary call this): the parsed input, or SERVER.INVALID_INPUT naming
 * every failing field. The command handlers take only parsed input and never parse again.
 */
export function parseRegistration(input: unknown): RegisterServerInput {
  return parseWith(RegisterServerInput, input, invalidInput);
}

/** The edges' one rule for an update's patch (see parseRegistration). */
export function parseServerPatch(input: unknown): UpdateServerInput {
  return parseWith(UpdateServerInput, input, invalidInput);
}

/** Body of "disable a server". */
export const DisableServerInput = z.object({ reason: z.string().max(500).optional() }).strict();
export type DisableServerInput = z.infer<typeof DisableServerInput>;

// ---------------------------------------------------------------------------------------------
// Commands: what the decider sees. Ids and time are decided before, secrets are already sealed.
// ---------------------------------------------------------------------------------------------

const issuedAt = z.date();

export const RegisterServer = z.object({
  type: z.literal('RegisterServer'),
  data: z.object({
    serverId: z.uuid(),
    name: serverNameSchema,
    description: z.string().optional(),
    transport: storedTransportSchema,
    tags: z.array(tagSchema),
    enabled: z.boolean(),
    settings: serverSettingsSchema,
    /** From the command's metadata (the actor's tenant and id), set by the handler. */
    tenant: tenantIdSchema,
    owner: ownerIdSchema,
  }),
  issuedAt,
});
export type RegisterServer = z.infer<typeof RegisterServer>;

export const UpdateServer = z.object({
  type: z.literal('UpdateServer'),
  data: z.object({
    serverId: z.uuid(),
    name: serverNameSchema.optional(),
    description: z.string().nullable().optional(),
    transport: storedTransportSchema.optional(),
    tags: z.array(tagSchema).optional(),
    settings: serverSettingsSchema.optional(),
  }),
  issuedAt,
});
export type UpdateServer = z.infer<typeof UpdateServer>;

export const EnableServer = z.object({
  type: z.literal('EnableServer'),
  data: z.object({ serverId: z.uuid() }),
  issuedAt,
});
export type EnableServer = z.infer<typeof EnableServer>;

export const DisableServer = z.object({
  type: z.literal('DisableServer'),
  data: z.object({ serverId: z.uuid(), reason: z.string().optional() }),
  issuedAt,
});
export type DisableServer = z.infer<typeof DisableServer>;

/** Asks for the server's catalog to be discovered again. */
export const RefreshServer = z.object({
  type: z.literal('RefreshServer'),
  data: z.object({ serverId: z.uuid() }),
  issuedAt,
});
export type RefreshServer = z.infer<typeof RefreshServer>;

export const RemoveServer = z.object({
  type: z.literal('RemoveServer'),
  data: z.object({ serverId: z.uuid() }),
  issuedAt,
});
export type RemoveServer = z.infer<typeof RemoveServer>;

export type ServerCommand =
  | RegisterServer
  | UpdateServer
  | EnableServer
  | DisableServer
  | RefreshServer
  | RemoveServer;
