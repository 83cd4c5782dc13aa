import { registerServerEvents } from '../domains/servers/index.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import { createProjectionRunner, serversProjection } from '../projections/index.ts';
import type { BenchContext } from './context.ts';
import { serverLog, timedProjection } from './fixtures.ts';
import { REPLAY_PAGE, replayBare } from './replay.bench.ts';
import type { BenchResult, Row } from './report.ts';
import { PhaseTimer, rate } from './stats.ts';

/** The servers registry, with the time spent upcasting (and so validating) each event measured. */
class TimedRegistry extends EventTypeRegistry {
  constructor(private readonly phases: PhaseTimer) {
    super();
  }

  override upcast(type: string, version: number, data: unknown): unknown {
    const t0 = performance.now();
    try {
      return super.upcast(type, version, data);
    } finally {
      this.phases.add('registry.upcast', performance.now() - t0);
    }
  }
}

export async function rebuildBench(ctx: BenchContext): Promise<BenchResult> {
  const log = await serverLog(ctx);
  const phases = new PhaseTimer();
  // Same store and projection, with their calls timed, so the note can say where the time goes.
  const store: EventStore = {
    ...log.store,
    readAll: (options) => phases.time('store.readAll', () => log.store.readAll(options)),
  };
  const projection = timedProjection(serversProjection, phases, 'projection.apply');
  const registry = registerServerEvents(new TimedRegistry(phases));
  const runner = createProjectionRunner({ store, db: log.sql.db, projections: [projection], registry });
  try {
    ctx.log('rebuild: bare SELECT of the same events (baseline)');
    await replayBare(log.url, REPLAY_PAGE, 'server');
    const bare = await replayBare(log.url, REPLAY_PAGE, 'server');
    ctx.log(`rebuild: runner.rebuild('servers') over ${log.serverEvents} server events of ${log.count}`);
    const t0 = performance.now();
    const result = await runner.rebuild('servers');
    const elapsedMs = performance.now() - t0;
    const value = rate(result.events, elapsedMs);
    const rows: Row[] = [
      {
        bench: 'rebuild',
        metric: `runner.rebuild('servers'), ${result.events} events`,
        unit: 'events/s',
        value,
        baseline: rate(bare.events, bare.elapsedMs),
        baselineLabel: `bare keyset SELECT of the ${bare.events} server events`,
        better: 'higher',
      },
    ];
    const read = phases.get('store.readAll');
    const apply = phases.get('projection.apply');
    const upcast = phases.get('registry.upcast');
    const rest = elapsedMs - read.ms - apply.ms - upcast.ms;
    const f = log.filteredPageMs;
    const notes = [
      {
        bench: 'rebuild',
        text: `a filtered readAll page (200 server events, from the start of the log) took ${f.beforeAnalyze.toFixed(1)} ms before ANALYZE (autoanalyze had ${f.autoAnalyzedBefore ? '' : 'not '}run yet) and ${f.afterAnalyze.toFixed(1)} ms after; the run above is after ANALYZE`,
      },
      {
        bench: 'rebuild',
        text: `rebuild ${(elapsedMs / 1000).toFixed(2)} s: store.readAll ${(read.ms / 1000).toFixed(2)} s (${read.calls} pages), read-model writes (apply/applyBatch) ${(apply.ms / 1000).toFixed(2)} s (${apply.items} events in ${apply.calls} calls, ${((apply.ms / Math.max(1, apply.items)) * 1000).toFixed(0)} µs per event), registry.upcast (zod validation) ${(upcast.ms / 1000).toFixed(2)} s, rest (BEGIN/COMMIT, table copy and swap, runner) ${(rest / 1000).toFixed(2)} s`,
      },
    ];
    return { rows, notes };
  } finally {
    await runner.stop();
  }
}
