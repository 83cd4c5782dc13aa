import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isBinary } from 'istextorbinary';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { MANIFEST_FILES, manifestSchema, type TemplateManifest } from '../../domains/templates/manifest.ts';
import { AppError, errorMessage, isAppError } from '../../kernel/errors.ts';
import { compileGlobs, globToRegExp } from './glob.ts';
import { error, ISSUE_CODES, summarize, type ValidationIssue } from './issues.ts';
import { DEFAULT_LIMITS, type TemplateLimits } from './limits.ts';

/** One file of a template, read whole. */
export interface TemplateFile {
  /** Posix, relative to the template root; may itself contain `{{ }}` (rendered later). */
  path: string;
  content: Buffer;
  size: number;
  /** Hex sha256 of `content`. */
  sha256: string;
  binary: boolean;
  /** False for binary files and files matched by `manifest.files.copy`: those are copied byte for byte. */
  render: boolean;
  /** Any execute bit set in the source: kept on the rendered file (scripts, git hooks). */
  executable?: boolean;
}

export interface LoadedTemplate {
  /** Absolute. */
  dir: string;
  /** The manifest's file name, e.g. `template.yaml`. */
  manifestFile: string;
  manifest: TemplateManifest;
  /** Sorted by path. */
  files: TemplateFile[];
  /** See {@link templateContentHash}. */
  contentHash: string;
}

/** Never part of a template, at any depth. */
const ALWAYS_SKIPPED = new Set(['.git', 'node_modules']);

/** Throws the AppError every load failure becomes: the message names the dir and the first problem. */
function fail(dir: string, issues: ValidationIssue[], extra: Record<string, unknown> = {}): never {
  const first = issues.find((i) => i.severity === 'error') ?? issues[0];
  throw new AppError(
    'validation',
    first?.code ?? ISSUE_CODES.INVALID_MANIFEST,
    `template ${dir}: ${summarize(issues)}`,
    { ...extra, dir, issues },
  );
}

/** "variables.port.type: must be one of ...": the field path first, so the author knows where to look. */
export function formatZodIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join('.');
  return where === '' ? issue.message : `${where}: ${issue.message}`;
}

/** JSON with keys sorted at every depth: the same value always serialises to the same bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256 (hex) over the canonical JSON of the parsed manifest and each file's path, sha256, render
 * flag and execute bit, in path order. Mtimes, directory order and the machine play no part, so two
 * checkouts of the same commit hash the same and a one-byte change gives a new hash.
 */
export function templateContentHash(
  manifest: TemplateManifest,
  files: ReadonlyArray<Pick<TemplateFile, 'path' | 'sha256' | 'render' | 'executable'>>,
): string {
  const entries = [...files]
    .sort((a, b) => comparePaths(a.path, b.path))
    .map((f) => ({ path: f.path, sha256: f.sha256, render: f.render, executable: f.executable === true }));
  return createHash('sha256')
    .update(canonicalJson({ manifest, files: entries }), 'utf8')
    .digest('hex');
}

/** Code-unit order, not locale order: the same on every machine. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Finds the manifest in `dir`: its name, or undefined when there is none. Two manifests is a mistake. */
async function findManifest(dir: string): Promise<string | undefined> {
  const present: string[] = [];
  for (const name of MANIFEST_FILES) {
    const s = await lstat(path.join(dir, name)).catch(() => undefined);
    if (s?.isSymbolicLink()) {
      fail(dir, [
        error(ISSUE_CODES.SYMLINK, `${name}: is a symbolic link; templates may not contain any`, name),
      ]);
    }
    if (s?.isFile()) present.push(name);
  }
  if (present.length > 1) {
    fail(dir, [
      error(ISSUE_CODES.INVALID_MANIFEST, `${present.join(' and ')} both exist; keep one`, present[1]),
    ]);
  }
  return present[0];
}

