import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { WriteResult } from '../ports.ts';

/** RFC 7807 body, for the OpenAPI document. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
    correlationId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .loose();

export function problemResponses(statuses: number[]): Record<number, typeof problemSchema> {
  return Object.fromEntries(statuses.map((s) => [s, problemSchema]));
}

const MAX_POSITION = 2n ** 63n - 1n;

export const positionString = z
  .string()
  .regex(/^\d{1,19}$/, 'must be a global position (a non-negative integer)')
  .transform((s) => BigInt(s))
  .refine((p) => p <= MAX_POSITION, 'must be a global position (at most 2^63 - 1)');

/** Read-your-writes: `?minPosition=<position from a write>` waits (bounded) for the projection. */
export const consistencyQuery = z.object({
  minPosition: positionString
    .optional()
    .describe('Wait until the read model has applied this global position'),
  waitMs: z.coerce.number().int().min(0).max(60_000).optional().describe('Upper bound on that wait'),
});

export function writeAccepted(
  reply: FastifyReply,
  result: WriteResult,
  location: string,
  projected: boolean | undefined,
): FastifyReply {
  const position = result.position?.toString() ?? null;
  if (position) reply.header('switchyard-position', position);
  return reply
    .status(202)
    .header('location', location)
    .send({
      id: result.id,
      stream: result.stream,
      revision: result.revision.toString(),
      position,
      duplicate: result.duplicate,
      ...(projected === undefined ? {} : { projected }),
    });
}
