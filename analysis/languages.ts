import type { Language } from 'linguist-languages';
import * as linguist from 'linguist-languages';

/**
 * Linguist maps many extensions to several languages and settles them with content heuristics;
 * we only look at names, so ambiguous extensions go to the language most repositories mean. The
 * list is Linguist's own `popular.yml` plus the data and prose formats every repository holds;
 * earlier entries win (`.h` is C before C++ and Objective-C).
 */
const PREFERRED: readonly string[] = [
  'C',
  'TypeScript',
  'TSX',
  'JavaScript',
  'Python',
  'Java',
  'Go',
  'Rust',
  'Ruby',
  'PHP',
  'Perl',
  'Shell',
  'C#',
  'C++',
  'Objective-C',
  'Kotlin',
  'Swift',
  'Scala',
  'Groovy',
  'Dart',
  'Elixir',
  'PowerShell',
  'CoffeeScript',
  'CSS',
  'HTML',
  'Markdown',
  'JSON',
  'YAML',
  'TOML',
  'INI',
  'XML',
  'SQL',
  'Text',
];

const TYPE_RANK: Readonly<Record<string, number>> = { programming: 0, markup: 1, prose: 2, data: 3 };

interface NameTables {
  byExtension: Map<string, string>;
  byFilename: Map<string, string>;
}

let tables: NameTables | undefined;

/** Lower rank wins: preferred list, then programming languages, then the language's primary extension. */
function rank(language: Language, extension: string | undefined): [number, number, number] {
  const preferred = PREFERRED.indexOf(language.name);
  const primary = extension !== undefined && language.extensions?.[0]?.toLowerCase() === extension ? 0 : 1;
  return [
    preferred === -1 ? PREFERRED.length : preferred,
    TYPE_RANK[language.type] ?? TYPE_RANK.data!,
    primary,
  ];
}

function better(a: Language, b: Language, extension: string | undefined): boolean {
  const ra = rank(a, extension);
  const rb = rank(b, extension);
  for (let i = 0; i < ra.length; i++) {
    if (ra[i] !== rb[i]) return ra[i]! < rb[i]!;
  }
  return a.name < b.name;
}

function claim(map: Map<string, Language>, key: string, language: Language, extension?: string): void {
  const current = map.get(key);
  if (!current || better(language, current, extension)) map.set(key, language);
}

/** Built on first use: the data is ~800 languages and most processes never analyse code. */
function nameTables(): NameTables {
  if (tables) return tables;
  const extensions = new Map<string, Language>();
  const filenames = new Map<string, Language>();
  for (const language of Object.values(linguist) as Language[]) {
    for (const ext of language.extensions ?? []) {
      const key = ext.toLowerCase();
      claim(extensions, key, language, key);
    }
    for (const name of language.filenames ?? []) claim(filenames, name, language);
  }
  const names = (m: Map<string, Language>) => new Map([...m].map(([k, l]) => [k, l.name as string]));
  tables = { byExtension: names(extensions), byFilename: names(filenames) };
  return tables;
}

/**
 * The Linguist language of a file, from its base name alone: an exact file name (`Dockerfile`,
 * `CMakeLists.txt`) first, then the longest known extension (`.blade.php` before `.php`),
 * case-insensitively as Linguist does. `undefined` when Linguist knows neither.
 */
export function languageOf(baseName: string): string | undefined {
  const { byExtension, byFilename } = nameTables();
  const exact = byFilename.get(baseName);
  if (exact) return exact;
  const lower = baseName.toLowerCase();
  // A leading dot makes a hidden file, not an extension: `.env` is a name, `.env.local` ends in `.local`.
  for (let dot = lower.indexOf('.', 1); dot !== -1; dot = lower.indexOf('.', dot + 1)) {
    const language = byExtension.get(lower.slice(dot));
    if (language) return language;
  }
  return undefined;
}
