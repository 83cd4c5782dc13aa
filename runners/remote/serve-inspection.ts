import type { Bus, Closeable } from '../../bus/bus.port.ts';
import { AppError } from '../../kernel/errors.ts';
import type { UpstreamPool } from '../pool/pool.ts';
import { type InspectReply, inspectRequestSchema, inspectSubject } from './inspect-protocol.ts';

/**
 * The runner side of the runtime views: answers `exec.inspect.<runnerId>` with what this runner
 * holds of a server (inspect-protocol.ts). `runnerId` is the one its status messages carry, so
 * that gateways that heard of it know where to ask.
 */
export function serveInspection(options: {
  bus: Bus;
  pool: Pick<UpstreamPool, 'status' | 'stderr'>;
  runnerId: string;
}): Promise<Closeable> {
  const { pool, runnerId } = options;
  return options.bus.serveSubject({
    subject: inspectSubject(runnerId),
    handler: async (message): Promise<InspectReply> => {
      const parsed = inspectRequestSchema.safeParse(message.payload);
      if (!parsed.success) {
        throw new AppError(
          'validation',
          'EXEC.BAD_REQUEST',
          `malformed inspect request: ${parsed.error.message}`,
        );
      }
      const { serverId, afterSeq, limit } = parsed.data;
      return {
        runnerId,
        status: pool.status(serverId)[0] ?? null,
        lines: limit === 0 ? [] : pool.stderr(serverId, { afterSeq, limit }),
      };
    },
  });
}
