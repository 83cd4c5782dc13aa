import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isBinary } from 'istextorbinary';
import { COMPLEXITY_TOOL, isComplexityCandidate, measureComplexity } from './complexity.ts';
import { languageOf } from './languages.ts';
import { countLines, type LineCounts } from './line-counts.ts';
import { type FoundFile, findFiles, throwIfAborted } from './walk.ts';

export interface LanguageStats {
  language: string;
  files: number;
  lines: number;
  code: number;
  blank: number;
  comment: number;
  bytes: number;
}

export interface FunctionComplexity {
  /** Relative to the analysed directory, `/`-separated. */
  file: string;
  /** The function's identifier, or `<arrow function>`, `<class field initializer>`… when it has none. */
  name: string;
  line: number;
  complexity: number;
}

export interface AnalysisReport {
  totals: { files: number; lines: number; code: number; blank: number; comment: number; bytes: number };
  /** Sorted by lines, most first, then by name. */
  languages: LanguageStats[];
  complexity: {
    tool: string;
    /** JS/TS files whose complexity was measured (those that parsed). */
    files: number;
    functions: number;
    total: number;
    /** Mean complexity per function, two decimals; 0 when there is no function. */
    average: number;
    max: number;
    /** The ten most complex functions, most complex first (ties by file, then line). */
    top: FunctionComplexity[];
    parseErrors: Array<{ file: string; message: string }>;
  };
  skipped: { binary: number; tooLarge: number; unknownLanguage: number };
}

export interface AnalyzeOptions {
  /** More files than this fails the analysis with ANALYSIS.TOO_MANY_FILES. Default 20 000. */
  maxFiles?: number;
  /** Larger files are counted as `tooLarge` and never read. Default 1 MiB. */
  maxFileBytes?: number;
  /** Called with (0, total) once the files are listed, then after each file. */
  onProgress?: (done: number, total: number) => void;
  /** Checked between files: an aborted analysis throws (AppError 'timeout', ANALYSIS.ABORTED). */
  signal?: AbortSignal;
}

const DEFAULT_MAX_FILES = 20_000;
const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
const TOP_FUNCTIONS = 10;
/**
 * Reading is asynchronous but counting and ESLint are not: yield after every file ESLint parsed
 * (tens of milliseconds each) and every few others, so a server stays responsive meanwhile.
 */
const YIELD_EVERY_FILES = 8;
/** Git's test for binary content: a NUL byte in the first 8000 bytes. */
const BINARY_SNIFF_BYTES = 8000;

// O_NOFOLLOW: a file swapped for a link after the walk is still not followed. O_NONBLOCK: one
// swapped for a FIFO cannot hang the read (fstat then shows it is no regular file).
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

type FileContent = { kind: 'gone' } | { kind: 'tooLarge' } | { kind: 'read'; buffer: Buffer; size: number };

async function readWithin(path: string, maxBytes: number): Promise<FileContent> {
  const handle = await open(path, OPEN_FLAGS).catch((e: NodeJS.ErrnoException) => {
    // Deleted or replaced by a link since the walk listed it.
    if (e.code === 'ENOENT' || e.code === 'ELOOP') return undefined;
    throw e;
  });
  if (!handle) return { kind: 'gone' };
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { kind: 'gone' };
    if (info.size > maxBytes) return { kind: 'tooLarge' };
    const buffer = await handle.readFile();
    return { kind: 'read', buffer, size: buffer.length };
  } finally {
    await handle.close();
  }
}

