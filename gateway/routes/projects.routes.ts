import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { templateNameSchema } from '../../domains/templates/manifest.ts';
import { AnalyzeCodeInput, GenerateProjectInput } from '../../templates/inputs.ts';
import type { TemplateService } from '../../templates/service.ts';
import { tenantScopeOf } from '../request-context.ts';
import { operationContextOf, runOperation } from './operations.ts';
import { problemResponses } from './shared.ts';
import {
  analysisSchema,
  generatedProjectSchema,
  projectDetailSchema,
  projectPageSchema,
  projectPreviewSchema,
} from './templates.schemas.ts';

const PROGRESS =
  'Send `Accept: application/x-ndjson` to follow progress: newline-delimited JSON `{"type":"progress","progress":n,"total":m,"message":"…"}` lines, then one `{"type":"result","status":201,"location":…,"body":…}` or `{"type":"error","status":…,"body":<problem>}` line.';

const limit = z.coerce.number().int().min(1).max(200).optional().describe('Default 100');
const idParams = z.object({ id: z.string().min(1).max(128).describe('Id (uuid)') });

/**
 * /api/v1/projects and /api/v1/analyses: projects generated from catalog templates into the
 * workspace, and code analyses of what is in it. Both are recorded as events before they answer.
 */
export function projectsRoutes(templates: TemplateService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/projects',
      {
        schema: {
          tags: ['projects'],
          summary: 'Generate a project from a template',
          description: `Renders the template with \`variables\` (checked against its manifest: every problem is listed) and writes it to \`destination\` under the workspace root, all or nothing. A destination outside the workspace (\`..\`, absolute, through a symlink) is refused (400); a non-empty one is refused (409) unless \`overwrite\` is true. Answers 201 with the files written; secret variables are recorded as "[redacted]". ${PROGRESS}`,
          body: GenerateProjectInput,
          response: { 201: generatedProjectSchema, ...problemResponses([400, 404, 409]) },
        },
      },
      async (request, reply) =>
        runOperation(
          request,
          reply,
          operationContextOf(request, 'generate'),
          (ctx) => templates.generate(request.body, ctx),
          { status: 201, location: (p) => `/api/v1/projects/${p.projectId}` },
        ),
    );

    app.post(
      '/projects/preview',
      {
        schema: {
          tags: ['projects'],
          summary: 'Preview a project generation: the files it would write, nothing written or recorded',
          description:
            'Takes the same body as POST /projects and makes the same checks (variables, destination), then answers 200 with each file it would write (path, size, sha256) and whether the destination is taken.',
          body: GenerateProjectInput,
          response: { 200: projectPreviewSchema, ...problemResponses([400, 404]) },
        },
      },
      async (request) => templates.preview(request.body, operationContextOf(request, 'preview')),
    );

    app.get(
      '/projects',
      {
        schema: {
          tags: ['projects'],
          summary: 'List generated projects, newest first',
          querystring: z.object({ template: templateNameSchema.optional(), limit }).strict(),
          response: { 200: projectPageSchema, ...problemResponses([400]) },
        },
      },
      async (request) => templates.projects.list(request.query, tenantScopeOf(request.principal)),
    );

    app.get(
      '/projects/:id',
      {
        schema: {
          tags: ['projects'],
          summary: 'Get a generated project: template, variables (secrets redacted) and every file written',
          params: idParams,
          response: { 200: projectDetailSchema, ...problemResponses([404]) },
        },
      },
      async (request) => templates.projects.get(request.params.id, tenantScopeOf(request.principal)),
    );

    app.post(
      '/analyses',
      {
        schema: {
          tags: ['projects'],
          summary: 'Analyse code in the workspace',
          description: `Analyses a directory under the workspace root (\`path\`) or a generated project (\`projectId\`): files and lines per language, and complexity. Answers 201. ${PROGRESS}`,
          body: AnalyzeCodeInput,
          response: { 201: analysisSchema, ...problemResponses([400, 404]) },
        },
      },
      async (request, reply) =>
        runOperation(
          request,
          reply,
          operationContextOf(request, 'analyze'),
          (ctx) => templates.analyze(request.body, ctx),
          { status: 201, location: (a) => `/api/v1/analyses/${a.analysisId}` },
        ),
    );

    app.get(
      '/analyses',
      {
        schema: {
          tags: ['projects'],
          summary: 'List code analyses, newest first',
          querystring: z.object({ projectId: z.uuid().optional(), limit }).strict(),
          response: { 200: z.object({ items: z.array(analysisSchema) }), ...problemResponses([400]) },
        },
      },
      async (request) => ({
        items: await templates.analyses.list(request.query, tenantScopeOf(request.principal)),
      }),
    );

    app.get(
      '/analyses/:id',
      {
        schema: {
          tags: ['projects'],
          summary: 'Get a code analysis',
          params: idParams,
          response: { 200: analysisSchema, ...problemResponses([404]) },
        },
      },
      async (request) => templates.analyses.get(request.params.id, tenantScopeOf(request.principal)),
    );
  };
}
