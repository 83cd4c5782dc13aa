import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sourceNotFound } from '../../domains/templates/errors.ts';
import { sourceNameSchema } from '../../domains/templates/events.ts';
import { AppError } from '../../kernel/errors.ts';
import type { TemplateService } from '../../templates/service.ts';
import { verifyGitSignature } from '../webhooks/git-signature.ts';
import { problemResponses } from './shared.ts';
import { syncReportSchema } from './templates.schemas.ts';

export interface WebhookRoutesDeps {
  templates: TemplateService;
  /** The shared secret git hosts sign with (SWITCHYARD_WEBHOOK_SECRET); undefined refuses every call. */
  secret: string | undefined;
  /**
   * Counts a refused call against its address, as a failed authentication is (429 past the limit):
   * guessing a signature costs as much as guessing a key.
   */
  refused?: (address: string) => Promise<unknown>;
}

/**
 * The bodies exactly as sent: GitHub signs the bytes, and a parsed-then-serialised body would not
 * match them. Kept beside the request rather than as its body, so no later hook reads bytes as JSON.
 */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

const params = z.object({ name: sourceNameSchema.describe('Template source to sync') });

/**
 * POST /api/v1/template-sources/<name>/webhook: a git host's push triggers the sync of that source.
 * No bearer credential (a git host has none to send): the signature over the raw body is the
 * credential (route-actions.ts, resource `signature`), checked before anything is looked up, so an
 * unsigned or wrongly signed call learns nothing and appends nothing. The secret never leaves this
 * process: not in an answer, an event (the actor is `webhook:<host>`) or a log line.
 */
export function webhooksRoutes(deps: WebhookRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // This plugin's own context only: every other route keeps the JSON parser.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
      rawBodies.set(request, body as Buffer);
      done(null, undefined);
    });

    app.post(
      '/template-sources/:name/webhook',
      {
        schema: {
          tags: ['templates'],
          summary: 'Sync a template source on a git host’s push (signed webhook)',
          description:
            'For GitHub (`X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>`) and GitLab (`X-Gitlab-Token`), with the secret in SWITCHYARD_WEBHOOK_SECRET. No bearer credential: a call without a signature is refused with 401, a wrong one with 403, and neither changes anything. GitHub’s `ping` is answered without a sync.',
          params,
          security: [],
          response: {
            200: z.object({
              source: z.string(),
              host: z.enum(['github', 'gitlab']),
              event: z.string().nullable(),
              reports: z.array(syncReportSchema),
            }),
            ...problemResponses([400, 401, 403, 404]),
          },
        },
      },
      async (request) => {
        const verdict = verifyGitSignature(
          request.headers,
          rawBodies.get(request) ?? Buffer.alloc(0),
          deps.secret,
        );
        if (!verdict.ok) {
          request.log.info({ reason: verdict.reason, ip: request.ip }, 'webhook refused');
          if (verdict.reason !== 'not-configured') await deps.refused?.(request.ip);
          if (verdict.reason === 'missing') {
            throw new AppError(
              'unauthenticated',
              'WEBHOOK.UNSIGNED',
              'a webhook call must be signed: X-Hub-Signature-256 (GitHub) or X-Gitlab-Token (GitLab)',
            );
          }
          throw new AppError(
            'forbidden',
            verdict.reason === 'not-configured' ? 'WEBHOOK.NOT_CONFIGURED' : 'WEBHOOK.BAD_SIGNATURE',
            verdict.reason === 'not-configured'
              ? 'webhooks are not configured on this gateway (SWITCHYARD_WEBHOOK_SECRET)'
              : 'the webhook signature does not match',
          );
        }
        const { name } = request.params;
        const eventHeader = request.headers[verdict.host === 'github' ? 'x-github-event' : 'x-gitlab-event'];
        const event = (Array.isArray(eventHeader) ? eventHeader[0] : eventHeader)?.slice(0, 100) ?? null;
        // Signed, so the caller may learn whether the source exists.
        const source = await deps.templates.sources.get(name, {});
        if (source.removedAt !== null) {
          throw sourceNotFound(name);
        }
        // GitHub pings a hook when it is created: nothing to sync.
        if (event === 'ping') return { source: name, host: verdict.host, event, reports: [] };
        const actor = `webhook:${verdict.host}`;
        const reports = await deps.templates.sync(
          { source: name },
          { actor, credential: actor, correlationId: String(request.id) },
        );
        request.log.info({ source: name, host: verdict.host, event }, 'webhook synced a template source');
        return { source: name, host: verdict.host, event, reports };
      },
    );
  };
}
