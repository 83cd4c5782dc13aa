import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  sourceNotFound,
  type TemplateCommands,
  TemplateErrorCode,
  type TemplateIssue,
} from '../../domains/templates/index.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { CommandResult } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { errorMessage, isAppError } from '../../kernel/errors.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { BlobStore } from '../../templates/blobs.ts';
import { gitCheckout, gitResolve } from '../../templates/engine/git.ts';
import type { TemplateLimits } from '../../templates/engine/limits.ts';
import { type LoadedTemplate, scanSource } from '../../templates/engine/load.ts';
import { validateTemplate } from '../../templates/engine/validate.ts';

/** Progress of a long operation, in the shape MCP progress notifications take. */
export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}
export type OnProgress = (p: Progress) => void;

export interface SyncReport {
  source: string;
  ok: boolean;
  /** False when the source was as last recorded: nothing was appended. */
  changed: boolean;
  revision: string | null;
  commit: string | null;
  /** Templates of this source in the catalog after the sync. */
  templates: number;
  published: string[];
  removed: string[];
  rejected: Array<{ dir: string; name?: string | undefined; issues: TemplateIssue[] }>;
  error?: { code: string; message: string };
  /** Global position of the last event this sync appended (null: none), for read-your-writes. */
  position: string | null;
  durationMs: number;
}

export interface TemplateSyncDeps {
  commands: TemplateCommands;
  blobs: BlobStore;
  clock: Clock;
  logger: Logger;
  /** Where git sources are checked out while they are read (removed afterwards). */
  workDir: string;
  limits?: TemplateLimits;
  /** Notes when a source was last checked, even when nothing changed (no event says so). */
  recordCheck?: (
    source: string,
    outcome: 'unchanged' | 'changed' | 'failed',
    detail: string | null,
  ) => Promise<void>;
}

export interface SyncOptions {
  actor: string;
  correlationId: string;
  onProgress?: OnProgress;
}

export interface TemplateSync {
  /** Fetches a source, validates what changed and records it; a second run with nothing new appends nothing. */
  sync(source: string, options: SyncOptions): Promise<SyncReport>;
}

/**
 * The template-sync saga's step: fetch → detect changes (git commit, or the content hashes of a
 * directory) → validate → store file contents → publish / remove → record the sync. Every append
 * has a command id derived from what it records, so a sync cut short by a crash is completed by the
 * next one without duplicates, and two processes syncing the same source at once append each fact
 * once. A source that cannot be read records why and leaves the catalog as it was.
 */
