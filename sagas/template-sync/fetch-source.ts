import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceConfig } from '../../domains/templates/index.ts';
import { gitCheckout, gitResolve } from '../../templates/engine/git.ts';
import type { TemplateLimits } from '../../templates/engine/limits.ts';
import { scanSource } from '../../templates/engine/load.ts';
import { checkSourceLocation, type SourcePolicy } from '../../templates/engine/source-policy.ts';

export type ScanResult = Awaited<ReturnType<typeof scanSource>>;

/** What a fetch found: the source's templates, or (git) that its commit is the one already recorded. */
export type Fetched =
  | { kind: 'unchanged'; commit: string }
  | { kind: 'found'; dir: string; commit: string | null; found: ScanResult };

export interface FetchOptions {
  /** Where git sources are checked out while they are read (removed afterwards). */
  workDir: string;
  limits?: TemplateLimits | undefined;
  /** Where sources may be: a source registered elsewhere is refused before anything is read. */
  policy: SourcePolicy;
  /** True when this commit is the one the last recorded sync saw: no clone is made. */
  isCurrent: (commit: string) => boolean;
  onProgress: (p: { done: number; total: number; template?: string | undefined }) => void;
}

/**
 * Reads a source: a directory as it is, a git repository at its branch or tag (asked with
 * `ls-remote` first, so an unmoved commit costs one round trip and no clone). Throws an AppError
 * naming the source when it cannot be read or `options.policy` does not allow it
 * (`TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED`); a checkout never outlives the call.
 */
export async function fetchSource(
  name: string,
  config: SourceConfig,
  options: FetchOptions,
): Promise<Fetched> {
  const scan = (dir: string) =>
    scanSource(dir, { ...(options.limits && { limits: options.limits }), onProgress: options.onProgress });
  // Checked at registration too; here again for sources registered before a policy narrowed.
  await checkSourceLocation(config, options.policy);
  if (config.kind === 'directory') {
    return { kind: 'found', dir: config.location, commit: null, found: await scan(config.location) };
  }
  const git = { allowFile: options.policy.allowLocalGit ?? false };
  const commit = await gitResolve(config.location, config.ref ?? undefined, git);
  if (options.isCurrent(commit)) return { kind: 'unchanged', commit };
  const checkout = join(options.workDir, `git-${name}-${randomUUID()}`);
  try {
    // The branch may have moved since ls-remote: the commit is the one actually checked out.
    const checkedOut = await gitCheckout(config.location, config.ref ?? undefined, checkout, git);
    // Templates are loaded into memory (files and all), so the checkout can go right away.
    return { kind: 'found', dir: checkout, commit: checkedOut.commit, found: await scan(checkout) };
  } finally {
    await rm(checkout, { recursive: true, force: true });
  }
}
