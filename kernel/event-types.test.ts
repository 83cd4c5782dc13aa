import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EventTypeRegistry } from './event-types.ts';

describe('EventTypeRegistry', () => {
  // Version 1 stored a single `url`; version 2 holds a list of instance URLs.
  const registry = new EventTypeRegistry().register({
    type: 'EndpointAdded',
    schemaVersion: 2,
    schema: z.object({ urls: z.array(z.url()).min(1) }),
    upcasters: { 1: (d) => ({ urls: [(d as { url: string }).url] }) },
  });

  it('lifts an old version to the current schema on read', () => {
    expect(registry.upcast('EndpointAdded', 1, { url: 'http://a/mcp' })).toEqual({ urls: ['http://a/mcp'] });
  });

  it('reads the current version unchanged and validates it', () => {
    expect(registry.upcast('EndpointAdded', 2, { urls: ['http://b/mcp'] })).toEqual({
      urls: ['http://b/mcp'],
    });
    expect(() => registry.upcast('EndpointAdded', 2, { urls: [] })).toThrow();
  });

  it('refuses data it cannot lift, and unknown types on write', () => {
    const broken = new EventTypeRegistry().register({ type: 'X', schemaVersion: 3, schema: z.object({}) });
    expect(() => broken.upcast('X', 1, {})).toThrow(/no upcaster for X v1/);
    expect(() => registry.validate('Nope', {})).toThrow(/unknown event type/);
    expect(registry.currentVersion('EndpointAdded')).toBe(2);
  });
});
