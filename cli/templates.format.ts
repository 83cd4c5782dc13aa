import type { AnalysisReport } from '../analysis/analyze.ts';
import type {
  TemplateDetail,
  TemplateSourceView,
  TemplateSummary,
  TemplateTreeNode,
  TemplateVariableView,
} from '../projections/templates/index.ts';
import type { SyncReport } from '../sagas/template-sync/sync-source.ts';
import type { ValidationIssue } from '../templates/engine/issues.ts';
import { formatTable } from './table.ts';

/**
 * What `switchyard templates …` prints for people. Pure functions from the gateway's answers to
 * text, so the layout is tested without a server; `--json` prints the answers as they came.
 */

/** At most `max` characters on one line: whitespace runs folded, an ellipsis where it was cut. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  return `${flat.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

const DESCRIPTION_WIDTH = 60;

export function formatSearch(templates: readonly TemplateSummary[]): string {
  return formatTable(
    ['NAME', 'VERSION', 'STACK', 'DESCRIPTION', 'TAGS'],
    templates.map((t) => [
      t.name,
      t.version,
      t.stack,
      truncate(t.description, DESCRIPTION_WIDTH),
      t.tags.join(','),
    ]),
  );
}

/** Said instead of an empty table: what was asked, and the likely reason (an unsynced catalog). */
export function formatNoResults(filters: { words: string[]; stack?: string; tag?: string }): string {
  const asked = [
    filters.words.length > 0 ? `"${filters.words.join(' ')}"` : undefined,
    filters.stack === undefined ? undefined : `stack ${filters.stack}`,
    filters.tag === undefined ? undefined : `tag ${filters.tag}`,
  ].filter(Boolean);
  return (
    `no templates${asked.length > 0 ? ` match ${asked.join(', ')}` : ' in the catalog'}\n` +
    'if the catalog is not synced yet, run `switchyard templates sync` (and `switchyard templates sources` to see where templates come from)\n'
  );
}

/** A file tree drawn with box characters, directories first (the gateway sends it sorted). */
export function formatTree(nodes: readonly TemplateTreeNode[], prefix = ''): string {
  let out = '';
  nodes.forEach((node, i) => {
    const last = i === nodes.length - 1;
    const label =
      node.type === 'directory'
        ? `${node.name}/`
        : `${node.name}  ${formatBytes(node.size)}${node.binary ? ', binary' : !node.render ? ', copied' : ''}`;
    out += `${prefix}${last ? '└── ' : '├── '}${label}\n`;
    if (node.type === 'directory') out += formatTree(node.children, `${prefix}${last ? '    ' : '│   '}`);
  });
  return out;
}

const shown = (v: unknown): string =>
  v === undefined ? '' : typeof v === 'string' ? JSON.stringify(v) : String(v);

export function formatDetail(t: TemplateDetail): string {
  const lines = [
    `${t.name} ${t.version}${t.removedAt ? `  (removed ${t.removedAt})` : ''}`,
    ...wrap(t.description.replace(/\s+/g, ' ').trim(), 100).map((l) => `  ${l}`),
    '',
    `stack      ${t.stack}`,
    `tags       ${t.tags.join(', ') || '-'}`,
    `source     ${t.source}${t.commit ? ` @ ${t.commit.slice(0, 12)}` : ''}`,
    `published  ${t.publishedAt}`,
    `content    ${t.contentHash.slice(0, 16)}  (${t.files.length} files, ${formatBytes(t.files.reduce((n, f) => n + f.size, 0))})`,
  ];
  if (t.latestValidation) {
    const v = t.latestValidation;
    lines.push(
      `validated  ${v.ok ? 'ok' : 'not ok'}${v.issues.length > 0 ? `, ${countIssues(v.issues)}` : ''} (${v.validatedAt})`,
    );
  }
  let out = `${lines.join('\n')}\n\nVARIABLES\n`;
  out +=
    t.variables.length === 0
      ? '(none)\n'
      : formatTable(
          ['NAME', 'TYPE', 'DEFAULT', 'REQUIRED', 'DESCRIPTION'],
          // In the order the template's author wrote them.
          t.variables.map((v) => [
            v.name,
            v.enum ? `${v.type} (${v.enum.join('|')})` : v.type,
            v.secret && v.default !== undefined ? '(secret)' : shown(v.default),
            isRequired(v) ? 'yes' : 'no',
            truncate(v.description ?? '', DESCRIPTION_WIDTH),
          ]),
        );
  out += `\nFILES\n${formatTree(t.tree) || '(none)\n'}`;
  out += `\nVERSIONS\n${formatTable(
    ['VERSION', 'PUBLISHED', 'CONTENT', 'SOURCE', 'CURRENT'],
    t.versions.map((v) => [
      v.version,
      v.publishedAt,
      v.contentHash.slice(0, 16),
      v.source,
      v.current ? 'yes' : '',
    ]),
  )}`;
  return out;
}

const isRequired = (v: TemplateVariableView) => v.required === true && v.default === undefined;
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function countIssues(issues: readonly ValidationIssue[]): string {
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return [errors > 0 && plural(errors, 'error'), warnings > 0 && plural(warnings, 'warning')]
    .filter(Boolean)
    .join(', ');
}

/** One issue per line: severity, code, file, message. */
export function formatIssues(issues: readonly ValidationIssue[], indent = '  '): string {
  return issues
    .map((i) => {
      // Messages often name their file already; say it once.
      const message =
        i.file && i.message.startsWith(`${i.file}: `) ? i.message.slice(i.file.length + 2) : i.message;
      return `${indent}${i.severity} ${i.code}${i.file ? ` ${i.file}` : ''}: ${message}\n`;
    })
    .join('');
}

