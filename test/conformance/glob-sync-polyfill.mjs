// fs.globSync for Node 20 (it arrived in Node 22). Load it first: `node --import <this file> …`.
//
// @modelcontextprotocol/conformance does `import { globSync } from 'fs'`, a named import that Node 20
// refuses at link time, before any of its code runs. The names of a builtin's ES module facade are
// fixed when the facade is first built, so the property must be on the fs object before anything
// imports or requires 'fs' — which is why fs is reached here through process.getBuiltinModule
// (which does not build the facade) and not through `import` or `require`.
//
// The CLI calls it once, as globSync('**/checks.json', { cwd }) (in tier-check). This supports what
// such patterns need: a relative pattern (or an array of them) of '/'-separated segments where `**`
// is any number of directories and `*` / `?` match within one segment, and the `cwd` option (string
// or file URL). Results are paths relative to cwd, with the platform separator, files and
// directories alike, symlinked directories not descended into. Anything else (braces, character
// classes, absolute patterns, other options) throws instead of answering wrongly.

const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');
const { fileURLToPath } = process.getBuiltinModule('node:url');

if (typeof fs.globSync !== 'function') {
  fs.globSync = function globSync(pattern, options = {}) {
    const patterns = Array.isArray(pattern) ? pattern : [pattern];
    for (const key of Object.keys(options)) {
      if (key !== 'cwd') throw new TypeError(`globSync polyfill: option '${key}' is not supported`);
    }
    const cwd =
      options.cwd === undefined
        ? process.cwd()
        : options.cwd instanceof URL
          ? fileURLToPath(options.cwd)
          : String(options.cwd);
    const regexps = patterns.map(toRegExp);
    const found = [];
    walk(cwd, '', (relative) => {
      if (regexps.some((re) => re.test(relative))) found.push(relative.split('/').join(path.sep));
    });
    return found;
  };
}

// Verify the named import works now; it does not if 'fs' was imported before this file ran.
const namespace = await import('node:fs');
if (typeof namespace.globSync !== 'function') {
  throw new Error(
    'globSync polyfill: fs was loaded before the polyfill; pass --import for it first on the command line',
  );
}

/** @param {string} pattern */
function toRegExp(pattern) {
  if (typeof pattern !== 'string' || pattern === '') throw new TypeError('globSync polyfill: bad pattern');
  if (path.isAbsolute(pattern) || /[{}[\]]/.test(pattern)) {
    throw new TypeError(`globSync polyfill: pattern '${pattern}' is not supported`);
  }
  const segments = pattern.split('/');
  let source = '';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') {
      // 'a/**' matches a and everything below it; '**/x' matches x at any depth.
      if (!last) source += '(?:[^/]+/)*';
      else if (source.endsWith('/')) source = `${source.slice(0, -1)}(?:/.*)?`;
      else source += '.*';
      return;
    }
    source += segment
      .replace(/[.+^$()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]');
    if (!last) source += '/';
  });
  return new RegExp(`^${source}$`);
}

/**
 * @param {string} root
 * @param {string} relative '/'-separated, '' for the root itself
 * @param {(relative: string) => void} visit
 */
function walk(root, relative, visit) {
  let entries;
  try {
    entries = fs.readdirSync(path.join(root, relative), { withFileTypes: true });
  } catch (error) {
    if (relative === '' || error.code === 'ENOENT' || error.code === 'EACCES') return;
    throw error;
  }
  for (const entry of entries) {
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
    visit(child);
    if (entry.isDirectory()) walk(root, child, visit);
  }
}
