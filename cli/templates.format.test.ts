import { describe, expect, it } from 'vitest';
import type { TemplateSummary, TemplateTreeNode } from '../projections/templates/index.ts';
import type { SyncReport } from '../sagas/template-sync/sync-source.ts';
import { formatTable } from './table.ts';
import {
  formatNoResults,
  formatSearch,
  formatSyncReports,
  formatTree,
  formatValidation,
  truncate,
} from './templates.format.ts';

describe('formatTable', () => {
  it('pads columns to their widest cell, two spaces apart, without trailing blanks', () => {
    expect(
      formatTable(
        ['NAME', 'VERSION', 'TAGS'],
        [
          ['mcp-server-ts', '1.0.0', 'mcp'],
          ['cli', '10.2.0', ''],
        ],
      ),
    ).toBe('NAME           VERSION  TAGS\nmcp-server-ts  1.0.0    mcp\ncli            10.2.0\n');
  });
});

describe('truncate', () => {
  it('keeps short text, folds whitespace, and cuts long text with an ellipsis', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('a\n  folded   line', 20)).toBe('a folded line');
    const cut = truncate('A Model Context Protocol server in TypeScript', 20);
    expect(cut).toBe('A Model Context Pro…');
    expect(cut.length).toBe(20);
  });
});

const summary = (over: Partial<TemplateSummary>): TemplateSummary => ({
  name: 'mcp-server-ts',
  version: '1.0.0',
  stack: 'typescript-mcp',
  description: 'A Model Context Protocol server in TypeScript on the official SDK and zod, with tests and CI',
  tags: ['mcp', 'typescript'],
  source: 'builtin',
  publishedAt: '2026-01-01T00:00:00.000Z',
  removedAt: null,
  variables: ['projectName'],
  rank: null,
  tenant: null,
  owner: 'system:builtin',
  ...over,
});

describe('search output', () => {
  it('shows name, version, stack, a truncated description and tags', () => {
    const out = formatSearch([summary({}), summary({ name: 'cli-tool', stack: 'node-cli', tags: [] })]);
    const [header, first, second] = out.split('\n');
    expect(header).toMatch(/^NAME\s+VERSION\s+STACK\s+DESCRIPTION\s+TAGS$/);
    expect(first).toMatch(
      /^mcp-server-ts\s+1\.0\.0\s+typescript-mcp\s+A Model Context .*…\s+mcp,typescript$/,
    );
    expect(second).toMatch(/^cli-tool\s+1\.0\.0\s+node-cli\s+A Model/);
    expect(first).not.toContain('with tests and CI');
  });

  it('says when nothing matched, what was asked, and to sync the catalog', () => {
    expect(formatNoResults({ words: ['rust', 'grpc'], tag: 'server' })).toBe(
      'no templates match "rust grpc", tag server\n' +
        'if the catalog is not synced yet, run `switchyard templates sync` (and `switchyard templates sources` to see where templates come from)\n',
    );
    expect(formatNoResults({ words: [] })).toMatch(/^no templates in the catalog\n/);
  });
});

describe('formatTree', () => {
  it('draws directories before files, nested', () => {
    const tree: TemplateTreeNode[] = [
      {
        type: 'directory',
        name: 'src',
        path: 'src',
        children: [
          { type: 'file', name: 'index.ts', path: 'src/index.ts', size: 10, binary: false, render: true },
        ],
      },
      { type: 'file', name: 'logo.png', path: 'logo.png', size: 2048, binary: true, render: false },
    ];
    expect(formatTree(tree)).toBe('├── src/\n│   └── index.ts  10 B\n└── logo.png  2.0 KiB, binary\n');
  });
});

const report = (over: Partial<SyncReport>): SyncReport => ({
  source: 'builtin',
  ok: true,
  changed: false,
  revision: 'r1',
  commit: null,
  templates: 3,
  published: [],
  removed: [],
  rejected: [],
  position: null,
  durationMs: 12,
  ...over,
});

describe('formatSyncReports', () => {
  it('tells changed from unchanged sources and lists rejected templates with their issues', () => {
    const out = formatSyncReports([
      report({}),
      report({
        source: 'team',
        changed: true,
        templates: 1,
        published: ['my-cli'],
        removed: ['old-cli'],
        rejected: [
          {
            dir: 'broken',
            name: 'broken-one',
            issues: [
              {
                code: 'TEMPLATE.SYNTAX_ERROR',
                severity: 'error',
                file: 'src/bad.ts.njk',
                message: 'src/bad.ts.njk: line 1: unexpected token: %}',
              },
            ],
          },
        ],
      }),
      report({
        source: 'remote',
        ok: false,
        templates: 0,
        error: { code: 'TEMPLATE_SOURCE.FETCH_FAILED', message: 'git clone failed' },
      }),
    ]);
    expect(out).toBe(
      [
        'builtin: unchanged, 3 templates in the catalog, 12 ms',
        'team: changed, 1 template in the catalog, 12 ms',
        '  published: my-cli',
        '  removed:   old-cli',
        '  rejected:  1',
        '    broken (broken-one)',
        '      error TEMPLATE.SYNTAX_ERROR src/bad.ts.njk: line 1: unexpected token: %}',
        'remote: failed, 0 templates in the catalog, 12 ms',
        '  error: git clone failed (TEMPLATE_SOURCE.FETCH_FAILED)',
        '',
      ].join('\n'),
    );
  });
});

describe('formatValidation', () => {
  it('says ok or not ok, counts errors and warnings, and lists each issue', () => {
    expect(
      formatValidation({
        validationId: 'v1',
        target: { kind: 'path', path: 'my-template', contentHash: null },
        ok: false,
        issues: [
          {
            code: 'TEMPLATE.UNDECLARED_VARIABLE',
            severity: 'error',
            message: 'nme is not declared',
            file: 'a.njk',
          },
          { code: 'TEMPLATE.UNUSED_VARIABLE', severity: 'warning', message: 'port is never used' },
        ],
        stats: { files: 2, bytes: 100 },
      }),
    ).toBe(
      'not ok my-template (2 files, 100 B): 1 error, 1 warning\n' +
        '  error TEMPLATE.UNDECLARED_VARIABLE a.njk: nme is not declared\n' +
        '  warning TEMPLATE.UNUSED_VARIABLE: port is never used\n',
    );
  });
});
