import { REDACTED } from './secrets.ts';

/**
 * Tool-call arguments go to an append-only log and stay there, so redaction errs on the side of
 * hiding: a false positive costs an auditor one value, a false negative keeps a credential forever.
 * Four independent nets, any one of which hides a value:
 *  1. key names that name a credential (`isSecretName`, plus configured patterns);
 *  2. credential shapes inside any string (tokens, JWTs, `Bearer …`, URL userinfo, PEM keys,
 *     `password=…` / `Authorization: …` text) — only the secret part is replaced;
 *  3. name/value pairs (`{ name: 'Authorization', value: … }`, env and header lists);
 *  4. the tool's input schema (`writeOnly: true`, `format: 'password'`).
 */

/** Deeper than this, values are replaced rather than walked (a hostile body must not blow the stack). */
const MAX_DEPTH = 64;
/** More values than this are not walked: the rest of an array or object becomes one marker. */
const MAX_NODES = 10_000;
/** Schemas considered for one value ($ref, allOf, anyOf, oneOf included): a bound, not a limit in practice. */
const MAX_SCHEMAS = 32;

export const TOO_DEEP = '[redacted: nested too deep]' as const;
/** Ends an array, or is the key and value closing an object, once MAX_NODES values were walked. */
export const TOO_LARGE = '[redacted: too many values]' as const;

/** A key-name pattern from configuration: strings are case-insensitive regular expressions. */
export type RedactionPattern = RegExp | string;

export interface RedactionOptions {
  /** More key names to hide, on top of the built-in ones (which cannot be turned off). */
  readonly patterns?: readonly RedactionPattern[];
  /** The tool's MCP `inputSchema`: properties marked `writeOnly: true` or `format: "password"` are hidden. */
  readonly inputSchema?: unknown;
}

// Found anywhere in the name once lower-cased and stripped of separators (`DB_PASSWORD`,
// `dbpassword`, `x-api-key`, `refreshToken`). `token` costs `max_tokens` and `tokenizer`, `secret`
// costs `secretary`: accepted.
const SECRET_SUBSTRINGS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'passcode',
  'secret',
  'credential',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'privkey',
  'authkey',
  'signingkey',
  'encryptionkey',
  'masterkey',
  'sshkey',
  'sessionid',
  'sessionkey',
  'cookie',
  'authorization',
  'bearer',
  'jwt',
  'csrf',
  'xsrf',
  'signature',
  'pincode',
  'mnemonic',
];
// Whole words only (camelCase, snake_case, kebab-case and digits split): as substrings they would
// hide `author`, `passage`, `keyword`, `monkey`, `spinner`. `key` alone is a credential word
// (`{ key: 'sk-…' }`) and costs `sortKey` or `primaryKey`; `keys` is not — it names fields —, but
// `apiKeys` still is. `pin` and `otp` are secrets; `private` (a repository's visibility) and `ssn`
// (personal data, not a credential: configure a pattern) are not.
const SECRET_WORDS: ReadonlySet<string> = new Set([
  'auth',
  'oauth',
  'pass',
  'pw',
  'pwd',
  'pin',
  'otp',
  'totp',
  'hotp',
  'key',
  'session',
  'sig',
  'pat',
  'creds',
]);

/** `HTTPAuthToken` → http, auth, token; `X-API-KEY` → x, api, key; `oauth2` → oauth, 2. */
function nameWords(name: string): string[] {
  return (name.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? []).map((w) => w.toLowerCase());
}

/** True when a key, header or variable name names a credential (the built-in rules, case-insensitive). */
export function isSecretName(name: string): boolean {
  const compact = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return (
    SECRET_SUBSTRINGS.some((w) => compact.includes(w)) || nameWords(name).some((w) => SECRET_WORDS.has(w))
  );
}

// ---------------------------------------------------------------------------------------------
// Credential shapes inside strings. Arguments come from callers who may be hostile: every scan is
// linear in the string (checked on 1 MB adversarial strings), none rescans a run from each of its
// characters.

const PEM_PRIVATE_KEY =
  /-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|$)/g;
// Three to five base64url segments whose first one starts like base64 of `{`; the header is
// decoded and must be JSON with an `alg` (so `eyebrow.example.com` is kept).
const JWT_LIKE =
  /(?<![A-Za-z0-9_-])(e[wy][A-Za-z0-9_-]{6,})\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+){0,2}/g;
