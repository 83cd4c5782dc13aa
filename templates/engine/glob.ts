/**
 * Globs for `files.exclude` and `files.copy`, relative to the template root. Our own small matcher
 * rather than node's `path.matchesGlob`, which prints an ExperimentalWarning on Node 20 and skips
 * dotfiles (`**\/*.png` would miss `.github/logo.png`). Supports `**` (any number of directories),
 * `*`, `?`, `[abc]`, `[!abc]`, `{a,b}`, and `\` to escape.
 */

const REGEX_SPECIALS = /[.*+?^${}()|[\]\\/]/g;

function escapeChar(c: string): string {
  return c.replace(REGEX_SPECIALS, '\\$&');
}

/** Throws an Error naming the problem when the glob is malformed (an unclosed `{`). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  let i = 0;
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const wholeSegment = (i === 0 || glob[i - 1] === '/') && (i + 2 === glob.length || glob[i + 2] === '/');
      if (wholeSegment && i + 2 === glob.length) {
        re += '.*';
        i += 2;
      } else if (wholeSegment) {
        re += '(?:.*/)?';
        i += 3;
      } else {
        re += '[^/]*';
        i += 2;
      }
    } else if (c === '*') {
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '[' && glob.indexOf(']', i + 2) !== -1) {
      const end = glob.indexOf(']', i + 2);
      const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      re += body.startsWith('!') ? `[^/${body.slice(1)}]` : `[${body}]`;
      i = end + 1;
    } else if (c === '{') {
      braces++;
      re += '(?:';
      i++;
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
      i++;
    } else if (c === ',' && braces > 0) {
      re += '|';
      i++;
    } else if (c === '\\' && i + 1 < glob.length) {
      re += escapeChar(glob[i + 1]!);
      i += 2;
    } else {
      re += escapeChar(c);
      i++;
    }
  }
  if (braces > 0) throw new Error(`unclosed "{" in ${glob}`);
  return new RegExp(`^${re}$`, 'u');
}

/** A compiled set of globs: `matches(p)` when `p` or one of its parent directories matches one. */
export function compileGlobs(globs: readonly string[]): { matches: (relPath: string) => boolean } {
  const res = globs.map(globToRegExp);
  return {
    matches: (relPath) => {
      if (res.length === 0) return false;
      // A parent matching means the whole directory is meant: `build` covers build/x.js.
      const parts = relPath.split('/');
      for (let n = 1; n <= parts.length; n++) {
        const prefix = parts.slice(0, n).join('/');
        if (res.some((re) => re.test(prefix))) return true;
      }
      return false;
    },
  };
}
