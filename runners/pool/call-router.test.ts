import { describe, expect, it } from 'vitest';
import { CallRouter } from './call-router.ts';

const sample = async () => ({
  model: 'm',
  role: 'assistant' as const,
  content: { type: 'text' as const, text: 'x' },
});
const canSample = (h: { createMessage?: unknown }) => h.createMessage !== undefined;

describe('routing server-initiated requests to the call that caused them', () => {
  it("goes to the only caller's call that can take it", () => {
    const router = new CallRouter();
    router.enter({ caller: 'a' }, new AbortController().signal);
    const { context } = router.enter({ caller: 'a', createMessage: sample }, new AbortController().signal);
    expect(router.route(canSample)).toEqual({ kind: 'call', call: context });
  });

  it('refuses when another caller has a call in flight, even one that cannot sample (it may have caused it)', () => {
    const router = new CallRouter();
    const a = router.enter({ caller: 'a' }, new AbortController().signal);
    router.enter({ caller: 'b', createMessage: sample }, new AbortController().signal);
    expect(router.route(canSample)).toEqual({ kind: 'ambiguous', callers: 2 });
    a.leave();
    expect(router.route(canSample).kind).toBe('call');
  });

  it('goes nowhere when the one caller cannot take it', () => {
    const router = new CallRouter();
    router.enter({ caller: 'a' }, new AbortController().signal);
    expect(router.route(canSample)).toEqual({ kind: 'none' });
  });

  it("goes to one caller's most recent call when all candidates are that caller's", () => {
    const router = new CallRouter();
    router.enter({ caller: 'a', createMessage: sample }, new AbortController().signal);
    const { context } = router.enter({ caller: 'a', createMessage: sample }, new AbortController().signal);
    expect(router.route(canSample)).toEqual({ kind: 'call', call: context });
  });

  it('refuses to guess between the calls of two callers', () => {
    const router = new CallRouter();
    router.enter({ caller: 'a', createMessage: sample }, new AbortController().signal);
    const b = router.enter({ caller: 'b', createMessage: sample }, new AbortController().signal);
    expect(router.route(canSample)).toEqual({ kind: 'ambiguous', callers: 2 });
    b.leave();
    expect(router.route(canSample).kind).toBe('call');
  });

  it('counts calls without a caller as callers of their own, and says when nobody can take it', () => {
    const router = new CallRouter();
    expect(router.route(canSample)).toEqual({ kind: 'none' });
    router.enter({ createMessage: sample }, new AbortController().signal);
    router.enter({ createMessage: sample }, new AbortController().signal);
    expect(router.route(canSample)).toEqual({ kind: 'ambiguous', callers: 2 });
  });

  it("does not count the pool's own requests: a client's message stays its own while a ping or discovery runs", () => {
    const router = new CallRouter();
    router.enter({}, new AbortController().signal, true);
    expect(router.onlyCallsOf('a')).toBe(true);
    const { context } = router.enter({ caller: 'a', createMessage: sample }, new AbortController().signal);
    router.enter({}, new AbortController().signal, true);
    expect(router.route(canSample)).toEqual({ kind: 'call', call: context });
    expect(router.onlyCallsOf('a')).toBe(true);
    // A REST call (no caller) is a client's: it counts.
    router.enter({}, new AbortController().signal);
    expect(router.onlyCallsOf('a')).toBe(false);
    expect(router.route(canSample)).toEqual({ kind: 'ambiguous', callers: 2 });
  });

  it('goes exactly to the call that sent the related request, whoever else has calls in flight', async () => {
    const router = new CallRouter();
    const a = router.enter({ caller: 'a', createMessage: sample }, new AbortController().signal);
    const b = router.enter({ caller: 'b', createMessage: sample }, new AbortController().signal);
    const c = router.enter({ caller: 'c' }, new AbortController().signal);
    // The SDK sends a call's request inside the call's scope (after an await, as it does).
    await router.run(a.context, async () => {
      await Promise.resolve();
      router.bind('conn:1');
    });
    await router.run(b.context, async () => router.bind('conn:2'));
    await router.run(c.context, async () => router.bind('conn:3'));
    router.bind('conn:4'); // outside any call: bound to nothing
    expect(router.route(canSample, 'conn:1')).toEqual({ kind: 'call', call: a.context });
    expect(router.route(canSample, 'conn:2')).toEqual({ kind: 'call', call: b.context });
    // Related to c, which cannot sample: nowhere, not to a or b.
    expect(router.route(canSample, 'conn:3')).toEqual({ kind: 'none' });
    // Unknown request: as without a relation.
    expect(router.route(canSample, 'conn:4')).toEqual({ kind: 'ambiguous', callers: 3 });
    b.leave();
    expect(router.route(canSample, 'conn:2')).toEqual({ kind: 'ambiguous', callers: 2 });
  });
});
