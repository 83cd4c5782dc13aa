import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../kernel/errors.ts';
import { type ConsoleAsset, consoleAssets } from './console-bundle.ts';

/** What the console's page needs before anyone signs in: nothing secret. */
export interface ConsoleOptions {
  version: string;
  /** The OpenID provider the console signs in through (authorization code + PKCE), when configured. */
  oidc?: { issuer: string; clientId: string; scopes: string; resource?: string } | undefined;
}

const ASSET_RE = /^[a-z0-9-]{1,40}\.(js|css)$/;

/**
 * The page: no inline script or style, so the policy can forbid both. The page itself holds no
 * data — everything it shows comes from the REST API with the signed-in principal's credential.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Switchyard console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script type="module" src="/console/assets/console.js"></script>
</head>
<body><div id="app"><p class="boot">Loading the console…</p></div></body>
</html>
`;

function securityHeaders(reply: FastifyReply, connect: string[]) {
  reply.header(
    'content-security-policy',
    [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ${connect.join(' ')}`.trim(),
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
  );
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: ConsoleAsset) {
  reply.header('etag', asset.etag).header('cache-control', 'no-cache').header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
    return reply.type(asset.type).header('content-encoding', 'gzip').send(asset.gzipped);
  }
  return reply.type(asset.type).send(asset.body);
}

/**
 * The web console at /console: a static single-page application (console/app/) that talks to the
 * REST API like any script would, with the credential of whoever signed in. Its own routes are
 * public (route-actions.ts): they carry code, never data.
 */
export function consoleRoutes(options: ConsoleOptions): FastifyPluginAsyncZod {
  const connect = options.oidc ? [new URL(options.oidc.issuer).origin] : [];
  return async (app) => {
    const page = async (_request: FastifyRequest, reply: FastifyReply) => {
      securityHeaders(reply, connect);
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE);
    };
    app.get('/console', { schema: { hide: true } }, page);
    app.get('/console/', { schema: { hide: true } }, page);
    app.get('/console/config.json', { schema: { hide: true } }, async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return { version: options.version, oidc: options.oidc ?? null };
    });
    app.get(
      '/console/assets/:file',
      { schema: { hide: true, params: z.object({ file: z.string().max(64) }) } },
      async (request, reply) => {
        const { file } = request.params;
        const asset = ASSET_RE.test(file) ? (await consoleAssets()).get(file) : undefined;
        if (!asset) throw new AppError('not_found', 'CONSOLE.NO_SUCH_ASSET', 'no such console asset');
        securityHeaders(reply, connect);
        return sendAsset(request, reply, asset);
      },
    );
    // Built while the gateway starts, so that the first page does not wait for esbuild.
    app.addHook('onReady', async () => {
      void consoleAssets().catch((e: unknown) => app.log.error({ err: e }, 'the console could not be built'));
    });
  };
}