/** Reads and parses a manifest; every problem (syntax or schema) becomes an issue naming the field. */
export async function readManifest(
  dir: string,
  manifestFile: string,
  maxBytes: number = DEFAULT_LIMITS.maxFileBytes,
): Promise<{ manifest: TemplateManifest } | { issues: ValidationIssue[]; name?: string }> {
  const { size } = await stat(path.join(dir, manifestFile));
  if (size > maxBytes) {
    const message = `${manifestFile}: ${size} bytes is over the ${maxBytes}-byte limit per file`;
    return { issues: [error(ISSUE_CODES.FILE_TOO_LARGE, message, manifestFile)] };
  }
  const text = await readFile(path.join(dir, manifestFile), 'utf8');
  let raw: unknown;
  try {
    raw = manifestFile.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const firstLine = errorMessage(e).split('\n')[0];
    return { issues: [error(ISSUE_CODES.INVALID_MANIFEST, `${manifestFile}: ${firstLine}`, manifestFile)] };
  }
  const parsed = manifestSchema.safeParse(raw);
  if (parsed.success) return { manifest: parsed.data };
  const issues = parsed.error.issues.map((i) =>
    error(ISSUE_CODES.INVALID_MANIFEST, `${manifestFile}: ${formatZodIssue(i)}`, manifestFile),
  );
  // A name, even from an invalid manifest, lets a source listing say which template is broken.
  const name =
    raw !== null && typeof raw === 'object' && typeof (raw as { name?: unknown }).name === 'string'
      ? (raw as { name: string }).name
      : undefined;
  return name === undefined ? { issues } : { issues, name };
}

type Globs = ReturnType<typeof compileGlobs>;

/** The manifest's `files` globs, compiled; a malformed one is a manifest problem naming it. */
function compileFileRules(
  manifestFile: string,
  manifest: TemplateManifest,
): { exclude: Globs; copy: Globs } | { issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const compile = (key: 'exclude' | 'copy'): Globs => {
    const globs = manifest.files?.[key] ?? [];
    globs.forEach((g, i) => {
      try {
        globToRegExp(g);
      } catch (e) {
        issues.push(
          error(
            ISSUE_CODES.INVALID_MANIFEST,
            `${manifestFile}: files.${key}.${i}: ${errorMessage(e)}`,
            manifestFile,
          ),
        );
      }
    });
    return issues.length === 0 ? compileGlobs(globs) : compileGlobs([]);
  };
  const exclude = compile('exclude');
  const copy = compile('copy');
  return issues.length > 0 ? { issues } : { exclude, copy };
}

interface FoundFile {
  rel: string;
  abs: string;
  size: number;
  executable: boolean;
}

/**
 * Lists a template's files (not reading them) with every problem found on the way. Stops listing
 * once there are more files than allowed, so a huge tree is not walked to the end.
 */
async function listFiles(
  dir: string,
  manifestFile: string,
  exclude: { matches: (relPath: string) => boolean },
  limits: TemplateLimits,
): Promise<{ files: FoundFile[]; issues: ValidationIssue[] }> {
  const files: FoundFile[] = [];
  const issues: ValidationIssue[] = [];
  let total = 0;
  const walk = async (rel: string): Promise<boolean> => {
    const entries: Dirent[] = await readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => comparePaths(a.name, b.name));
    for (const entry of entries) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (ALWAYS_SKIPPED.has(entry.name) || (rel === '' && entry.name === manifestFile)) continue;
      if (exclude.matches(childRel)) continue;
      const abs = path.join(dir, childRel);
      if (entry.isSymbolicLink()) {
        issues.push(
          error(
            ISSUE_CODES.SYMLINK,
            `${childRel}: is a symbolic link; templates may not contain any`,
            childRel,
          ),
        );
      } else if (entry.isDirectory()) {
        if (!(await walk(childRel))) return false;
      } else if (entry.isFile()) {
        if (files.length >= limits.maxFiles) {
          issues.push(
            error(ISSUE_CODES.TOO_MANY_FILES, `more than ${limits.maxFiles} files (the limit); exclude some`),
          );
          return false;
        }
        const s = await stat(abs);
        if (s.size > limits.maxFileBytes) {
          issues.push(
            error(
              ISSUE_CODES.FILE_TOO_LARGE,
              `${childRel}: ${s.size} bytes is over the ${limits.maxFileBytes}-byte limit per file`,
              childRel,
            ),
          );
        }
        total += s.size;
        files.push({ rel: childRel, abs, size: s.size, executable: (s.mode & 0o111) !== 0 });
      } else {
        issues.push(
          error(ISSUE_CODES.UNSUPPORTED_FILE, `${childRel}: not a regular file or directory`, childRel),
        );
      }
    }
    return true;
  };
  await walk('');
  if (total > limits.maxTotalBytes) {
    issues.push(
      error(ISSUE_CODES.TOO_LARGE, `${total} bytes in all is over the ${limits.maxTotalBytes}-byte limit`),
    );
  }
  return { files, issues };
}

