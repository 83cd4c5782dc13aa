import { describe, expect, it } from 'vitest';
import { manifestSchema, type TemplateManifest } from '../../domains/templates/manifest.ts';
import { AppError } from '../../kernel/errors.ts';
import { assertVariables, redactVariables, resolveVariables, sampleValues } from './variables.ts';

const manifest: TemplateManifest = manifestSchema.parse({
  name: 'demo',
  version: '1.0.0',
  stack: 'node',
  description: 'demo',
  variables: {
    projectName: { type: 'string', pattern: '[a-z][a-z0-9-]*', required: true },
    port: { type: 'integer', default: 3000, minimum: 1, maximum: 65535 },
    ratio: { type: 'number' },
    docker: { type: 'boolean', default: false },
    license: { type: 'string', enum: ['MIT', 'Apache-2.0'], default: 'MIT' },
    apiKey: { type: 'string', secret: true },
  },
});

describe('resolveVariables', () => {
  it('applies defaults and coerces the strings a CLI passes', () => {
    const { values, issues } = resolveVariables(manifest, {
      projectName: 'my-app',
      port: '8080',
      ratio: '0.5',
      docker: 'yes',
    });
    expect(issues).toEqual([]);
    expect(values).toEqual({ projectName: 'my-app', port: 8080, ratio: 0.5, docker: true, license: 'MIT' });
  });

  it.each([
    ['true', true],
    ['false', false],
    ['no', false],
    ['1', true],
    ['0', false],
    [true, true],
  ])('reads %j as the boolean %j', (given, expected) => {
    expect(resolveVariables(manifest, { projectName: 'x', docker: given }).values.docker).toBe(expected);
  });

  it('reports every problem at once: pattern (whole string), enum, range, type, required, unknown', () => {
    const { issues } = resolveVariables(manifest, {
      projectName: 'My-App',
      port: '3000.5',
      license: 'GPL',
      docker: 'maybe',
      colour: 'red',
    });
    expect(issues).toEqual([
      {
        variable: 'colour',
        message: expect.stringContaining('unknown variable colour; declared: projectName, port'),
      },
      { variable: 'projectName', message: 'must match [a-z][a-z0-9-]*, got "My-App"' },
      { variable: 'port', message: 'must be an integer, got "3000.5"' },
      { variable: 'docker', message: 'must be true or false, got "maybe"' },
      { variable: 'license', message: 'must be one of "MIT", "Apache-2.0", got "GPL"' },
    ]);
    expect(resolveVariables(manifest, { projectName: 'ok', port: 0 }).issues).toEqual([
      { variable: 'port', message: 'must be at least 1, got 0' },
    ]);
    expect(resolveVariables(manifest, {}).issues).toEqual([
      { variable: 'projectName', message: 'is required' },
    ]);
  });

  it('anchors patterns: a prefix match is not a match', () => {
    expect(resolveVariables(manifest, { projectName: 'abc DEF' }).issues).toHaveLength(1);
  });

  it('leaves an optional variable without default out', () => {
    expect(resolveVariables(manifest, { projectName: 'x' }).values).not.toHaveProperty('ratio');
  });
});

describe('assertVariables', () => {
  it('throws one validation error listing every problem', () => {
    try {
      assertVariables(manifest, { projectName: '1abc', port: 'http' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      const err = e as AppError;
      expect(err.code).toBe('TEMPLATE.INVALID_VARIABLES');
      expect(err.message).toBe(
        'variables: projectName: must match [a-z][a-z0-9-]*, got "1abc"; port: must be an integer, got "http"',
      );
      expect(err.details?.issues).toHaveLength(2);
    }
  });

  it('returns the values when all is well', () => {
    expect(assertVariables(manifest, { projectName: 'ok' })).toMatchObject({ projectName: 'ok', port: 3000 });
  });
});

describe('redactVariables', () => {
  it('hides secret values and keeps the others', () => {
    expect(redactVariables(manifest, { projectName: 'x', apiKey: 'sk-123' })).toEqual({
      projectName: 'x',
      apiKey: '[redacted]',
    });
  });
});

describe('sampleValues', () => {
  it('uses defaults, else a sample of the type that respects enum and minimum', () => {
    const m = manifestSchema.parse({
      ...manifest,
      variables: {
        ...manifest.variables,
        level: { type: 'integer', minimum: 5 },
        size: { type: 'number', enum: [2, 4] },
      },
    });
    expect(sampleValues(m)).toEqual({
      projectName: 'example',
      port: 3000,
      ratio: 1,
      docker: false,
      license: 'MIT',
      apiKey: 'example',
      level: 5,
      size: 2,
    });
  });
});