function looksBinary(name: string, buffer: Buffer): boolean {
  return isBinary(name, buffer) === true || buffer.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

function byComplexity(a: FunctionComplexity, b: FunctionComplexity): number {
  if (a.complexity !== b.complexity) return b.complexity - a.complexity;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line;
}

/** What the files seen so far add up to. */
interface Tally {
  languages: Map<string, LanguageStats>;
  skipped: AnalysisReport['skipped'];
  functions: FunctionComplexity[];
  parseErrors: AnalysisReport['complexity']['parseErrors'];
  measuredFiles: number;
}

function addLines(tally: Tally, language: string, counts: LineCounts, bytes: number): void {
  let stats = tally.languages.get(language);
  if (!stats) {
    stats = { language, files: 0, lines: 0, code: 0, blank: 0, comment: 0, bytes: 0 };
    tally.languages.set(language, stats);
  }
  stats.files++;
  stats.lines += counts.lines;
  stats.code += counts.code;
  stats.blank += counts.blank;
  stats.comment += counts.comment;
  stats.bytes += bytes;
}

async function addComplexity(tally: Tally, file: FoundFile, text: string): Promise<void> {
  const result = await measureComplexity(text, file.path);
  if (result.ok) {
    tally.measuredFiles++;
    for (const f of result.functions) tally.functions.push({ file: file.relative, ...f });
  } else {
    const where = result.line === undefined ? '' : ` (line ${result.line})`;
    tally.parseErrors.push({ file: file.relative, message: `${result.message}${where}` });
  }
}

/** Order of the checks: size first, so a huge file is never read; binary before language, so a PNG is binary. */
async function addFile(tally: Tally, file: FoundFile, maxFileBytes: number): Promise<void> {
  const content = await readWithin(file.path, maxFileBytes);
  if (content.kind === 'gone') return;
  if (content.kind === 'tooLarge') {
    tally.skipped.tooLarge++;
    return;
  }
  const name = basename(file.path);
  const language = languageOf(name);
  if (looksBinary(name, content.buffer)) tally.skipped.binary++;
  else if (!language) tally.skipped.unknownLanguage++;
  else {
    const text = content.buffer.toString('utf8').replace(/^\uFEFF/, '');
    addLines(tally, language, countLines(text, language), content.size);
    if (isComplexityCandidate(name)) {
      await addComplexity(tally, file, text);
      await yieldToEventLoop();
    }
  }
}

function report(tally: Tally): AnalysisReport {
  const languages = [...tally.languages.values()].sort((a, b) =>
    a.lines !== b.lines ? b.lines - a.lines : a.language < b.language ? -1 : a.language > b.language ? 1 : 0,
  );
  const totals = { files: 0, lines: 0, code: 0, blank: 0, comment: 0, bytes: 0 };
  for (const l of languages) {
    totals.files += l.files;
    totals.lines += l.lines;
    totals.code += l.code;
    totals.blank += l.blank;
    totals.comment += l.comment;
    totals.bytes += l.bytes;
  }
  const { functions } = tally;
  const total = functions.reduce((sum, f) => sum + f.complexity, 0);
  return {
    totals,
    languages,
    complexity: {
      tool: COMPLEXITY_TOOL,
      files: tally.measuredFiles,
      functions: functions.length,
      total,
      average: functions.length === 0 ? 0 : Math.round((total / functions.length) * 100) / 100,
      max: functions.reduce((max, f) => Math.max(max, f.complexity), 0),
      top: functions.sort(byComplexity).slice(0, TOP_FUNCTIONS),
      parseErrors: tally.parseErrors,
    },
    skipped: tally.skipped,
  };
}

/**
 * Lines of code by language (Linguist's language names) and cyclomatic complexity of JS/TS
 * functions (ESLint's `complexity` rule) for a directory or a single file. `dir` must be an
 * absolute path the caller has already confined to the workspace; symbolic links below it are
 * not followed. A file that does not parse is reported in `parseErrors` and does not fail the
 * analysis; more than `maxFiles` files does (AppError validation, ANALYSIS.TOO_MANY_FILES).
 */
export async function analyzeCode(dir: string, options: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const files = await findFiles(dir, {
    maxFiles: options.maxFiles ?? DEFAULT_MAX_FILES,
    signal: options.signal,
  });
  options.onProgress?.(0, files.length);

  const tally: Tally = {
    languages: new Map(),
    skipped: { binary: 0, tooLarge: 0, unknownLanguage: 0 },
    functions: [],
    parseErrors: [],
    measuredFiles: 0,
  };
  for (const [index, file] of files.entries()) {
    throwIfAborted(options.signal);
    if (index > 0 && index % YIELD_EVERY_FILES === 0) await yieldToEventLoop();
    await addFile(tally, file, maxFileBytes);
    options.onProgress?.(index + 1, files.length);
  }
  return report(tally);
}
