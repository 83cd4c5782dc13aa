import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RegisterTemplateSourceInput } from '../../domains/templates/commands.ts';
import { sourceNameSchema } from '../../domains/templates/events.ts';
import { templateNameSchema, templateVersionSchema } from '../../domains/templates/manifest.ts';
import type { CommandResult } from '../../kernel/command-handler.ts';
import { SyncTemplatesInput } from '../../templates/inputs.ts';
import type { TemplateService } from '../../templates/service.ts';
import type { WriteResult } from '../ports.ts';
import { tenantScopeOf } from '../request-context.ts';
import { operationContextOf, runOperation } from './operations.ts';
import { problemResponses, writeAccepted } from './shared.ts';
import {
  stackViewSchema,
  syncReportSchema,
  templateDetailSchema,
  templateSourceSchema,
  templateSummarySchema,
  validationResultSchema,
  writeAcceptedSchema,
} from './templates.schemas.ts';

const PROGRESS =
  'Send `Accept: application/x-ndjson` to follow progress: newline-delimited JSON `{"type":"progress","progress":n,"total":m,"message":"…"}` lines, then one `{"type":"result","status":…,"body":…}` or `{"type":"error","status":…,"body":<problem>}` line.';

const searchQuery = z
  .object({
    q: z.string().max(200).optional().describe('Words to find in name, description, tags and stack'),
    stack: z.string().max(63).optional(),
    tag: z.string().max(63).optional(),
    source: z.string().max(63).optional(),
    limit: z.coerce.number().int().min(1).max(100).optional().describe('Default 20'),
  })
  .strict();

const nameParams = z.object({ name: templateNameSchema.describe('Template name') });
const sourceParams = z.object({ name: sourceNameSchema.describe('Template source name') });

const validatePathBody = z
  .object({
    path: z.string().min(1).max(1000).describe('A template directory, relative to the workspace root'),
  })
  .strict();

const syncReportsSchema = z.object({ reports: z.array(syncReportSchema) });

/** A source command as every write answers it: the source's stream and revision (202). */
const written = (name: string, r: CommandResult): WriteResult => ({
  id: name,
  stream: r.stream,
  revision: r.revision,
  position: r.position,
  duplicate: r.duplicate,
});

/**
 * /api/v1/templates, /template-stacks, /template-sources: the template catalog (search, inspect,
 * validate) and where it comes from (sources, sync). Reads come from the catalog read model.
 */