/**
 * Reads a template directory: its manifest (parsed with the domain's schema) and every file, with
 * the render/copy decision made per file. Throws `AppError('validation', <first issue's code>)` with
 * `details.issues` listing every problem; `AppError('not_found', 'TEMPLATE.NOT_FOUND')` when `dir`
 * is not a directory.
 */
export async function loadTemplateDir(
  dir: string,
  limits: TemplateLimits = DEFAULT_LIMITS,
): Promise<LoadedTemplate> {
  const abs = path.resolve(dir);
  try {
    return await load(abs, limits);
  } catch (e) {
    if (isAppError(e)) throw e;
    // EACCES, EIO, a file removed while reading: say which template, keep the cause.
    throw new AppError('unavailable', ISSUE_CODES.UNREADABLE, `template ${abs}: ${errorMessage(e)}`, {
      dir: abs,
      issues: [error(ISSUE_CODES.UNREADABLE, errorMessage(e))],
    });
  }
}

async function load(abs: string, limits: TemplateLimits): Promise<LoadedTemplate> {
  const s = await stat(abs).catch(() => undefined);
  if (!s?.isDirectory()) {
    throw new AppError('not_found', 'TEMPLATE.NOT_FOUND', `template ${abs}: not a directory`, { dir: abs });
  }
  const manifestFile = await findManifest(abs);
  if (manifestFile === undefined) {
    fail(abs, [error(ISSUE_CODES.NO_MANIFEST, `no manifest: expected one of ${MANIFEST_FILES.join(', ')}`)]);
  }
  const read = await readManifest(abs, manifestFile, limits.maxFileBytes);
  if ('issues' in read) fail(abs, read.issues, read.name === undefined ? {} : { name: read.name });
  const { manifest } = read;
  const globs = compileFileRules(manifestFile, manifest);
  if ('issues' in globs) fail(abs, globs.issues, { name: manifest.name });

  const listed = await listFiles(abs, manifestFile, globs.exclude, limits);
  if (listed.issues.length > 0) fail(abs, listed.issues, { name: manifest.name });

  const files: TemplateFile[] = [];
  for (const f of listed.files) {
    const content = await readFile(f.abs);
    const binary = isBinary(f.rel, content) === true;
    files.push({
      path: f.rel,
      content,
      size: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      binary,
      render: !binary && !globs.copy.matches(f.rel),
      ...(f.executable ? { executable: true } : {}),
    });
  }
  files.sort((a, b) => comparePaths(a.path, b.path));
  return { dir: abs, manifestFile, manifest, files, contentHash: templateContentHash(manifest, files) };
}

/** Progress of {@link scanSource}: `template` is the name once loaded, else the directory. */
export interface ScanProgress {
  done: number;
  total: number;
  template?: string;
}

