import { createRequire } from 'node:module';
import { extname } from 'node:path';
import type { Linter } from 'eslint';

/** One function as ESLint's `complexity` rule measured it. */
export interface MeasuredFunction {
  /** The identifier (`f`, `#field`, `'str key'` without quotes), or `<arrow function>` etc. when anonymous. */
  name: string;
  line: number;
  complexity: number;
}

/** A source that does not parse is an answer, not an exception: one bad file must not end an analysis. */
export type ComplexityResult =
  | { ok: true; functions: MeasuredFunction[] }
  | { ok: false; message: string; line?: number };

/** The files ESLint's TypeScript parser reads; JSX is decided by the parser from the extension. */
const COMPLEXITY_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.jsx', '.ts', '.tsx', '.mts', '.cts']);

/** Whether `measureComplexity` applies to a file, by its extension. */
export function isComplexityCandidate(fileName: string): boolean {
  return COMPLEXITY_EXTENSIONS.has(extname(fileName).toLowerCase());
}

const eslintVersion = (createRequire(import.meta.url)('eslint/package.json') as { version: string }).version;

/** Names the measuring tool in reports, so figures can be compared only with like figures. */
export const COMPLEXITY_TOOL = `eslint ${eslintVersion} complexity rule (cyclomatic)`;

interface Engine {
  linter: Linter;
  config: Linter.Config[];
}

let engine: Promise<Engine> | undefined;

/**
 * ESLint and the TypeScript parser take half a second to load; only an analysis that meets a
 * JS/TS file pays for it, once per process.
 */
function loadEngine(): Promise<Engine> {
  engine ??= (async () => {
    const [{ Linter }, tsParser] = await Promise.all([import('eslint'), import('@typescript-eslint/parser')]);
    return {
      linter: new Linter({ configType: 'flat' }),
      config: [
        {
          // A wildcard-only `files` does not count as a match in flat config; name the extensions.
          files: ['**/*.{js,mjs,cjs,jsx,ts,tsx,mts,cts}'],
          // The analysed code's own `eslint-disable` comments must not switch the measurement off.
          linterOptions: { noInlineConfig: true, reportUnusedDisableDirectives: 'off' },
          languageOptions: {
            parser: tsParser,
            // `lib: []`: no built-in type globals to declare; complexity never looks them up, and
            // declaring them costs about a third of each parse.
            parserOptions: { ecmaFeatures: { jsx: true }, lib: [] },
          },
          // max 0 makes the rule report every function with its complexity.
          rules: { complexity: ['warn', { max: 0 }] },
        },
      ],
    };
  })();
  // A failed load (a broken install) is retried next time instead of being cached.
  engine.catch(() => {
    engine = undefined;
  });
  return engine;
}

// The rule's message template is "{{name}} has a complexity of {{complexity}}. Maximum allowed is
// {{max}}."; LintMessage carries no `data`, so the text is the only structured output there is.
const COMPLEX_MESSAGE = /^(.+) has a complexity of (\d+)\. Maximum allowed is \d+\.$/;

/** `Function 'f'` → `f`; `Private method #p` → `#p`; `Arrow function` → `<arrow function>`. */
function functionName(described: string): string {
  const quoted = /'(.*)'$/.exec(described);
  if (quoted) return quoted[1]!;
  const privateName = /(#\S+)$/.exec(described);
  if (privateName) return privateName[1]!;
  return `<${described.toLowerCase()}>`;
}

/**
 * Cyclomatic complexity of every function in one JS/TS source (classic variant: each `if`,
 * loop, `case`, `catch`, `?:`, `&&`/`||`/`??`, default parameter and optional chain adds one).
 * A source that does not parse comes back as `ok: false` with the parser's message.
 */
export async function measureComplexity(code: string, fileName: string): Promise<ComplexityResult> {
  const { linter, config } = await loadEngine();
  // A neutral name keeps ESLint's default ignores (node_modules, dot folders) out of the way;
  // only the extension matters, for the parser's JSX and TypeScript decisions.
  const filename = `source${extname(fileName).toLowerCase()}`;
  let messages: Linter.LintMessage[];
  try {
    messages = linter.verify(code, config, { filename });
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  const functions: MeasuredFunction[] = [];
  for (const m of messages) {
    if (m.fatal) return { ok: false, message: m.message, line: m.line };
    // Other messages are ESLint's remarks on the source's own directive comments; not ours to judge.
    if (m.ruleId !== 'complexity') continue;
    const match = COMPLEX_MESSAGE.exec(m.message);
    if (!match) return { ok: false, message: `unexpected ESLint message: ${m.message}`, line: m.line };
    functions.push({ name: functionName(match[1]!), line: m.line, complexity: Number(match[2]) });
  }
  return { ok: true, functions };
}
