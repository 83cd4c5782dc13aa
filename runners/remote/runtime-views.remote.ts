import type { Bus, Closeable } from '../../bus/bus.port.ts';
import { type Clock, systemClock } from '../../kernel/clock.ts';
import type { Logger } from '../../kernel/logger.ts';
import {
  type InstanceView,
  instanceViews,
  type LogCursor,
  mergeLines,
  type RuntimeViews,
  type ServerLogLine,
} from '../runtime-views.port.ts';
import { ALL_STATUS, runnerStatusSchema } from './exec-protocol.ts';
import {
  type InspectReply,
  type InspectRequest,
  inspectReplySchema,
  inspectSubject,
} from './inspect-protocol.ts';

export interface RemoteRuntimeViewsOptions {
  bus: Bus;
  logger: Logger;
  clock?: Clock;
  /** A runner not heard of for this long is no longer asked (default 15 s: three status periods). */
  runnerTtlMs?: number;
  /** How long a runner has to answer (default 2 s); one that does not is listed as unreachable. */
  timeoutMs?: number;
}

/**
 * Runtime views gathered from every runner over the bus: the runners are known from their status
 * messages (`exec.status.<runnerId>`, every few seconds), each is asked on its own subject, in
 * parallel, and the answers are merged. A runner that does not answer in time is named in
 * `unreachable` rather than failing the whole view.
 */
export async function createRemoteRuntimeViews(
  options: RemoteRuntimeViewsOptions,
): Promise<RuntimeViews & Closeable> {
  const { bus } = options;
  const clock = options.clock ?? systemClock;
  const log = options.logger.child({ module: 'runners.inspect' });
  const ttlMs = options.runnerTtlMs ?? 15_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  /** Runner id → when it was last heard of. */
  const runners = new Map<string, number>();
  const statuses = await bus.subscribeSubject({
    subject: ALL_STATUS,
    handler: (m) => {
      const parsed = runnerStatusSchema.safeParse(m.payload);
      if (!parsed.success) return;
      // An empty list is a runner saying goodbye.
      if (parsed.data.servers.length === 0) runners.delete(parsed.data.runnerId);
      else runners.set(parsed.data.runnerId, Date.now());
    },
  });

  function liveRunners(): string[] {
    const now = Date.now();
    for (const [id, at] of runners) if (now - at > ttlMs) runners.delete(id);
    return [...runners.keys()].sort();
  }

  async function askAll(request: InspectRequest | ((runnerId: string) => InspectRequest)) {
    const ids = liveRunners();
    const answers = await Promise.allSettled(
      ids.map(async (id) =>
        inspectReplySchema.parse(
          await bus.requestSubject(
            inspectSubject(id),
            typeof request === 'function' ? request(id) : request,
            { timeoutMs },
          ),
        ),
      ),
    );
    const replies: InspectReply[] = [];
    const unreachable: string[] = [];
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') replies.push(a.value);
      else {
        unreachable.push(ids[i]!);
        log.debug({ runnerId: ids[i], err: (a.reason as Error).message }, 'runner did not answer');
      }
    });
    return { replies, unreachable };
  }

  return {
    async instances(serverId) {
      const { replies, unreachable } = await askAll({ serverId, limit: 0 });
      const now = clock.now();
      const instances: InstanceView[] = [];
      const hosting: string[] = [];
      for (const r of replies) {
        if (!r.status) continue;
        hosting.push(r.runnerId);
        instances.push(...instanceViews(r.runnerId, r.status.instances, now));
      }
      return { serverId, instances, runners: hosting, unreachable };
    },

    async logs(serverId, logOptions = {}) {
      const limit = logOptions.limit ?? 200;
      const after: LogCursor = logOptions.after ?? {};
      const { replies, unreachable } = await askAll((id) => ({ serverId, afterSeq: after[id] ?? 0, limit }));
      const lines: ServerLogLine[] = [];
      const cursor: LogCursor = { ...after };
      for (const r of replies) {
        for (const l of r.lines) lines.push({ ...l, runner: r.runnerId });
        const last = r.lines.at(-1);
        if (last) cursor[r.runnerId] = last.seq;
      }
      return { lines: mergeLines(lines, limit), cursor, unreachable };
    },

    close: () => statuses.close(),
  };
}
