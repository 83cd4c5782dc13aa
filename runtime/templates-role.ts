import { join } from 'node:path';
import type { LeaderLock } from '../bus/relay/leader-lock.port.ts';
import { makeProjectCommands } from '../domains/projects/index.ts';
import { makeTemplateCommands } from '../domains/templates/index.ts';
import type { ProjectionsPort } from '../gateway/ports.ts';
import { systemClock } from '../kernel/clock.ts';
import { listTemplateSources, recordSourceCheck } from '../projections/templates/index.ts';
import { createTemplateSync, type TemplateSync } from '../sagas/template-sync/sync-source.ts';
import { createTemplateSyncProcess } from '../sagas/template-sync/template-sync.process.ts';
import { type BlobStore, templateBlobStore } from '../templates/blobs.ts';
import { TMP_DIR } from '../templates/engine/workspace.ts';
import { createTemplateService, type TemplateService } from '../templates/service.ts';
import { runWhileLeader } from './leadership.ts';
import type { RoleContext } from './role-context.ts';

/** The template catalog's moving parts, shared by the sync schedule and the gateway's operations. */
export function templateParts(ctx: RoleContext): {
  sync: TemplateSync;
  commands: ReturnType<typeof makeTemplateCommands>;
  blobs: BlobStore;
} {
  const deps = { store: ctx.store, registry: ctx.registry, clock: systemClock };
  const commands = makeTemplateCommands(deps);
  const blobs = templateBlobStore(ctx.db);
  const sync = createTemplateSync({
    commands,
    blobs,
    clock: systemClock,
    logger: ctx.logger,
    workDir: join(ctx.config.workspaceRoot, TMP_DIR),
    sources: ctx.config.templateSources,
    recordCheck: (source, outcome, detail) =>
      recordSourceCheck(ctx.db, { source, outcome, detail, checkedAt: systemClock.now() }),
  });
  return { sync, commands, blobs };
}

/**
 * The template-sync saga's schedule, one active in the deployment (leader lock): registers and
 * syncs the built-in templates on start, then every source on registration and on its interval.
 */
export function startTemplateSync(
  ctx: RoleContext,
  parts: ReturnType<typeof templateParts>,
  lock: LeaderLock,
): void {
  const logger = ctx.logger.child({ module: 'template-sync' });
  const stop = runWhileLeader(
    lock,
    'switchyard-template-sync',
    async () => {
      const process = createTemplateSyncProcess({
        sync: parts.sync,
        commands: parts.commands,
        store: ctx.store,
        listSources: async () =>
          (await listTemplateSources(ctx.db))
            .filter((s) => s.removedAt === null)
            .map((s) => ({ name: s.name, intervalMs: s.intervalMs })),
        builtIn: ctx.config.builtInTemplates ? { location: ctx.config.builtInTemplates } : undefined,
        clock: systemClock,
        logger,
      });
      await process.start();
      return () => process.stop();
    },
    logger,
  );
  ctx.onClose('template sync', stop);
}

/** The operations behind /api/v1/templates…, the platform MCP tools and the CLI. */
export function templateService(
  ctx: RoleContext,
  parts: ReturnType<typeof templateParts>,
  projections: ProjectionsPort,
): TemplateService {
  return createTemplateService({
    db: ctx.db,
    templates: parts.commands,
    projects: makeProjectCommands({ store: ctx.store, registry: ctx.registry }),
    blobs: parts.blobs,
    sync: parts.sync,
    clock: systemClock,
    workspaceRoot: ctx.config.workspaceRoot,
    sources: ctx.config.templateSources,
    waitForProjection: (name, position) =>
      projections.waitForPosition(name, position, ctx.config.consistencyTimeoutMs),
  });
}
