/** Types of what the TypeScript side uses of render-core.mjs (the sandboxed child uses the rest). */

/** Names a template may never reach, as a variable or a member (see render-core.mjs). */
export declare const FORBIDDEN_NAMES: readonly string[];
/** Names a template may never reach as a member: FORBIDDEN_NAMES and caller, callee, arguments. */
export declare const FORBIDDEN_MEMBER_NAMES: readonly string[];

/** The nunjucks options every render and every parse uses. */
export declare const NUNJUCKS_OPTIONS: Readonly<{
  autoescape: false;
  throwOnUndefined: true;
  trimBlocks: true;
  lstripBlocks: true;
}>;

export declare function words(input: unknown): string[];
export declare function camelCase(input: unknown): string;
export declare function pascalCase(input: unknown): string;
export declare function kebabCase(input: unknown): string;
export declare function snakeCase(input: unknown): string;
export declare function constantCase(input: unknown): string;
