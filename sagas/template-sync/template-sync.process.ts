import type { TemplateCommands } from '../../domains/templates/index.ts';
import { TEMPLATE_SOURCE_CATEGORY } from '../../domains/templates/index.ts';
import { fromPosition, type Processor, startProcessor } from '../../event-store/processor.ts';
import type { Clock } from '../../kernel/clock.ts';
import { errorMessage } from '../../kernel/errors.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { randomIds } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { TemplateSync } from './sync-source.ts';

export interface ScheduledSource {
  name: string;
  intervalMs: number | null;
}

export interface TemplateSyncProcessDeps {
  sync: TemplateSync;
  commands: TemplateCommands;
  store: EventStore;
  /** The registered (not removed) sources and their schedules. */
  listSources: () => Promise<ScheduledSource[]>;
  /** The templates shipped with Switchyard, registered as source `builtin` on start. */
  builtIn?: { location: string } | undefined;
  clock: Clock;
  logger: Logger;
  /** How often schedules are looked at (default 5 s). */
  tickMs?: number;
}

export interface TemplateSyncProcess {
  start(): Promise<void>;
  stop(): Promise<void>;
}

const ACTOR = 'system:template-sync';

/**
 * Runs the template-sync saga's schedule (one active in a deployment, under the sagas' leader
 * lock): registers the built-in source, syncs every source once at start (catching up on what
 * changed while nobody watched — cheap when nothing did), syncs a source as soon as it is
 * registered, and again every `intervalMs` for sources that have one.
 */
export function createTemplateSyncProcess(deps: TemplateSyncProcessDeps): TemplateSyncProcess {
  const log = deps.logger.child({ module: 'template-sync' });
  let feed: Processor | undefined;
  const lastRun = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  const tasks = new Set<Promise<unknown>>();

  const syncNow = (name: string, why: string) => {
    lastRun.set(name, deps.clock.now().getTime());
    const task = deps.sync
      .sync(name, { actor: ACTOR, correlationId: randomIds.uuid() })
      .then((r) => {
        if (r.changed || !r.ok)
          log.info({ source: name, why, ok: r.ok, changed: r.changed }, 'template source synced');
      })
      .catch((e: unknown) => log.warn({ source: name, why, err: errorMessage(e) }, 'template sync failed'))
      .finally(() => tasks.delete(task));
    tasks.add(task);
  };

  async function tick(): Promise<void> {
    const now = deps.clock.now().getTime();
    for (const s of await deps.listSources()) {
      if (s.intervalMs === null) continue;
      const last = lastRun.get(s.name);
      if (last === undefined || now - last >= s.intervalMs) syncNow(s.name, 'schedule');
    }
  }

  return {
    async start() {
      const head = await deps.store.headPosition();
      if (deps.builtIn) {
        await deps.commands.registerSource(
          { name: 'builtin', kind: 'directory', location: deps.builtIn.location },
          {
            commandId: randomIds.uuid(),
            actor: ACTOR,
            correlationId: randomIds.uuid(),
            issuedAt: deps.clock.now(),
          },
          { builtIn: true },
        );
        syncNow('builtin', 'start');
      }
      for (const s of await deps.listSources()) if (!lastRun.has(s.name)) syncNow(s.name, 'start');
      // New registrations (and changed ones) are synced at once, wherever they were made.
      feed = startProcessor({
        name: 'template sources',
        store: deps.store,
        filter: { categories: [TEMPLATE_SOURCE_CATEGORY], types: ['TemplateSourceRegistered'] },
        checkpoint: fromPosition(head),
        handle: async (e) => syncNow((e.data as { name: string }).name, 'registered'),
        logger: log,
      });
      timer = setInterval(() => {
        void tick().catch((e: unknown) =>
          log.warn({ err: errorMessage(e) }, 'template sync schedule failed'),
        );
      }, deps.tickMs ?? 5_000);
      timer.unref();
    },
    async stop() {
      await feed?.stop();
      if (timer) clearInterval(timer);
      await Promise.allSettled([...tasks]);
    },
  };
}
