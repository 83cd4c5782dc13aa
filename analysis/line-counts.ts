/** Per-file line counts; `code + blank + comment === lines`. */
export interface LineCounts {
  lines: number;
  code: number;
  blank: number;
  comment: number;
}

interface CommentSyntax {
  line: readonly string[];
  /** Start and end markers; checked before line markers so Lua's `--[[` is not read as `--`. */
  block: ReadonlyArray<readonly [string, string]>;
}

const C_STYLE: CommentSyntax = { line: ['//'], block: [['/*', '*/']] };
const HASH: CommentSyntax = { line: ['#'], block: [] };
const MARKUP: CommentSyntax = { line: [], block: [['<!--', '-->']] };
const SQL: CommentSyntax = { line: ['--'], block: [['/*', '*/']] };

const family = (syntax: CommentSyntax, names: string[]) => names.map((n) => [n, syntax] as const);

/**
 * Comment markers by Linguist language name. Deliberately a short table of what repositories
 * actually hold: a language missing here has every non-blank line counted as code, which is
 * wrong in one known direction rather than guessed.
 */
const SYNTAX = new Map<string, CommentSyntax>([
  ...family(C_STYLE, [
    'C',
    'C++',
    'C#',
    'Objective-C',
    'Objective-C++',
    'Java',
    'JavaScript',
    'TypeScript',
    'TSX',
    'Go',
    'Rust',
    'Swift',
    'Kotlin',
    'Scala',
    'Dart',
    'Groovy',
    'Gradle',
    'JSON with Comments',
    'JSON5',
    'SCSS',
    'Less',
    'Protocol Buffer',
    'Solidity',
    'Zig',
    'GLSL',
    'Cuda',
    'Apex',
    'Jsonnet',
  ]),
  ...family(HASH, [
    'Shell',
    'Python',
    'YAML',
    'Ruby',
    'TOML',
    'Dockerfile',
    'Perl',
    'R',
    'Makefile',
    'Dotenv',
    'Ignore List',
    'CMake',
    'Elixir',
    'Nix',
    'Starlark',
    'Julia',
    'Tcl',
    'GraphQL',
    'Git Config',
    'Crystal',
    'Nim',
    'Awk',
  ]),
  ...family(MARKUP, ['HTML', 'XML', 'Markdown', 'SVG', 'Vue', 'XSLT', 'XML Property List']),
  ...family(SQL, ['SQL', 'PLSQL', 'PLpgSQL', 'TSQL', 'SQLPL']),
  ['CSS', { line: [], block: [['/*', '*/']] }],
  ['PHP', { line: ['//', '#'], block: [['/*', '*/']] }],
  ['HCL', { line: ['#', '//'], block: [['/*', '*/']] }],
  ['PowerShell', { line: ['#'], block: [['<#', '#>']] }],
  ['INI', { line: [';', '#'], block: [] }],
  ['EditorConfig', { line: [';', '#'], block: [] }],
  ['Lua', { line: ['--'], block: [['--[[', ']]']] }],
  ['Haskell', { line: ['--'], block: [['{-', '-}']] }],
  ['Elm', { line: ['--'], block: [['{-', '-}']] }],
  ['Erlang', { line: ['%'], block: [] }],
  ['TeX', { line: ['%'], block: [] }],
  ['Clojure', { line: [';'], block: [] }],
  ['Emacs Lisp', { line: [';'], block: [] }],
  ['Vim Script', { line: ['"'], block: [] }],
]);

const NO_COMMENTS: CommentSyntax = { line: [], block: [] };

interface CommentStart {
  at: number;
  start: string;
  /** Set for a block comment: the marker that closes it. */
  blockEnd: string | undefined;
}

/**
 * Where the next comment starts at or after `from`: a block (with its end marker) or a line
 * comment. Markers inside string literals are not told apart — counts are an estimate, as in cloc.
 */
function nextComment(text: string, from: number, syntax: CommentSyntax): CommentStart | undefined {
  let best: CommentStart | undefined;
  for (const [start, end] of syntax.block) {
    const at = text.indexOf(start, from);
    if (at !== -1 && (!best || at < best.at)) best = { at, start, blockEnd: end };
  }
  for (const marker of syntax.line) {
    const at = text.indexOf(marker, from);
    // On a tie the block wins: it was found first and `--[[` must not be cut to `--`.
    if (at !== -1 && (!best || at < best.at)) best = { at, start: marker, blockEnd: undefined };
  }
  return best;
}

/**
 * Counts lines as cloc does: a whitespace-only line is blank (also inside a block comment), a line
 * holding only comments is a comment line, any other line is code. A trailing newline does not
 * start a further line.
 */
export function countLines(text: string, language: string): LineCounts {
  const syntax = SYNTAX.get(language) ?? NO_COMMENTS;
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  const counts: LineCounts = { lines: lines.length, code: 0, blank: 0, comment: 0 };
  let openBlockEnd: string | undefined;

  for (const line of lines) {
    if (line.trim() === '') {
      counts.blank++;
      continue;
    }
    let hasCode = false;
    let pos = 0;
    while (pos < line.length) {
      if (openBlockEnd !== undefined) {
        const end = line.indexOf(openBlockEnd, pos);
        if (end === -1) break;
        pos = end + openBlockEnd.length;
        openBlockEnd = undefined;
        continue;
      }
      const comment = nextComment(line, pos, syntax);
      const codeEnd = comment?.at ?? line.length;
      if (line.slice(pos, codeEnd).trim() !== '') hasCode = true;
      if (!comment || comment.blockEnd === undefined) break;
      pos = comment.at + comment.start.length;
      openBlockEnd = comment.blockEnd;
    }
    if (hasCode) counts.code++;
    else counts.comment++;
  }
  return counts;
}
