import { describe, it } from 'vitest';
import { spec } from '../../kernel/decider.ts';
import type { ToolsetCommand } from './commands.ts';
import { toolsetDecider } from './decider.ts';
import type { ToolsetEvent } from './events.ts';

const at = new Date('2026-12-06T12:00:00.000Z');
const id = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const tools = [
  { server: 'github', tool: 'create_issue' },
  { server: 'jira', tool: 'createIssue' },
];
const define = (t = tools, description?: string): ToolsetCommand => ({
  type: 'DefineToolset',
  data: {
    toolsetId: id,
    name: 'issues',
    tools: t,
    tenant: 'default',
    at,
    ...(description && { description }),
  },
});
const defined = (t = tools): ToolsetEvent => ({
  type: 'ToolsetDefined',
  data: { toolsetId: id, name: 'issues', tools: t, tenant: 'default', definedAt: at.toISOString() },
});
const remove: ToolsetCommand = {
  type: 'RemoveToolset',
  data: { toolsetId: id, name: 'issues', tenant: 'default', at },
};

describe('toolset decider', () => {
  it('defines, redefines when something changed, and appends nothing for the same definition', () => {
    spec(toolsetDecider).given([]).when(define()).thenEmits([defined()]);
    spec(toolsetDecider).given([defined()]).when(define()).thenEmits([]);
    spec(toolsetDecider)
      .given([defined()])
      .when(define(tools.slice(0, 1)))
      .thenEmits([defined(tools.slice(0, 1))]);
  });

  it('removes a defined toolset, and refuses to remove one that is not', () => {
    spec(toolsetDecider)
      .given([defined()])
      .when(remove)
      .thenEmits([
        {
          type: 'ToolsetRemoved',
          data: { toolsetId: id, name: 'issues', tenant: 'default', removedAt: at.toISOString() },
        },
      ]);
    spec(toolsetDecider).given([]).when(remove).thenThrows('TOOLSET.NOT_FOUND');
  });
});
