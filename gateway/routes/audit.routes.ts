import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AuditLog, reportToJson } from '../../event-store/audit/index.ts';

const position = z.string().describe('A position in the global log (decimal)');

const verifyResponse = z.object({
  ok: z.boolean(),
  checked: z.number().describe('Events whose hashes were recomputed'),
  sealedThrough: position.describe('How far the chain covers the log; later events are not sealed yet'),
  checkpoints: z.object({
    verified: z.number(),
    signaturesChecked: z.boolean(),
    lastVerified: position.nullable().describe('Everything up to here is proven by a signed checkpoint'),
  }),
  firstBad: z
    .object({
      position,
      code: z.string(),
      reason: z.string(),
      after: position.optional().describe('A rewritten chain: the tampering lies after this position'),
    })
    .optional(),
});

const checkpoint = z.object({
  position,
  seq: z.string(),
  chainHash: z.string(),
  signedAt: z.string(),
  keyId: z.string(),
  signature: z.string(),
});

const exportResponse = z.object({
  format: z.literal('switchyard-audit-checkpoints/1'),
  publicKey: z.string().optional().describe('SPKI PEM of the signing key (never the private key)'),
  keyId: z.string().optional(),
  exportedAt: z.string(),
  checkpoints: z.array(checkpoint),
});

/** /api/v1/audit: the tamper-evident log — verify it, export its signed checkpoints. */
export function auditRoutes(audit: AuditLog): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/audit/verify',
      {
        schema: {
          tags: ['audit'],
          summary: 'Verify the log against its hash chain and signed checkpoints',
          description:
            'Recomputes every sealed event’s hash and the chains from `sy_es.events` in global order, compares them with the stored chain and the signed checkpoints, and answers the first bad position and why (altered, removed, inserted, revision-gap, link-missing, link-altered, checkpoint-mismatch, checkpoint-signature). Reads the whole sealed log: seconds per million events.',
          response: { 200: verifyResponse },
        },
      },
      async () => reportToJson(await audit.verify()),
    );

    app.get(
      '/audit/checkpoints',
      {
        schema: {
          tags: ['audit'],
          summary:
            'The signed checkpoints and the public key, to verify the log later without trusting the database',
          response: { 200: exportResponse },
        },
      },
      async () => {
        const { publicKey, keyId, ...rest } = await audit.checkpoints();
        return { ...rest, ...(publicKey && { publicKey }), ...(keyId && { keyId }) };
      },
    );
  };
}
