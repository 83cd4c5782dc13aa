import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BusInfo } from '../../bus/bus.port.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { AppError } from '../../kernel/errors.ts';
import { redactArguments } from '../../kernel/redaction.ts';

/** What the gateway can tell of the process and its bus (the console's System view). */
export interface SystemReport {
  version: string;
  mode: string;
  roles: string[];
  /** Settings an operator may see, secrets already replaced (runtime/config-report.ts). */
  config: Record<string, string | number | boolean | null>;
}

export interface SystemRoutesDeps {
  report: () => SystemReport;
  /** The bus: its stream, subjects, consumers and parked events. */
  bus: {
    info(): Promise<BusInfo>;
    deadLetters(): Promise<Array<{ consumer: string; event: RecordedEvent; error: string }>>;
  };
}

const DEAD_LETTERS_SHOWN = 100;

/** /api/v1/system and /api/v1/bus: version, configuration (redacted), JetStream state. Administrators only. */
export function systemRoutes(deps: SystemRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/system',
      {
        schema: {
          tags: ['operations'],
          summary: 'Version, mode, roles and configuration of this process (secrets redacted)',
          querystring: z.object({}).strict(),
        },
      },
      async () => deps.report(),
    );

    app.get(
      '/bus',
      {
        schema: {
          tags: ['operations'],
          summary: 'The event stream on the bus: subjects, consumers and their pending counts, dead letters',
          description: `Dead letters: the newest ${DEAD_LETTERS_SHOWN}, each event by id, type, stream and position (its data stays in the log: GET /api/v1/events).`,
          querystring: z.object({}).strict(),
        },
      },
      async (request) => {
        let info: BusInfo;
        try {
          info = await deps.bus.info();
        } catch (e) {
          // Its message may name the server it tried (a URL): logged, not answered.
          request.log.warn({ err: e }, 'the bus did not answer /api/v1/bus');
          throw new AppError('unavailable', 'BUS.UNAVAILABLE', 'the bus did not answer');
        }
        const parked = (await deps.bus.deadLetters()).slice(-DEAD_LETTERS_SHOWN).reverse();
        return {
          ...info,
          deadLetters: parked.map(({ consumer, event, error }) => ({
            consumer,
            event: {
              id: event.id,
              type: event.type,
              stream: event.stream,
              position: event.position.toString(),
              recordedAt: event.recordedAt.toISOString(),
            },
            error: redactArguments({ error }).error,
          })),
          deadLettersTotal: info.deadLetters,
        };
      },
    );
  };
}