export interface ScanProblem {
  /** Relative to the source root ('.' for the root itself). */
  dir: string;
  name?: string;
  issues: ValidationIssue[];
}

/**
 * Finds template directories (those holding a manifest) under `root`, not descending into a
 * template, `.git`, `node_modules` or symlinked directories, to `maxDepth` levels below the root.
 */
async function findTemplateDirs(
  root: string,
  maxDepth: number,
): Promise<{ dirs: string[]; unreadable: ScanProblem[] }> {
  const found: string[] = [];
  const unreadable: ScanProblem[] = [];
  const visit = async (rel: string, depth: number): Promise<void> => {
    const abs = rel === '.' ? root : path.join(root, rel);
    let entries: Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (e) {
      if (rel === '.') throw e;
      unreadable.push({ dir: rel, issues: [error(ISSUE_CODES.UNREADABLE, `${rel}: ${errorMessage(e)}`)] });
      return;
    }
    // A symlinked manifest still marks a template: loading it then says what is wrong.
    if (entries.some((e) => (MANIFEST_FILES as readonly string[]).includes(e.name) && !e.isDirectory())) {
      found.push(rel);
      return;
    }
    if (depth >= maxDepth) return;
    for (const e of entries) {
      if (!e.isDirectory() || ALWAYS_SKIPPED.has(e.name)) continue;
      await visit(rel === '.' ? e.name : `${rel}/${e.name}`, depth + 1);
    }
  };
  await visit('.', 0);
  return { dirs: found.sort(comparePaths), unreadable };
}

/**
 * Loads every template of a source tree (a checkout, a directory of templates). Broken templates
 * do not stop the scan: each becomes a problem, as does a second template using a name already
 * taken (by sorted directory). Throws `AppError('unavailable', 'TEMPLATE_SOURCE.UNREACHABLE')` when
 * `root` is not a directory.
 */
export async function scanSource(
  root: string,
  options: {
    maxDepth?: number;
    limits?: TemplateLimits;
    onProgress?: (p: ScanProgress) => void;
  } = {},
): Promise<{ templates: LoadedTemplate[]; problems: ScanProblem[] }> {
  const abs = path.resolve(root);
  const s = await stat(abs).catch(() => undefined);
  if (!s?.isDirectory()) {
    throw new AppError(
      'unavailable',
      'TEMPLATE_SOURCE.UNREACHABLE',
      `template source ${abs}: ${s ? 'not a directory' : 'does not exist'}`,
      { root: abs },
    );
  }
  const { dirs, unreadable } = await findTemplateDirs(abs, options.maxDepth ?? 4);
  const templates: LoadedTemplate[] = [];
  const problems: ScanProblem[] = [...unreadable];
  const byName = new Map<string, string>();
  options.onProgress?.({ done: 0, total: dirs.length });
  for (const [i, rel] of dirs.entries()) {
    let label = rel;
    try {
      const t = await loadTemplateDir(path.join(abs, rel), options.limits);
      label = t.manifest.name;
      const taken = byName.get(t.manifest.name);
      if (taken === undefined) {
        byName.set(t.manifest.name, rel);
        templates.push(t);
      } else {
        problems.push({
          dir: rel,
          name: t.manifest.name,
          issues: [
            error(
              ISSUE_CODES.DUPLICATE_NAME,
              `name ${t.manifest.name} is already used by the template in ${taken}`,
            ),
          ],
        });
      }
    } catch (e) {
      const details = isAppError(e) ? e.details : undefined;
      const issues = Array.isArray(details?.issues)
        ? (details.issues as ValidationIssue[])
        : [error(ISSUE_CODES.UNREADABLE, errorMessage(e))];
      const name = typeof details?.name === 'string' ? details.name : undefined;
      problems.push(name === undefined ? { dir: rel, issues } : { dir: rel, name, issues });
    }
    options.onProgress?.({ done: i + 1, total: dirs.length, template: label });
  }
  return { templates, problems };
}