const PREFIXED_TOKEN = new RegExp(
  [
    'gh[pousr]_[A-Za-z0-9]{20,}', // GitHub: personal, OAuth, user-to-server, server-to-server, refresh
    'github_pat_[A-Za-z0-9_]{20,}',
    'glpat-[A-Za-z0-9_-]{20,}', // GitLab
    'xox[abprs]-[A-Za-z0-9-]{8,}', // Slack
    'xapp-[A-Za-z0-9-]{8,}',
    'AIza[0-9A-Za-z_-]{30,}', // Google API key
    '[rs]k_(?:live|test)_[0-9A-Za-z]{8,}', // Stripe
    'whsec_[0-9A-Za-z]{20,}',
    'npm_[A-Za-z0-9]{30,}',
    'sy_[a-z0-9]{16}_[A-Za-z0-9_-]{20,}', // Switchyard API key (kernel/api-keys.ts)
    '(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}', // OpenAI, Anthropic
    '(?:AKIA|ASIA)[A-Z0-9]{16,}', // AWS access key id
  ].join('|'),
  'g',
);
const BEARER = /\b(bearer\s+)[A-Za-z0-9._~+/-]+=*/gi;
// `Basic <base64>` is hidden only when it decodes to `user:pass`: "Basic usage" is prose.
const BASIC = /\b(basic\s+)([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=._~-])/gi;
// `password=…`, `?api_key=…&`, `Authorization: …`, `"token": "…"`: a name, then `=` or `:`. The value
// is found by `valueSpan`, not by the pattern, so a non-secret name costs nothing; a name starts
// only where a run of name characters starts.
const LABEL = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+)["']?[ \t]*([:=])[ \t]*/g;

/** `s` with each match replaced when `replacement` gives a string; a rejected match is retried one character later. */
function replaceAccepted(s: string, re: RegExp, replacement: (m: RegExpExecArray) => string | undefined) {
  let out = '';
  let last = 0;
  re.lastIndex = 0;
  for (;;) {
    const m = re.exec(s);
    if (m === null) break;
    const r = replacement(m);
    if (r === undefined) {
      re.lastIndex = m.index + 1;
      continue;
    }
    out += s.slice(last, m.index) + r;
    last = m.index + m[0].length;
  }
  return last === 0 ? s : out + s.slice(last);
}

/** The first match of `re` (global) at or after a position that only grows: each character is read once. */
function nextMatch(s: string, re: RegExp): (from: number) => number {
  let found = -1;
  return (from) => {
    if (found < from) {
      re.lastIndex = from;
      found = re.exec(s)?.index ?? s.length;
    }
    return found;
  };
}

/**
 * `…://user:pass@host` and `…://token@host` (tokens travel as the user name too) become
 * `…://[redacted]@host`. The userinfo is what lies between `://` and the first `@`, without
 * whitespace, and either holds no `/?#` or has its `:` before them (a password may hold an unescaped
 * `/`: the price is that `https://host:8080/@alice` loses `host:8080/`). Written by hand: a regex
 * for it rescans the rest of the string from every `://` or every dot.
 */
function redactUserinfo(s: string): string {
  let i = s.indexOf('://');
  if (i === -1) return s;
  const at = nextMatch(s, /@/g);
  const space = nextMatch(s, /\s/g);
  const colon = nextMatch(s, /:/g);
  const pathStart = nextMatch(s, /[/?#]/g);
  let out = '';
  let last = 0;
  while (i !== -1) {
    const from = i + 3;
    const end = at(from);
    if (end > from && end < space(from) && (pathStart(from) > end || colon(from) < pathStart(from))) {
      out += s.slice(last, from) + REDACTED;
      last = end;
      i = s.indexOf('://', end);
    } else {
      i = s.indexOf('://', i + 1);
    }
  }
  return out + s.slice(last);
}

function decodesToJwtHeader(segment: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && Object.hasOwn(header, 'alg');
  } catch {
    return false;
  }
}

function decodesToUserPass(b64: string): boolean {
  const text = Buffer.from(b64, 'base64').toString('utf8');
  if (!text.includes(':')) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0xfffd) return false;
  }
  return true;
}

