import { describe, expect, it } from 'vitest';
import { spec } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { templateDecider, templateSourceDecider } from './decider.ts';
import { TemplateErrorCode } from './errors.ts';
import type { TemplateSourceRegistered, TemplateVersionPublished } from './events.ts';
import { registerTemplateEvents } from './events.ts';

const hashA = 'a'.repeat(64);
const hashB = 'b'.repeat(64);
const at = '2026-11-21T10:00:00.000Z';

const published = (source: string, contentHash: string, version = '1.0.0'): TemplateVersionPublished => ({
  type: 'TemplateVersionPublished',
  data: {
    name: 'mcp-server-ts',
    source,
    version,
    stack: 'typescript-mcp',
    description: 'An MCP server',
    tags: ['mcp'],
    manifest: {
      name: 'mcp-server-ts',
      version,
      stack: 'typescript-mcp',
      description: 'An MCP server',
      tags: ['mcp'],
      variables: {},
    },
    files: [],
    contentHash,
    commit: null,
    publishedAt: at,
  },
});

describe('a template', () => {
  it('is published when it is new', () => {
    spec(templateDecider)
      .given([])
      .when({ type: 'PublishTemplateVersion', data: published('builtin', hashA).data })
      .thenEmits([published('builtin', hashA)]);
  });

  it('publishes nothing when the content is the one already current (a sync with nothing changed)', () => {
    spec(templateDecider)
      .given([published('builtin', hashA)])
      .when({ type: 'PublishTemplateVersion', data: published('builtin', hashA).data })
      .thenEmits([]);
  });

  it('publishes new content from its own source', () => {
    const next = published('builtin', hashB, '1.1.0');
    spec(templateDecider)
      .given([published('builtin', hashA)])
      .when({ type: 'PublishTemplateVersion', data: next.data })
      .thenEmits([next]);
  });

  it('cannot be taken over by another source while it is in the catalog', () => {
    spec(templateDecider)
      .given([published('builtin', hashA)])
      .when({ type: 'PublishTemplateVersion', data: published('team', hashB).data })
      .thenThrows(TemplateErrorCode.OwnedByOtherSource);
  });

  it('is removed only by its own source, and only once', () => {
    const removal = {
      name: 'mcp-server-ts',
      source: 'builtin',
      reason: 'gone from the source',
      removedAt: at,
    };
    spec(templateDecider)
      .given([published('builtin', hashA)])
      .when({ type: 'RemoveTemplate', data: removal })
      .thenEmits([{ type: 'TemplateRemoved', data: removal }]);
    spec(templateDecider)
      .given([published('builtin', hashA)])
      .when({ type: 'RemoveTemplate', data: { ...removal, source: 'team' } })
      .thenEmits([]);
    spec(templateDecider)
      .given([published('builtin', hashA), { type: 'TemplateRemoved', data: removal }])
      .when({ type: 'RemoveTemplate', data: removal })
      .thenEmits([]);
  });

  it('can come back from another source once removed', () => {
    const removal = { name: 'mcp-server-ts', source: 'builtin', reason: 'gone', removedAt: at };
    const again = published('team', hashA);
    spec(templateDecider)
      .given([published('builtin', hashA), { type: 'TemplateRemoved', data: removal }])
      .when({ type: 'PublishTemplateVersion', data: again.data })
      .thenEmits([again]);
  });
});

const registered = (over: Partial<TemplateSourceRegistered['data']> = {}): TemplateSourceRegistered => ({
  type: 'TemplateSourceRegistered',
  data: {
    name: 'team',
    kind: 'git',
    location: 'https://git.example/templates.git',
    ref: 'main',
    intervalMs: null,
    builtIn: false,
    tenant: 'team-a',
    owner: 'user-1',
    registeredAt: at,
    ...over,
  },
});

const synced = (revision: string) => ({
  name: 'team',
  revision,
  commit: revision,
  templates: [],
  published: [],
  removed: [],
  rejected: [],
  syncedAt: at,
});

