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
});