/** Where the value after a `name=` / `name:` starting at `start` lies (quotes excluded). */
function valueSpan(s: string, start: number, colon: boolean): [number, number] {
  const q = s[start];
  if (q === '"' || q === "'") {
    let i = start + 1;
    while (i < s.length && s[i] !== q && s[i] !== '\n' && s[i] !== '\r') i += s[i] === '\\' ? 2 : 1;
    return [start + 1, Math.min(i, s.length)];
  }
  // `Name: value` runs to the end of the line (headers, YAML); `name=value` to the next delimiter
  // (query strings, env lines, connection strings). `[` and `]` are not delimiters: "[redacted]" is
  // one value.
  const end = colon ? /[\r\n]/g : /[\s&;,"'<>]/g;
  end.lastIndex = start;
  const m = end.exec(s);
  return [start, m === null ? s.length : m.index];
}

function redactLabelled(s: string, secretName: (name: string) => boolean): string {
  let out = '';
  let last = 0;
  LABEL.lastIndex = 0;
  for (;;) {
    const m = LABEL.exec(s);
    if (m === null) break;
    if (!secretName(m[1]!)) continue;
    const [from, to] = valueSpan(s, LABEL.lastIndex, m[2] === ':');
    if (to <= from) continue;
    out += s.slice(last, from) + REDACTED;
    last = to;
    LABEL.lastIndex = to;
  }
  return last === 0 ? s : out + s.slice(last);
}

function redactTextOnce(s: string, secretName: (name: string) => boolean): string {
  let t = s.replace(PEM_PRIVATE_KEY, REDACTED);
  t = redactUserinfo(t);
  t = replaceAccepted(t, JWT_LIKE, (m) => (decodesToJwtHeader(m[1]!) ? REDACTED : undefined));
  t = t.replace(PREFIXED_TOKEN, REDACTED);
  t = t.replace(BEARER, `$1${REDACTED}`);
  t = replaceAccepted(t, BASIC, (m) => (decodesToUserPass(m[2]!) ? m[1] + REDACTED : undefined));
  return redactLabelled(t, secretName);
}

/**
 * Runs to a fixed point (bounded), so that recording a recorded value never changes it: one rule's
 * replacement can uncover a shape that a neighbour glued to it had hidden.
 */
function redactText(s: string, secretName: (name: string) => boolean): string {
  let t = s;
  for (let i = 0; i < 4; i++) {
    const next = redactTextOnce(t, secretName);
    if (next === t) return t;
    t = next;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Schema hints. The schema comes from an upstream server: only own properties are read (a
// `properties` without `constructor` must not answer with Object.prototype's), `$ref` is followed
// inside the document only, `patternProperties` is ignored (an upstream's regex is not run here).

type SchemaNode = Record<string, unknown>;
const NO_SCHEMAS: readonly SchemaNode[] = [];

const isNode = (x: unknown): x is SchemaNode => typeof x === 'object' && x !== null && !Array.isArray(x);
const own = (o: object, k: string): unknown => (Object.hasOwn(o, k) ? (o as SchemaNode)[k] : undefined);

function resolveRef(root: unknown, ref: string): unknown {
  if (ref !== '#' && !ref.startsWith('#/')) return undefined;
  let at: unknown = root;
  for (const raw of ref.split('/').slice(1)) {
    let step: string;
    try {
      step = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    } catch {
      return undefined;
    }
    if (typeof at !== 'object' || at === null) return undefined;
    at = own(at, step);
  }
  return at;
}

/** The schemas and what they defer to ($ref, allOf, anyOf, oneOf: any branch may mark a secret). */
function expand(schemas: readonly SchemaNode[], root: unknown): readonly SchemaNode[] {
  if (schemas.length === 0) return NO_SCHEMAS;
  const out: SchemaNode[] = [];
  const seen = new Set<SchemaNode>();
  const todo = [...schemas];
  while (todo.length > 0 && out.length < MAX_SCHEMAS) {
    const s = todo.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    out.push(s);
    const ref = own(s, '$ref');
    const target = typeof ref === 'string' ? resolveRef(root, ref) : undefined;
    if (isNode(target)) todo.push(target);
    for (const k of ['allOf', 'anyOf', 'oneOf']) {
      const branches = own(s, k);
      if (Array.isArray(branches)) todo.push(...branches.slice(0, MAX_SCHEMAS).filter(isNode));
    }
  }
  return out;
}

function propertySchemas(schemas: readonly SchemaNode[], key: string): SchemaNode[] {
  const out: SchemaNode[] = [];
  for (const s of schemas) {
    const props = own(s, 'properties');
    const extra = own(s, 'additionalProperties');
    const p = isNode(props) && Object.hasOwn(props, key) ? props[key] : extra;
    if (isNode(p)) out.push(p);
  }
  return out;
}

function itemSchemas(schemas: readonly SchemaNode[], index: number): SchemaNode[] {
  const out: SchemaNode[] = [];
  for (const s of schemas) {
    const prefix = own(s, 'prefixItems');
    const items = own(s, 'items');
    let p: unknown = items;
    if (Array.isArray(prefix)) p = index < prefix.length ? prefix[index] : items;
    else if (Array.isArray(items)) p = index < items.length ? items[index] : own(s, 'additionalItems');
    if (isNode(p)) out.push(p);
  }
  return out;
}

const marksSecret = (schemas: readonly SchemaNode[]) =>
  schemas.some((s) => own(s, 'writeOnly') === true || own(s, 'format') === 'password');

// ---------------------------------------------------------------------------------------------

const PAIR_NAME = /^(?:name|key|header)$/i;
const PAIR_VALUE = /^value$/i;

/** A hidden value: `null` and booleans carry no credential and are kept; anything else is replaced whole. */
const hide = (v: unknown): unknown => (v === null || typeof v === 'boolean' ? v : REDACTED);

/** Own data property, even for `__proto__`: assignment would set the copy's prototype instead. */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function compile(patterns: readonly RedactionPattern[]): RegExp[] {
  // Copies without the g/y flags: `test` on those keeps state between calls.
  return patterns.map((p) =>
    typeof p === 'string' ? new RegExp(p, 'i') : new RegExp(p.source, p.flags.replace(/[gy]/g, '')),
  );
}

/**
 * A copy of `args` fit for the append-only log: values under credential names (see
 * `isSecretName`, plus `options.patterns`), values of name/value pairs whose name is one, and
 * properties the tool's `inputSchema` marks `writeOnly` or `format: "password"` become
 * `"[redacted]"` (`null` and booleans kept); in every other string, credential shapes are replaced
 * by `"[redacted]"` in place (a URL keeps its host and path). Keys holding a credential are
 * redacted like strings, and their value hidden.
 *
 * The copy is built from own enumerable data properties only; `__proto__`, `constructor` and
 * `prototype` keys are kept as plain data, never set a prototype. Nesting deeper than 64 levels
 * becomes `TOO_DEEP`, and past 10,000 values the rest becomes `TOO_LARGE`. Redacting twice gives
 * the same result as redacting once. The second parameter may still be the patterns array.
 */
export function redactArguments<T>(args: T, options: RedactionOptions | readonly RedactionPattern[] = {}): T {
  const opts: RedactionOptions = isPatternList(options) ? { patterns: options } : options;
  const inputSchema = opts.inputSchema;
  const extra = compile(opts.patterns ?? []);
  const secretName = (name: string) => isSecretName(name) || extra.some((re) => re.test(name));
  const secretLabel = (label: string) =>
    secretName(label) || label.includes(REDACTED) || redactText(label, secretName) !== label;
  let nodes = 0;

  const walkObject = (v: object, depth: number, schemas: readonly SchemaNode[]): unknown => {
    const entries: [string, unknown][] = [];
    for (const k of Object.keys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (d !== undefined && 'value' in d) entries.push([k, d.value]); // never run a getter
    }
    // `{ name: 'Authorization', value: '…' }`: the name is a label (kept, whatever it says), the
    // value is hidden when the label names a credential.
    const labels = entries.filter(([k, x]) => PAIR_NAME.test(k) && typeof x === 'string');
    const isPair = labels.length > 0 && entries.some(([k]) => PAIR_VALUE.test(k));
    const secretPair = isPair && labels.some(([, x]) => secretLabel(x as string));

    const out: Record<string, unknown> = {};
    for (const [k, x] of entries) {
      if (nodes >= MAX_NODES) {
        setOwn(out, TOO_LARGE, TOO_LARGE);
        break;
      }
      const key = redactText(k, secretName);
      const isLabel = isPair && PAIR_NAME.test(k) && typeof x === 'string';
      const childSchemas = expand(propertySchemas(schemas, k), inputSchema);
      const hidden =
        key.includes(REDACTED) ||
        (secretPair && PAIR_VALUE.test(k)) ||
        (!isLabel && secretName(k)) ||
        marksSecret(childSchemas);
      setOwn(out, key, hidden ? hide(x) : walk(x, depth + 1, childSchemas));
    }
    return out;
  };

  const walk = (v: unknown, depth: number, schemas: readonly SchemaNode[]): unknown => {
    nodes++;
    if (typeof v === 'string') return redactText(v, secretName);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_DEPTH) return TOO_DEEP;
    if (!Array.isArray(v)) return walkObject(v, depth, schemas);
    const out: unknown[] = [];
    for (let i = 0; i < v.length; i++) {
      if (nodes >= MAX_NODES) {
        out.push(TOO_LARGE);
        break;
      }
      const childSchemas = expand(itemSchemas(schemas, i), inputSchema);
      out.push(marksSecret(childSchemas) ? hide(v[i]) : walk(v[i], depth + 1, childSchemas));
    }
    return out;
  };

  return walk(args, 0, isNode(inputSchema) ? expand([inputSchema], inputSchema) : NO_SCHEMAS) as T;
}

function isPatternList(o: RedactionOptions | readonly RedactionPattern[]): o is readonly RedactionPattern[] {
  return Array.isArray(o);
}
