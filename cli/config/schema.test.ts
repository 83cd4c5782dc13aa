import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from './document.ts';
import { parseConfigYaml } from './yaml.ts';

const COMMITTED = new URL('../../docs/config.schema.json', import.meta.url);

describe('the configuration document schema', () => {
  it('docs/config.schema.json is the JSON Schema generated from the zod schema (regenerate: switchyard export --schema -o docs/config.schema.json)', async () => {
    const committed = JSON.parse(await readFile(COMMITTED, 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it('refuses a document that is not one, naming each problem', () => {
    expect(() => parseConfigYaml('apiVersion: v0\nkind: Configuration\n', 'x.yaml')).toThrow(
      /x.yaml is not a Switchyard configuration:\n {2}apiVersion:/,
    );
    const twice = [
      'apiVersion: switchyard.dev/v1',
      'kind: Configuration',
      'toolsets:',
      '  - { name: a, tools: [{ server: s, tool: t }] }',
      '  - { name: a, tools: [{ server: s, tool: u }] }',
      'extra: 1',
    ].join('\n');
    expect(() => parseConfigYaml(twice)).toThrow(/toolsets.1: toolset a is named twice/);
    expect(() => parseConfigYaml(twice)).toThrow(/Unrecognized key: "extra"/);
    expect(() => parseConfigYaml('a: [')).toThrow(/is not valid YAML/);
  });

  it('an empty section is an empty list, and defaults fill in what a writer leaves out', () => {
    const doc = parseConfigYaml(
      'apiVersion: switchyard.dev/v1\nkind: Configuration\nservers:\n  - name: web\n    transport: { type: sse, url: "http://h/sse" }\ntoolsets:\n',
    );
    expect(doc.toolsets).toEqual([]);
    expect(doc.servers[0]).toEqual({
      name: 'web',
      transport: { type: 'sse', url: 'http://h/sse', headers: {} },
      tags: [],
      enabled: true,
      settings: {},
    });
  });
});
