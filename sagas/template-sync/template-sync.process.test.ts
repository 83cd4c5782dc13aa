import { afterEach, describe, expect, it } from 'vitest';
import type { TemplateCommands } from '../../domains/templates/index.ts';
import { fixedClock } from '../../kernel/clock.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { silentLogger } from '../../kernel/logger.ts';
import type { SyncReport, TemplateSync } from './sync-source.ts';
import { createTemplateSyncProcess, type TemplateSyncProcess } from './template-sync.process.ts';

/** The schedule alone: which sources it syncs, and when. The sync itself is tested on real databases. */
describe('template sync schedule', () => {
  let process: TemplateSyncProcess | undefined;
  afterEach(async () => process?.stop());

  function setup(sources: Array<{ name: string; intervalMs: number | null }>) {
    const clock = fixedClock('2026-11-21T10:00:00.000Z');
    const synced: string[] = [];
    const registered: unknown[] = [];
    const sync: TemplateSync = {
      async sync(name) {
        synced.push(name);
        return { source: name, ok: true, changed: false } as SyncReport;
      },
    };
    const commands = {
      async registerSource(input: unknown) {
        registered.push(input);
        return {};
      },
    } as unknown as TemplateCommands;
    const store = {
      headPosition: async () => 0n,
      async *subscribeToAll(options: { signal?: AbortSignal }) {
        await new Promise((resolve) => options.signal?.addEventListener('abort', resolve));
      },
    } as unknown as EventStore;
    process = createTemplateSyncProcess({
      sync,
      commands,
      store,
      listSources: async () => sources,
      builtIn: { location: '/opt/switchyard/templates/builtin' },
      clock,
      logger: silentLogger(),
      tickMs: 20,
    });
    return { clock, synced, registered };
  }

  const settle = () => new Promise((r) => setTimeout(r, 100));

  it('registers the built-in templates and syncs every source once on start', async () => {
    const { synced, registered } = setup([
      { name: 'builtin', intervalMs: null },
      { name: 'team', intervalMs: null },
    ]);
    await process!.start();
    await settle();
    expect(registered).toEqual([
      { name: 'builtin', kind: 'directory', location: '/opt/switchyard/templates/builtin' },
    ]);
    expect(synced.sort()).toEqual(['builtin', 'team']);
  });

  it('syncs a source with an interval again once the interval has passed, and not before', async () => {
    const { clock, synced } = setup([
      { name: 'team', intervalMs: 60_000 },
      { name: 'manual', intervalMs: null },
    ]);
    await process!.start();
    await settle();
    const afterStart = synced.length;
    clock.advance(30_000);
    await settle();
    expect(synced.length).toBe(afterStart);
    clock.advance(30_000);
    await settle();
    expect(synced.slice(afterStart)).toEqual(['team']);
  });
});
