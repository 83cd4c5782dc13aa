import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  sourceNotFound,
  type TemplateCommands,
  TemplateErrorCode,
  type TemplateIssue,
  type TemplateSourceState,
} from '../../domains/templates/index.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { CommandResult } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { errorMessage, isAppError } from '../../kernel/errors.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { BlobStore } from '../../templates/blobs.ts';
import type { TemplateLimits } from '../../templates/engine/limits.ts';
import type { LoadedTemplate } from '../../templates/engine/load.ts';
import { openRenderer, type SandboxOptions } from '../../templates/engine/render-sandbox.ts';
import { defaultSourcePolicy, type SourcePolicy } from '../../templates/engine/source-policy.ts';
import { type ValidationResult, validateTemplate } from '../../templates/engine/validate.ts';
import { TMP_DIR } from '../../templates/engine/workspace.ts';
import { fetchSource, type ScanResult } from './fetch-source.ts';

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
  /**
   * Where sources may be. Default: {@link defaultSourcePolicy} of the workspace root, taken to be
   * the directory holding `workDir` when that is the workspace's TMP_DIR (as the composition root
   * builds it), else the built-in templates alone.
   */
  sources?: SourcePolicy;
  /** Limits of the child processes templates are rendered in (one per sync). */
  sandbox?: SandboxOptions;
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

type CatalogEntry = Extract<TemplateSourceState, { status: 'active' }>['catalog'][number];

/** A template found in the source, with what we know of it. */
interface Checked {
  template: LoadedTemplate;
  relDir: string;
  /** Its content is what the last recorded sync published: valid then, in the catalog now. */
  known: boolean;
  result: ValidationResult;
}

/**
 * The template-sync saga's step: fetch → detect changes (git commit, or the content hashes of a
 * directory) → validate what is new → store file contents → publish / remove → record the sync.
 * Every append has a command id derived from what it records, so a sync cut short by a crash is
 * completed by the next one without duplicates, and two processes syncing the same source at once
 * append each fact once. A source that cannot be read records why and leaves the catalog as it was.
 */
