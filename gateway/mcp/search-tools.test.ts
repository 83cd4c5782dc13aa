import { describe, expect, it } from 'vitest';
import type { CatalogServer } from './catalog-source.ts';
import { searchTools, wordsOf } from './search-tools.ts';

const server = (name: string, tools: Array<{ name: string; description?: string; title?: string }>) =>
  ({
    serverId: name,
    name,
    tenant: 'default',
    owner: 'o',
    capabilities: {},
    instructions: undefined,
    tools: tools.map((t) => ({ ...t, inputSchema: { type: 'object' as const } })),
    resources: [],
    resourceTemplates: [],
    prompts: [],
  }) satisfies CatalogServer;

const servers = [
  server('github', [
    { name: 'create_issue', description: 'Create a new issue in a repository' },
    { name: 'list_issues', description: 'List issues of a repository' },
    { name: 'createPullRequest', title: 'Open a pull request' },
    { name: 'delete_repo', description: 'Delete a repository' },
  ]),
  server('jira', [{ name: 'createIssue', description: 'Create a Jira issue' }]),
  server('files', [{ name: 'read_file', description: 'Read a file from disk' }]),
];
const everyone = { mayCall: () => true, nameOf: (s: string, t: string) => `${s}__${t}` };

describe('search-tools', () => {
  it('splits names into words at separators and camelCase humps', () => {
    expect(wordsOf('createPullRequest')).toEqual(['create', 'pull', 'request']);
    expect(wordsOf('list_issues v2')).toEqual(['list', 'issues', 'v2']);
  });

  it('ranks by how many words match, then by where they match (name first)', () => {
    const found = searchTools(servers, 'create issue', 10, everyone).map((m) => m.name);
    expect(found.slice(0, 2).sort()).toEqual(['github__create_issue', 'jira__createIssue']);
    expect(found).toContain('github__createPullRequest'); // "create" only
    expect(found.indexOf('github__createPullRequest')).toBeGreaterThan(1);
    expect(found).not.toContain('files__read_file');
    expect(searchTools(servers, 'repo', 10, everyone).map((m) => m.tool)).toContain('delete_repo');
    expect(searchTools(servers, 'pull request', 1, everyone)).toEqual([
      {
        name: 'github__createPullRequest',
        server: 'github',
        tool: 'createPullRequest',
        title: 'Open a pull request',
        inputSchema: { type: 'object' },
      },
    ]);
  });

  it('finds only what the caller may call, under the endpoint’s names, up to the limit', () => {
    const scope = {
      mayCall: (s: CatalogServer, tool: string) => !(s.name === 'github' && tool === 'delete_repo'),
      nameOf: (s: string, t: string) => (s === 'jira' ? undefined : t),
    };
    const found = searchTools(servers, 'create delete issue repository', 10, scope);
    expect(found.map((m) => m.name)).not.toContain('delete_repo');
    expect(found.map((m) => m.server)).not.toContain('jira');
    expect(found[0]?.name).toBe('create_issue');
    expect(searchTools(servers, 'issue', 1, everyone)).toHaveLength(1);
    expect(searchTools(servers, '  ', 10, everyone)).toEqual([]);
  });
});
