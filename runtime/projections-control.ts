import { z } from 'zod';
import type { Bus, Closeable } from '../bus/bus.port.ts';
import type { ProjectionDecisionResult } from '../domains/operations/index.ts';
import type { ProjectionDecision, ProjectionsPort } from '../gateway/ports.ts';
import { AppError } from '../kernel/errors.ts';
import type { ProjectionQuarantine, ProjectionRunner } from '../projections/index.ts';

const CATEGORY = 'projection';
const rebuildRequest = z.object({ name: z.string().min(1).max(100) });
const rebuildReply = z.object({ name: z.string(), events: z.number(), durationMs: z.number() }).loose();

/**
 * Projection operations for the gateway. Status and read-your-writes waits read the checkpoint
 * table and the store, so any process can answer them; a rebuild must run where the projection's
 * live loop runs (it pauses it), so a gateway without the projector role asks over the bus.
 * Quarantine decisions are appended to the log from here, whichever process this is: every runner
 * follows them there.
 */
export function projectionsPort(
  runner: ProjectionRunner,
  bus: Bus,
  projectorIsLocal: boolean,
  quarantine: ProjectionQuarantine,
): ProjectionsPort {
  return {
    status: async () => {
      const all = await runner.status();
      // A process without the projector role sees 'stopped' for its own (idle) loops; the
      // checkpoint and lag are what matter there, and those are shared.
      return all.map((s) => (projectorIsLocal || s.state !== 'stopped' ? s : { ...s, state: 'remote' }));
    },
    rebuild: async (name) => {
      if (projectorIsLocal) return runner.rebuild(name);
      const reply = await bus.request(CATEGORY, 'rebuild', { name }, { timeoutMs: 10 * 60_000 });
      return rebuildReply.parse(reply);
    },
    waitForPosition: (name, position, timeoutMs) => runner.waitForPosition(name, position, timeoutMs),
    quarantine: async (name, request, meta) => decision(await quarantine.quarantine(name, request, meta)),
    release: async (name, request, meta) => decision(await quarantine.release(name, request, meta)),
  };
}

function decision(r: ProjectionDecisionResult): ProjectionDecision {
  return {
    eventId: r.eventId,
    stream: r.stream,
    revision: r.revision,
    position: r.position,
    duplicate: r.duplicate,
    recorded: r.events.length > 0,
  };
}

/** On the projector: serve rebuild requests from gateways (queue group: one projector runs it). */
export function serveProjectionCommands(bus: Bus, runner: ProjectionRunner): Promise<Closeable> {
  return bus.serveCommands({
    category: CATEGORY,
    queue: 'projectors',
    handler: async (message) => {
      if (message.name !== 'rebuild') {
        throw new AppError('validation', 'COMMAND.UNKNOWN', `unknown projection command ${message.name}`);
      }
      const parsed = rebuildRequest.safeParse(message.payload);
      if (!parsed.success) throw new AppError('validation', 'COMMAND.MALFORMED', parsed.error.message);
      return runner.rebuild(parsed.data.name);
    },
  });
}
