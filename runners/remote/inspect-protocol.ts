import { z } from 'zod';
import { upstreamStatusSchema } from './exec-protocol.ts';

/**
 * Runtime views over the bus: a gateway asks each runner it heard of (`exec.status.<runnerId>`)
 * for what it holds of one server, on `exec.inspect.<runnerId>` (request/reply, no queue group:
 * one runner per subject), and merges the answers. Nothing here is stored: it is what the runner
 * holds at the moment (its instances, its last stderr lines of the server, secrets taken out).
 */
export const inspectSubject = (runnerId: string) => `exec.inspect.${runnerId}`;

export const inspectRequestSchema = z.object({
  serverId: z.string().min(1).max(128),
  /** Stderr lines after this sequence number of the runner (0: all it keeps). */
  afterSeq: z.number().int().min(0).default(0),
  /** At most this many of the last lines; 0 for none (instances only). */
  limit: z.number().int().min(0).max(5_000).default(200),
});
export type InspectRequest = z.input<typeof inspectRequestSchema>;

export const stderrLineSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  instance: z.number().int(),
  pid: z.number().int(),
  line: z.string(),
});

export const inspectReplySchema = z.object({
  runnerId: z.string(),
  /** The server's instances here; null when this runner does not host it. */
  status: upstreamStatusSchema.nullable(),
  lines: z.array(stderrLineSchema),
});
export type InspectReply = z.infer<typeof inspectReplySchema>;