export function templatesRoutes(templates: TemplateService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/templates',
      {
        schema: {
          tags: ['templates'],
          summary: 'Search the template catalog',
          description:
            'Every word of `q` matches as a prefix of a word in the name, stack, tags or description ("fast" finds fastify); best match first. Without `q`, every template matching the filters, by name.',
          querystring: searchQuery,
          response: { 200: z.object({ items: z.array(templateSummarySchema) }), ...problemResponses([400]) },
        },
      },
      async (request) => {
        const { q, ...filters } = request.query;
        return { items: await templates.search({ ...filters, query: q }, tenantScopeOf(request.principal)) };
      },
    );

    app.get(
      '/templates/:name',
      {
        schema: {
          tags: ['templates'],
          summary: 'Inspect a template',
          description:
            'Its manifest, variables, file tree, published versions and latest validation. `version` checks that the template has that version.',
          params: nameParams,
          querystring: z.object({ version: templateVersionSchema.optional() }).strict(),
          response: { 200: templateDetailSchema, ...problemResponses([400, 404]) },
        },
      },
      async (request) =>
        templates.inspect(
          { name: request.params.name, version: request.query.version },
          tenantScopeOf(request.principal),
        ),
    );

    app.get(
      '/template-stacks',
      {
        schema: {
          tags: ['templates'],
          summary: 'List the stacks templates are grouped by',
          response: { 200: z.object({ items: z.array(stackViewSchema) }) },
        },
      },
      async (request) => ({ items: await templates.stacks(tenantScopeOf(request.principal)) }),
    );

    app.post(
      '/templates/:name/validate',
      {
        schema: {
          tags: ['templates'],
          summary: 'Validate a catalog template',
          description:
            'Test-renders the template and checks its manifest, variables and files; records the outcome. An invalid template is a successful validation with `ok: false` and its issues.',
          params: nameParams,
          body: z
            .object({ version: templateVersionSchema.optional().describe('Default: the current version') })
            .strict()
            .nullish(),
          response: { 200: validationResultSchema, ...problemResponses([400, 404]) },
        },
      },
      async (request) =>
        templates.validate(
          { template: request.params.name, version: request.body?.version },
          operationContextOf(request, `validate:${request.params.name}`),
        ),
    );

    app.post(
      '/templates/validate',
      {
        schema: {
          tags: ['templates'],
          summary: 'Validate a template directory in the workspace',
          description:
            'Reads the template at `path` (under the workspace root) and validates it as a sync would, without publishing it. 200 with `ok: false` and the issues when it is invalid.',
          body: validatePathBody,
          response: { 200: validationResultSchema, ...problemResponses([400, 404]) },
        },
      },
      async (request) => templates.validate(request.body, operationContextOf(request, 'validate')),
    );

    app.post(
      '/templates/sync',
      {
        schema: {
          tags: ['templates'],
          summary: 'Sync template sources now',
          description: `Fetches one source (\`source\`) or every source, validates what changed and publishes it; a source without changes records nothing (\`changed: false\`). ${PROGRESS}`,
          body: SyncTemplatesInput.nullish(),
          response: { 200: syncReportsSchema, ...problemResponses([400, 404]) },
        },
      },
      async (request, reply) => {
        const ctx = operationContextOf(request, 'sync');
        return runOperation(
          request,
          reply,
          ctx,
          async (c) => ({
            reports: await templates.sync(request.body ?? {}, c),
          }),
          { status: 200 },
        );
      },
    );

    app.get(
      '/template-sources',
      {
        schema: {
          tags: ['templates'],
          summary: 'List template sources',
          response: { 200: z.object({ items: z.array(templateSourceSchema) }) },
        },
      },
      async (request) => ({ items: await templates.sources.list(tenantScopeOf(request.principal)) }),
    );

    app.get(
      '/template-sources/:name',
      {
        schema: {
          tags: ['templates'],
          summary: 'Get a template source: its location, last sync and what it rejected',
          params: sourceParams,
          response: { 200: templateSourceSchema, ...problemResponses([400, 404]) },
        },
      },
      async (request) => templates.sources.get(request.params.name, tenantScopeOf(request.principal)),
    );

    app.post(
      '/template-sources',
      {
        schema: {
          tags: ['templates'],
          summary: 'Register a template source',
          description:
            'A directory or a git repository holding templates (one per directory with a template.yaml). Answers 202; the source is synced right away and then every `intervalMs`. `replace: true` changes an existing source.',
          body: RegisterTemplateSourceInput,
          response: { 202: writeAcceptedSchema, ...problemResponses([400, 409]) },
        },
      },
      async (request, reply) => {
        const { name } = request.body;
        const r = await templates.sources.register(
          request.body,
          operationContextOf(request, `register-source:${name}`),
        );
        return writeAccepted(reply, written(name, r), `/api/v1/template-sources/${name}`, undefined);
      },
    );

    app.post(
      '/template-sources/:name/sync',
      {
        schema: {
          tags: ['templates'],
          summary: 'Sync one template source now',
          description: `As POST /templates/sync with \`source\`. ${PROGRESS}`,
          params: sourceParams,
          response: { 200: syncReportsSchema, ...problemResponses([400, 404]) },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const ctx = operationContextOf(request, `sync:${name}`);
        return runOperation(
          request,
          reply,
          ctx,
          async (c) => ({
            reports: await templates.sync({ source: name }, c),
          }),
          { status: 200 },
        );
      },
    );

    app.delete(
      '/template-sources/:name',
      {
        schema: {
          tags: ['templates'],
          summary: 'Remove a template source; its templates leave the catalog',
          params: sourceParams,
          response: { 202: writeAcceptedSchema, ...problemResponses([400, 404, 409]) },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const r = await templates.sources.remove(name, operationContextOf(request, `remove-source:${name}`));
        return writeAccepted(reply, written(name, r), `/api/v1/template-sources/${name}`, undefined);
      },
    );
  };
}
