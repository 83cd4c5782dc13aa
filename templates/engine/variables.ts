import type { TemplateManifest, TemplateVariable } from '../../domains/templates/manifest.ts';
import { AppError } from '../../kernel/errors.ts';

export type VariableValue = string | number | boolean;

export interface VariableIssue {
  variable: string;
  message: string;
}

const TRUE_WORDS = new Set(['true', 'yes', '1']);
const FALSE_WORDS = new Set(['false', 'no', '0']);

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * Turns a given value into the variable's type. CLIs and query strings only have strings, so a
 * string is read as a number or boolean when the type asks for one; anything else must already be
 * of the type.
 */
function coerce(
  variable: TemplateVariable,
  value: unknown,
  fromString: boolean,
): { value: VariableValue } | { error: string } {
  switch (variable.type) {
    case 'string':
      return typeof value === 'string' ? { value } : { error: `must be a string, got ${describe(value)}` };
    case 'number':
    case 'integer': {
      let n: unknown = value;
      if (fromString && typeof value === 'string' && value.trim() !== '') n = Number(value.trim());
      if (typeof n !== 'number' || !Number.isFinite(n)) {
        return {
          error: `must be ${variable.type === 'integer' ? 'an integer' : 'a number'}, got ${describe(value)}`,
        };
      }
      if (variable.type === 'integer' && !Number.isInteger(n)) {
        return { error: `must be an integer, got ${describe(value)}` };
      }
      return { value: n };
    }
    case 'boolean': {
      if (typeof value === 'boolean') return { value };
      if (fromString && typeof value === 'string') {
        const word = value.trim().toLowerCase();
        if (TRUE_WORDS.has(word)) return { value: true };
        if (FALSE_WORDS.has(word)) return { value: false };
      }
      return { error: `must be true or false, got ${describe(value)}` };
    }
    default: {
      const never: never = variable.type;
      return { error: `has an unknown type ${String(never)}` };
    }
  }
}

/** The checks beyond the type: enum, range, pattern. Undefined when the value fits. */
function constraintError(variable: TemplateVariable, value: VariableValue): string | undefined {
  if (variable.enum && !variable.enum.some((allowed) => allowed === value)) {
    return `must be one of ${variable.enum.map(describe).join(', ')}, got ${describe(value)}`;
  }
  if (typeof value === 'number') {
    if (variable.minimum !== undefined && value < variable.minimum) {
      return `must be at least ${variable.minimum}, got ${value}`;
    }
    if (variable.maximum !== undefined && value > variable.maximum) {
      return `must be at most ${variable.maximum}, got ${value}`;
    }
  }
  // Anchored: a pattern describes the whole value, as in JSON Schema authors' intent for names.
  if (typeof value === 'string' && variable.pattern !== undefined) {
    if (!new RegExp(`^(?:${variable.pattern})$`, 'u').test(value)) {
      return `must match ${variable.pattern}, got ${describe(value)}`;
    }
  }
  return undefined;
}

/**
 * Checks one value against its variable. `fromString` allows "3000" for a number and "yes" for a
 * boolean (user input); a manifest default is typed data and gets no such leniency.
 */
export function checkValue(
  variable: TemplateVariable,
  value: unknown,
  options: { fromString: boolean } = { fromString: true },
): { value: VariableValue } | { error: string } {
  const coerced = coerce(variable, value, options.fromString);
  if ('error' in coerced) return coerced;
  const problem = constraintError(variable, coerced.value);
  return problem === undefined ? coerced : { error: problem };
}

/**
 * The values a template renders with: given values coerced and checked, defaults for the rest.
 * Every problem is reported (not just the first) so a user fixes them in one go. An optional
 * variable neither given nor defaulted is left out, so `{% if x %}` sees it as undefined.
 */
export function resolveVariables(
  manifest: TemplateManifest,
  input: Record<string, unknown>,
): { values: Record<string, VariableValue>; issues: VariableIssue[] } {
  const values: Record<string, VariableValue> = {};
  const issues: VariableIssue[] = [];
  const declared = Object.keys(manifest.variables);
  for (const name of Object.keys(input)) {
    if (!Object.hasOwn(manifest.variables, name) && input[name] !== undefined) {
      issues.push({
        variable: name,
        message: `unknown variable ${name}; declared: ${declared.length > 0 ? declared.join(', ') : 'none'}`,
      });
    }
  }
  for (const [name, variable] of Object.entries(manifest.variables)) {
    const given = Object.hasOwn(input, name) ? input[name] : undefined;
    const value = given ?? variable.default;
    if (value === undefined) {
      if (variable.required) issues.push({ variable: name, message: 'is required' });
      continue;
    }
    const checked = checkValue(variable, value, { fromString: given !== undefined && given !== null });
    if ('error' in checked) {
      issues.push({
        variable: name,
        message: given === undefined ? `default ${checked.error}` : checked.error,
      });
    } else {
      values[name] = checked.value;
    }
  }
  return { values, issues };
}

/**
 * {@link resolveVariables}, throwing `AppError('validation', 'TEMPLATE.INVALID_VARIABLES')` with
 * every problem in one message ("variables: port: must be at least 1, got 0; name: is required").
 */
export function assertVariables(
  manifest: TemplateManifest,
  input: Record<string, unknown>,
): Record<string, VariableValue> {
  const { values, issues } = resolveVariables(manifest, input);
  if (issues.length > 0) {
    throw new AppError(
      'validation',
      'TEMPLATE.INVALID_VARIABLES',
      `variables: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`,
      { issues },
    );
  }
  return values;
}

export const REDACTED = '[redacted]';

/** What may be recorded (events, read models, logs): secret variables replaced by '[redacted]'. */
export function redactVariables(
  manifest: TemplateManifest,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    out[name] = manifest.variables[name]?.secret === true && value !== undefined ? REDACTED : value;
  }
  return out;
}

/** A plausible value of a variable's type that respects its enum and range where it can. */
function sampleOf(variable: TemplateVariable): VariableValue {
  const firstEnum = variable.enum?.[0];
  switch (variable.type) {
    case 'string':
      return typeof firstEnum === 'string' ? firstEnum : 'example';
    case 'number':
    case 'integer': {
      if (typeof firstEnum === 'number') return firstEnum;
      let n = variable.minimum ?? 1;
      if (variable.maximum !== undefined && n > variable.maximum) n = variable.maximum;
      return variable.type === 'integer' ? Math.ceil(n) : n;
    }
    case 'boolean':
      return true;
    default: {
      const never: never = variable.type;
      return String(never);
    }
  }
}

/**
 * Values to test-render a template with: each default, else a sample of the variable's type
 * (first enum value, the minimum or 1, 'example', true). Every variable gets one, so a render
 * failure points at the template, not at missing input.
 */
export function sampleValues(manifest: TemplateManifest): Record<string, VariableValue> {
  const out: Record<string, VariableValue> = {};
  for (const [name, variable] of Object.entries(manifest.variables)) {
    out[name] = variable.default ?? sampleOf(variable);
  }
  return out;
}