export function createTemplateSync(deps: TemplateSyncDeps): TemplateSync {
  const running = new Map<string, Promise<SyncReport>>();
  const log = deps.logger.child({ module: 'template-sync' });

  async function run(name: string, options: SyncOptions): Promise<SyncReport> {
    const started = Date.now();
    const progress = options.onProgress ?? (() => undefined);
    const meta = (key: string): CommandMeta => ({
      commandId: uuidV5(`template-sync/${name}/${key}`),
      actor: options.actor,
      correlationId: options.correlationId,
      issuedAt: deps.clock.now(),
    });
    // Every append goes through `commands`, which remembers the furthest position reached.
    let last: bigint | undefined;
    const tracked =
      <A extends unknown[]>(f: (...args: A) => Promise<CommandResult>) =>
      async (...args: A): Promise<CommandResult> => {
        const r = await f(...args);
        if (r.position !== undefined && (last === undefined || r.position > last)) last = r.position;
        return r;
      };
    const commands = {
      publish: tracked(deps.commands.publish),
      remove: tracked(deps.commands.remove),
      recordValidation: tracked(deps.commands.recordValidation),
      recordSynced: tracked(deps.commands.recordSynced),
      recordSyncFailed: tracked(deps.commands.recordSyncFailed),
    };
    const state = await deps.commands.sourceState(name);
    if (state.status !== 'active') throw sourceNotFound(name);
    const { config } = state;
    const unchangedSince = (revision: string) => state.failing === null && state.lastRevision === revision;
    const report = (r: Partial<SyncReport>): SyncReport => ({
      source: name,
      ok: true,
      changed: false,
      revision: null,
      commit: null,
      templates: state.catalog.length,
      published: [],
      removed: [],
      rejected: [],
      durationMs: Date.now() - started,
      position: last === undefined ? null : last.toString(),
      ...r,
    });

    progress({ progress: 0, message: `fetching ${config.kind} source ${name} (${config.location})` });
    let dir = config.location;
    let commit: string | null = null;
    let checkout: string | undefined;
    let found: Awaited<ReturnType<typeof scanSource>>;
    try {
      if (config.kind === 'git') {
        const head = await gitResolve(config.location, config.ref ?? undefined);
        commit = head;
        if (unchangedSince(head)) {
          await deps.recordCheck?.(name, 'unchanged', head);
          progress({ progress: 1, total: 1, message: `unchanged at ${head.slice(0, 12)}` });
          return report({ revision: head, commit: head });
        }
        checkout = join(deps.workDir, `git-${name}-${randomUUID()}`);
        await gitCheckout(config.location, config.ref ?? undefined, checkout);
        dir = checkout;
      }
      found = await scanSource(dir, {
        ...(deps.limits && { limits: deps.limits }),
        onProgress: (p) =>
          progress({
            progress: p.done,
            total: p.total * 2,
            message: p.template ? `read ${p.template}` : `found ${p.total} templates`,
          }),
      });
    } catch (e) {
      if (checkout) await rm(checkout, { recursive: true, force: true });
      const code = isAppError(e) ? e.code : 'TEMPLATE_SOURCE.FAILED';
      const message = errorMessage(e);
      log.warn(
        { source: name, code, err: message },
        'template source sync failed; the catalog stays as it was',
      );
      await commands.recordSyncFailed(
        { name, reason: message, code, failedAt: deps.clock.now().toISOString() },
        meta(`failed/${createHash('sha256').update(message).digest('hex')}/${state.lastRevision ?? ''}`),
      );
      await deps.recordCheck?.(name, 'failed', message);
      return report({ ok: false, error: { code, message } });
    }
    if (checkout) await rm(checkout, { recursive: true, force: true });

    // Validate every template found; the source's revision is what was found and what was wrong with it.
    // A template whose content is the one the last recorded sync published was valid then and is
    // already in the catalog: nothing to validate, store or append for it.
    const checked = found.templates.map((t) => {
      const relDir = relativeDir(dir, t);
      const known = state.catalog.some(
        (c) => c.dir === relDir && c.name === t.manifest.name && c.contentHash === t.contentHash,
      );
      return {
        template: t,
        relDir,
        known,
        result: known
          ? { ok: true, issues: [], stats: { files: t.files.length, bytes: 0 } }
          : validateTemplate(t, deps.limits),
      };
    });
    const revision =
      commit ??
      sha256(
        [
          ...checked.map(
            (c) => `${c.relDir}\t${c.template.manifest.name}\t${c.template.contentHash}\t${c.result.ok}`,
          ),
          ...found.problems.map((p) => `${p.dir}\t!\t${p.issues.map((i) => i.code).join(',')}`),
        ]
          .sort()
          .join('\n'),
      );
    if (unchangedSince(revision)) {
      await deps.recordCheck?.(name, 'unchanged', revision);
      const total = checked.length * 2 || 1;
      progress({ progress: total, total, message: 'unchanged' });
      return report({ revision, commit });
    }

    const rejected: SyncReport['rejected'] = found.problems.map((p) => ({
      dir: p.dir,
      name: p.name,
      issues: p.issues,
    }));
    for (const p of found.problems) {
      await commands.recordValidation(
        {
          validationId: uuidV5(`template-sync/${name}/${p.dir}/${sha256(JSON.stringify(p.issues))}`),
          target: { kind: 'sync', source: name, dir: p.dir, contentHash: null },
          ok: false,
          issues: p.issues,
          stats: { files: 0, bytes: 0 },
          validatedAt: deps.clock.now().toISOString(),
        },
        meta(`validation/${p.dir}/${sha256(JSON.stringify(p.issues))}`),
      );
    }

    const catalog: Array<{ name: string; version: string; contentHash: string; dir: string }> = [];
    const published: string[] = [];
    let done = checked.length;
    for (const { template: t, relDir, known, result } of checked) {
      const { manifest, contentHash } = t;
      if (known) {
        catalog.push({ name: manifest.name, version: manifest.version, contentHash, dir: relDir });
        progress({ progress: ++done, total: checked.length * 2, message: `${manifest.name}: unchanged` });
        continue;
      }
      await commands.recordValidation(
        {
          validationId: uuidV5(`template-sync/${name}/${relDir}/${contentHash}`),
          target: { kind: 'sync', source: name, dir: relDir, contentHash },
          ok: result.ok,
          issues: result.issues,
          stats: result.stats,
          validatedAt: deps.clock.now().toISOString(),
        },
        meta(`validation/${relDir}/${contentHash}`),
      );
      progress({
        progress: ++done,
        total: checked.length * 2,
        message: `${manifest.name}: ${result.ok ? 'valid' : 'rejected'}`,
      });
      if (!result.ok) {
        rejected.push({ dir: relDir, name: manifest.name, issues: result.issues });
        continue;
      }
      try {
        await deps.blobs.put(t.files);
        const r = await commands.publish(
          {
            name: manifest.name,
            source: name,
            version: manifest.version,
            stack: manifest.stack,
            description: manifest.description,
            tags: manifest.tags,
            manifest,
            files: t.files.map((f) => ({
              path: f.path,
              size: f.size,
              sha256: f.sha256,
              binary: f.binary,
              render: f.render,
            })),
            contentHash,
            commit,
            publishedAt: deps.clock.now().toISOString(),
          },
          meta(`publish/${manifest.name}/${contentHash}`),
        );
        if (r.events.length > 0 && !r.duplicate) published.push(manifest.name);
        catalog.push({ name: manifest.name, version: manifest.version, contentHash, dir: relDir });
      } catch (e) {
        if (!(isAppError(e) && e.code === TemplateErrorCode.OwnedByOtherSource)) throw e;
        rejected.push({
          dir: relDir,
          name: manifest.name,
          issues: [{ code: e.code, severity: 'error', message: e.message }],
        });
      }
    }

    // A rejected template keeps its last good version; one that is gone from the source is removed.
    for (const r of rejected) {
      const previous = state.catalog.find(
        (c) => c.dir === r.dir || (r.name !== undefined && c.name === r.name),
      );
      if (previous && !catalog.some((c) => c.name === previous.name)) catalog.push(previous);
    }
    const removed: string[] = [];
    for (const previous of state.catalog) {
      if (catalog.some((c) => c.name === previous.name)) continue;
      const r = await commands.remove(
        {
          name: previous.name,
          source: name,
          reason: `no longer in source ${name}`,
          removedAt: deps.clock.now().toISOString(),
        },
        meta(`remove/${previous.name}/${revision}`),
      );
      if (r.events.length > 0) removed.push(previous.name);
    }
    catalog.sort((a, b) => a.name.localeCompare(b.name));
    await commands.recordSynced(
      {
        name,
        revision,
        commit,
        templates: catalog,
        published,
        removed,
        rejected,
        syncedAt: deps.clock.now().toISOString(),
      },
      meta(`synced/${revision}`),
    );
    await deps.recordCheck?.(name, 'changed', revision);
    log.info(
      {
        source: name,
        revision,
        templates: catalog.length,
        published: published.length,
        removed: removed.length,
        rejected: rejected.length,
      },
      'template source synced',
    );
    return report({
      changed: true,
      revision,
      commit,
      templates: catalog.length,
      published,
      removed,
      rejected,
    });
  }

  return {
    sync(name, options) {
      // One sync per source at a time in this process; a second caller shares the running one.
      const current = running.get(name);
      if (current) return current;
      const p = run(name, options).finally(() => running.delete(name));
      running.set(name, p);
      return p;
    },
  };
}

function relativeDir(root: string, t: LoadedTemplate): string {
  const rel = t.dir.startsWith(root) ? t.dir.slice(root.length).replace(/^[/\\]+/, '') : t.dir;
  return rel.split('\\').join('/') || '.';
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