describe('a template source', () => {
  it('registering the same configuration again appends nothing; another one needs replace', () => {
    const d = { ...registered().data, replace: false };
    spec(templateSourceDecider)
      .given([registered()])
      .when({ type: 'RegisterTemplateSource', data: d })
      .thenEmits([]);
    spec(templateSourceDecider)
      .given([registered()])
      .when({ type: 'RegisterTemplateSource', data: { ...d, ref: 'v2' } })
      .thenThrows(TemplateErrorCode.SourceExists);
    const replaced = { ...d, ref: 'v2', replace: true };
    const { replace: _, ...data } = replaced;
    spec(templateSourceDecider)
      .given([registered()])
      .when({ type: 'RegisterTemplateSource', data: replaced })
      .thenEmits([{ type: 'TemplateSourceRegistered', data }]);
  });

  it('a replacement changes the configuration, not whose the source is', () => {
    const byOther = { ...registered().data, ref: 'v2', tenant: 'team-b', owner: 'user-2', replace: true };
    spec(templateSourceDecider)
      .given([registered()])
      .when({ type: 'RegisterTemplateSource', data: byOther })
      .thenEmits([registered({ ref: 'v2' })]);
    // Registered afresh after a removal, it is the new registrant's.
    const { replace: _, ...fresh } = byOther;
    spec(templateSourceDecider)
      .given([registered(), { type: 'TemplateSourceRemoved', data: { name: 'team', removedAt: at } }])
      .when({ type: 'RegisterTemplateSource', data: { ...fresh, replace: false } })
      .thenEmits([{ type: 'TemplateSourceRegistered', data: fresh }]);
  });

  it('a registration written before tenancy reads as shared when built in, else the default tenant', () => {
    const registry = registerTemplateEvents(new EventTypeRegistry());
    const { tenant: _t, owner: _o, ...v1 } = registered().data;
    expect(registry.upcast('TemplateSourceRegistered', 1, v1)).toMatchObject({
      tenant: 'default',
      owner: 'unknown',
    });
    expect(registry.upcast('TemplateSourceRegistered', 1, { ...v1, builtIn: true })).toMatchObject({
      tenant: null,
      owner: 'unknown',
    });
  });

  it('records a sync only when the revision moved', () => {
    spec(templateSourceDecider)
      .given([registered(), { type: 'TemplateSourceSynced', data: synced('c1') }])
      .when({ type: 'RecordSourceSynced', data: synced('c1') })
      .thenEmits([]);
    spec(templateSourceDecider)
      .given([registered(), { type: 'TemplateSourceSynced', data: synced('c1') }])
      .when({ type: 'RecordSourceSynced', data: synced('c2') })
      .thenEmits([{ type: 'TemplateSourceSynced', data: synced('c2') }]);
  });

  it('records a failure once, and the recovery at the same revision afterwards', () => {
    const failure = {
      name: 'team',
      reason: 'git ls-remote: could not resolve host',
      code: 'X',
      failedAt: at,
    };
    const given = [registered(), { type: 'TemplateSourceSynced' as const, data: synced('c1') }];
    spec(templateSourceDecider)
      .given(given)
      .when({ type: 'RecordSourceSyncFailed', data: failure })
      .thenEmits([{ type: 'TemplateSourceSyncFailed', data: failure }]);
    spec(templateSourceDecider)
      .given([...given, { type: 'TemplateSourceSyncFailed', data: failure }])
      .when({ type: 'RecordSourceSyncFailed', data: failure })
      .thenEmits([]);
    spec(templateSourceDecider)
      .given([...given, { type: 'TemplateSourceSyncFailed', data: failure }])
      .when({ type: 'RecordSourceSynced', data: synced('c1') })
      .thenEmits([{ type: 'TemplateSourceSynced', data: synced('c1') }]);
  });

  it('a built-in source cannot be removed, and follows the installation when its directory moves', () => {
    const builtIn = registered({
      name: 'builtin',
      kind: 'directory',
      location: '/a/templates',
      ref: null,
      builtIn: true,
    });
    spec(templateSourceDecider)
      .given([builtIn])
      .when({ type: 'RemoveTemplateSource', data: { name: 'builtin', removedAt: at } })
      .thenThrows(TemplateErrorCode.SourceBuiltIn);
    const moved = spec(templateSourceDecider)
      .given([builtIn])
      .when({
        type: 'RegisterTemplateSource',
        data: { ...builtIn.data, location: '/b/templates', replace: false },
      })
      .events();
    expect(moved).toHaveLength(1);
  });

  it('an unknown source cannot record syncs or be removed', () => {
    spec(templateSourceDecider)
      .given([])
      .when({ type: 'RecordSourceSynced', data: synced('c1') })
      .thenThrows(TemplateErrorCode.SourceNotFound);
    spec(templateSourceDecider)
      .given([])
      .when({ type: 'RemoveTemplateSource', data: { name: 'team', removedAt: at } })
      .thenThrows(TemplateErrorCode.SourceNotFound);
  });
});