export function createTemplateSync(deps: TemplateSyncDeps): TemplateSync {
  const running = new Map<string, Promise<SyncReport>>();
  const log = deps.logger.child({ module: 'template-sync' });
  const policy =
    deps.sources ??
    defaultSourcePolicy(path.basename(deps.workDir) === TMP_DIR ? path.dirname(deps.workDir) : undefined);

  async function run(name: string, options: SyncOptions): Promise<SyncReport> {
    const started = Date.now();
    const progress = options.onProgress ?? (() => undefined);
    const now = () => deps.clock.now().toISOString();
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
    const isCurrent = (revision: string) => state.failing === null && state.lastRevision === revision;
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
    const unchanged = async (revision: string, commit: string | null, total: number) => {
      await deps.recordCheck?.(name, 'unchanged', revision);
      progress({
        progress: total,
        total,
        message: commit ? `unchanged at ${commit.slice(0, 12)}` : 'unchanged',
      });
      return report({ revision, commit });
    };

    // 1. Fetch. A source that cannot be read: say why, once, and leave the catalog alone.
    const { kind, location } = state.config;
    progress({ progress: 0, message: `fetching ${kind} source ${name} (${location})` });
    let fetched: Awaited<ReturnType<typeof fetchSource>>;
    try {
      fetched = await fetchSource(name, state.config, {
        workDir: deps.workDir,
        limits: deps.limits,
        policy,
        isCurrent,
        onProgress: (p) =>
          progress({
            progress: p.done,
            total: p.total * 2,
            message: p.template ? `read ${p.template}` : `found ${p.total} templates`,
          }),
      });
    } catch (e) {
      const code = isAppError(e) ? e.code : 'TEMPLATE_SOURCE.FAILED';
      const message = errorMessage(e);
      log.warn(
        { source: name, code, err: message },
        'template source sync failed; the catalog stays as it was',
      );
      await commands.recordSyncFailed(
        { name, reason: message, code, failedAt: now() },
        meta(`failed/${sha256(message)}/${state.lastRevision ?? ''}`),
      );
      await deps.recordCheck?.(name, 'failed', message);
      return report({ ok: false, error: { code, message } });
    }
    if (fetched.kind === 'unchanged') return unchanged(fetched.commit, fetched.commit, 1);

    // 2. What changed: the source's revision is what was found and what was wrong with it.
    const { found, commit } = fetched;
    const checked = await check(found, fetched.dir, state.catalog, deps.limits, deps.sandbox);
    const revision = commit ?? revisionOf(checked, found);
    const total = checked.length * 2 || 1;
    if (isCurrent(revision)) return unchanged(revision, commit, total);

    // 3. Record it: validations, file contents, new versions, removals, then the sync itself.
    const rejected: SyncReport['rejected'] = [];
    for (const p of found.problems) {
      const key = `${p.dir}/${sha256(JSON.stringify(p.issues))}`;
      await commands.recordValidation(
        {
          validationId: uuidV5(`template-sync/${name}/${key}`),
          target: { kind: 'sync', source: name, dir: p.dir, contentHash: null },
          ok: false,
          issues: p.issues,
          stats: { files: 0, bytes: 0 },
          validatedAt: now(),
        },
        meta(`validation/${key}`),
      );
      rejected.push({ dir: p.dir, name: p.name, issues: p.issues });
    }
    const fresh = checked.filter((c) => !c.known);
    // One batch for every new file content (a few statements rather than one per template).
    await deps.blobs.put(fresh.filter((c) => c.result.ok).flatMap((c) => c.template.files));

    const catalog: CatalogEntry[] = [];
    const entry = (c: Checked): CatalogEntry => ({
      name: c.template.manifest.name,
      version: c.template.manifest.version,
      contentHash: c.template.contentHash,
      dir: c.relDir,
    });
    for (const c of checked) if (c.known) catalog.push(entry(c));
    const published: string[] = [];
    let done = checked.length * 2 - fresh.length;
    for (const c of fresh) {
      const { manifest, contentHash, files } = c.template;
      // A rejection is recorded on its own; a pass travels with the publication it allows.
      if (!c.result.ok) {
        await commands.recordValidation(
          {
            validationId: uuidV5(`template-sync/${name}/${c.relDir}/${contentHash}`),
            target: { kind: 'sync', source: name, dir: c.relDir, contentHash },
            ok: false,
            issues: c.result.issues,
            stats: c.result.stats,
            validatedAt: now(),
          },
          meta(`validation/${c.relDir}/${contentHash}`),
        );
      }
      progress({
        progress: ++done,
        total,
        message: `${manifest.name}: ${c.result.ok ? 'valid' : 'rejected'}`,
      });
      if (!c.result.ok) {
        rejected.push({ dir: c.relDir, name: manifest.name, issues: c.result.issues });
        continue;
      }
      try {
        const r = await commands.publish(
          {
            name: manifest.name,
            source: name,
            version: manifest.version,
            stack: manifest.stack,
            description: manifest.description,
            tags: manifest.tags,
            manifest,
            variableOrder: Object.keys(manifest.variables),
            files: files.map(({ path, size, sha256, binary, render }) => ({
              path,
              size,
              sha256,
              binary,
              render,
            })),
            contentHash,
            commit,
            validation: { issues: c.result.issues, stats: c.result.stats },
            publishedAt: now(),
          },
          meta(`publish/${manifest.name}/${contentHash}`),
          // A name this source never published is most likely new: skip the read (the append
          // still fails on an existing stream, and the command is then decided on what is there).
          { assumeNew: !state.catalog.some((e) => e.name === manifest.name) },
        );
        if (r.events.length > 0 && !r.duplicate) published.push(manifest.name);
        catalog.push(entry(c));
      } catch (e) {
        if (!(isAppError(e) && e.code === TemplateErrorCode.OwnedByOtherSource)) throw e;
        rejected.push({
          dir: c.relDir,
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
        { name: previous.name, source: name, reason: `no longer in source ${name}`, removedAt: now() },
        meta(`remove/${previous.name}/${revision}`),
      );
      if (r.events.length > 0) removed.push(previous.name);
    }
    catalog.sort((a, b) => a.name.localeCompare(b.name));
    await commands.recordSynced(
      { name, revision, commit, templates: catalog, published, removed, rejected, syncedAt: now() },
      meta(`synced/${revision}`),
    );
    await deps.recordCheck?.(name, 'changed', revision);
    const outcome = { templates: catalog.length, published, removed, rejected };
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
    return report({ changed: true, revision, commit, ...outcome });
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

/**
 * Each template found, validated unless its content is the one the last recorded sync published
 * (valid then, and validation depends on content alone). One sandboxed renderer serves them all,
 * started only if one needs validating.
 */
async function check(
  found: ScanResult,
  root: string,
  catalog: readonly CatalogEntry[],
  limits: TemplateLimits | undefined,
  sandbox: SandboxOptions | undefined,
): Promise<Checked[]> {
  const renderer = openRenderer(sandbox);
  try {
    const checked: Checked[] = [];
    for (const t of found.templates) {
      const relDir = relativeDir(root, t);
      const known = catalog.some(
        (c) => c.dir === relDir && c.name === t.manifest.name && c.contentHash === t.contentHash,
      );
      const result: ValidationResult = known
        ? {
            ok: true,
            issues: [],
            stats: { files: t.files.length, bytes: t.files.reduce((n, f) => n + f.size, 0) },
          }
        : await validateTemplate(t, limits, { renderer });
      checked.push({ template: t, relDir, known, result });
    }
    return checked;
  } finally {
    await renderer.close();
  }
}

/** A directory source's revision: every template's place, name, content and validity, and every problem. */
function revisionOf(checked: readonly Checked[], found: ScanResult): string {
  return sha256(
    [
      ...checked.map(
        (c) => `${c.relDir}\t${c.template.manifest.name}\t${c.template.contentHash}\t${c.result.ok}`,
      ),
      ...found.problems.map((p) => `${p.dir}\t!\t${p.issues.map((i) => i.code).join(',')}`),
    ]
      .sort()
      .join('\n'),
  );
}

function relativeDir(root: string, t: LoadedTemplate): string {
  const rel = t.dir.startsWith(root) ? t.dir.slice(root.length).replace(/^[/\\]+/, '') : t.dir;
  return rel.split('\\').join('/') || '.';
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
