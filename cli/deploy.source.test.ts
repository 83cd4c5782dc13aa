import { describe, expect, it } from 'vitest';
import { RequestDeploymentInput } from '../domains/deployments/index.ts';
import { deployRequest, parseDeploySource } from './deploy.source.ts';
import { UsageError } from './errors.ts';

describe('switchyard deploy <source>', () => {
  it('reads each kind of source', () => {
    const id = '6c1f2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
    expect(parseDeploySource(`project:${id}`)).toEqual({ project: id });
    expect(parseDeploySource('template:mcp-server-ts')).toEqual({ template: 'mcp-server-ts', variables: {} });
    expect(parseDeploySource('template:mcp-server-ts@1.2.0', { projectName: 'calc' })).toEqual({
      template: 'mcp-server-ts',
      version: '1.2.0',
      variables: { projectName: 'calc' },
    });
    expect(parseDeploySource('dir:apps/calc/')).toEqual({ directory: 'apps/calc' });
    expect(parseDeploySource('npm:left-pad@1.3.0')).toEqual({ npm: 'left-pad', version: '1.3.0' });
    expect(parseDeploySource('npm:@modelcontextprotocol/server-everything@2025.11.25')).toEqual({
      npm: '@modelcontextprotocol/server-everything',
      version: '2025.11.25',
    });
  });

  it('refuses what is not a source, as a usage error', () => {
    for (const bad of [
      'apps/calc',
      'dir:',
      'git:https://x',
      'template:@1.0.0',
      'template:calc@',
      'npm:left-pad',
      'npm:@scope/name',
      'npm:left-pad@',
    ]) {
      expect(() => parseDeploySource(bad), bad).toThrow(UsageError);
    }
    expect(() => parseDeploySource('dir:apps/calc', { a: '1' })).toThrow(/--var is for template/);
  });

  it('builds a request body the gateway’s schema accepts', () => {
    const body = deployRequest(parseDeploySource('dir:apps/calc'), {
      server: 'calc',
      replicas: '2',
      expectTool: ['add', 'sub'],
      smoke: 'add',
      smokeArgs: '{"a":1,"b":2}',
    });
    expect(body).toEqual({
      server: 'calc',
      source: { directory: 'apps/calc' },
      replicas: 2,
      health: { expectedTools: ['add', 'sub'], smoke: { tool: 'add', arguments: { a: 1, b: 2 } } },
    });
    expect(RequestDeploymentInput.safeParse(body).success).toBe(true);
    const plain = deployRequest(parseDeploySource('template:mcp-server-ts', { projectName: 'calc' }), {
      server: 'calc',
    });
    expect(plain).toEqual({
      server: 'calc',
      source: { template: 'mcp-server-ts', variables: { projectName: 'calc' } },
    });
    expect(RequestDeploymentInput.safeParse(plain).success).toBe(true);
    expect(deployRequest({ directory: 'x' }, { server: 'x', queue: true })).toMatchObject({ queue: true });
    expect(() => deployRequest({ directory: 'x' }, { server: 'x', smokeArgs: '{}' })).toThrow(/--smoke/);
    expect(() => deployRequest({ directory: 'x' }, { server: 'x', smoke: 't', smokeArgs: '[1]' })).toThrow(
      /JSON object/,
    );
    expect(() => deployRequest({ directory: 'x' }, { server: 'x', replicas: '0' })).toThrow(/--replicas/);
  });
});