const listed = (names: readonly string[]) => (names.length === 0 ? '-' : names.join(', '));

export function formatSyncReports(reports: readonly SyncReport[]): string {
  if (reports.length === 0)
    return 'no template sources to sync (add one with `switchyard templates add-source`)\n';
  let out = '';
  for (const r of reports) {
    const state = r.error ? 'failed' : r.changed ? 'changed' : 'unchanged';
    out += `${r.source}: ${state}, ${r.templates} template${r.templates === 1 ? '' : 's'} in the catalog${r.commit ? ` (commit ${r.commit.slice(0, 12)})` : ''}, ${r.durationMs} ms\n`;
    if (r.error) out += `  error: ${r.error.message} (${r.error.code})\n`;
    if (r.changed || r.published.length > 0 || r.removed.length > 0) {
      out += `  published: ${listed(r.published)}\n  removed:   ${listed(r.removed)}\n`;
    }
    if (r.rejected.length > 0) {
      out += `  rejected:  ${r.rejected.length}\n`;
      for (const x of r.rejected) {
        out += `    ${x.dir}${x.name && x.name !== x.dir ? ` (${x.name})` : ''}\n${formatIssues(x.issues, '      ')}`;
      }
    }
  }
  return out;
}

/** What `POST /api/v1/projects` answers (the service's generate result). */
export interface GeneratedProject {
  projectId: string;
  template: string;
  version: string;
  /** Relative to the gateway's workspace root. */
  destination: string;
  /** Absolute, on the gateway's machine. */
  path?: string;
  files: Array<{ path: string; size: number }>;
  durationMs: number;
}

export function formatGenerated(p: GeneratedProject): string {
  const bytes = p.files.reduce((n, f) => n + f.size, 0);
  return (
    `generated ${p.template}@${p.version} in ${p.durationMs} ms\n` +
    `project      ${p.projectId}\n` +
    `destination  ${p.destination}${p.path ? `  (${p.path})` : ''}\n` +
    `files        ${p.files.length} (${formatBytes(bytes)})\n`
  );
}

/** What the validate endpoints answer. */
export interface ValidationAnswer {
  validationId: string;
  target:
    | { kind: 'template'; name: string; version: string; contentHash: string }
    | { kind: 'path'; path: string; contentHash: null };
  ok: boolean;
  issues: ValidationIssue[];
  stats?: { files: number; bytes: number };
}

export function formatValidation(v: ValidationAnswer): string {
  const what = v.target.kind === 'template' ? `${v.target.name}@${v.target.version}` : v.target.path;
  const size = v.stats ? ` (${v.stats.files} files, ${formatBytes(v.stats.bytes)})` : '';
  const summary = v.issues.length > 0 ? `: ${countIssues(v.issues)}` : '';
  return `${v.ok ? 'ok' : 'not ok'} ${what}${size}${summary}\n${formatIssues(v.issues)}`;
}

/** What `POST /api/v1/analyses` answers. */
export type AnalysisAnswer = AnalysisReport & {
  analysisId: string;
  path: string;
  projectId: string | null;
  durationMs: number;
};

export function formatAnalysis(a: AnalysisAnswer): string {
  const t = a.totals;
  let out =
    `analysed ${a.path}${a.projectId ? ` (project ${a.projectId})` : ''} in ${a.durationMs} ms: ` +
    `${t.files} files, ${t.lines} lines (${t.code} code, ${t.comment} comment, ${t.blank} blank), ${formatBytes(t.bytes)}\n\n`;
  out +=
    a.languages.length === 0
      ? 'no source files recognised\n'
      : formatTable(
          ['LANGUAGE', 'FILES', 'LINES', 'CODE', 'COMMENT', 'BLANK'],
          a.languages.map((l) => [
            l.language,
            String(l.files),
            String(l.lines),
            String(l.code),
            String(l.comment),
            String(l.blank),
          ]),
        );
  const c = a.complexity;
  out += `\ncomplexity (${c.tool}): ${c.functions} functions in ${c.files} files, average ${c.average}, max ${c.max}\n`;
  if (c.top.length > 0) {
    out += formatTable(
      ['COMPLEXITY', 'FUNCTION', 'WHERE'],
      c.top.map((f) => [String(f.complexity), f.name, `${f.file}:${f.line}`]),
    );
  }
  for (const e of c.parseErrors) out += `  could not parse ${e.file}: ${e.message}\n`;
  const s = a.skipped;
  if (s.binary + s.tooLarge + s.unknownLanguage > 0) {
    out += `skipped: ${s.binary} binary, ${s.tooLarge} too large, ${s.unknownLanguage} of unknown language\n`;
  }
  return out;
}

export function formatSources(sources: readonly TemplateSourceView[]): string {
  if (sources.length === 0) return 'no template sources (add one with `switchyard templates add-source`)\n';
  return formatTable(
    ['NAME', 'KIND', 'LOCATION', 'REF', 'EVERY', 'STATUS', 'TEMPLATES', 'REJECTED', 'LAST SYNC', 'ERROR'],
    sources.map((s) => [
      s.builtIn ? `${s.name} (built-in)` : s.name,
      s.kind,
      truncate(s.location, 50),
      s.ref ?? '',
      s.intervalMs === null ? '' : formatInterval(s.intervalMs),
      s.status,
      String(s.templates.length),
      String(s.rejected.length),
      s.lastSyncedAt ?? 'never',
      s.lastError ? truncate(`${s.lastError} (${s.lastErrorCode ?? '?'})`, 60) : '',
    ]),
  );
}

function formatInterval(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
