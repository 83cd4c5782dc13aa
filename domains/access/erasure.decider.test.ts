import { describe, expect, it } from 'vitest';
import { type PrincipalState, principalDecider } from './decider.ts';
import type { PrincipalEvent } from './events.ts';

const id = '00000000-0000-4000-8000-000000000001';
const at = '2026-12-07T12:00:00.000Z';

function fold(events: PrincipalEvent[]): PrincipalState {
  return events.reduce(principalDecider.evolve, principalDecider.initialState);
}

const created: PrincipalEvent = {
  type: 'PrincipalCreated',
  data: {
    principalId: id,
    tenant: 'default',
    name: 'alice',
    kind: 'user',
    roles: ['executor'],
    source: { type: 'local' },
    createdAt: at,
  },
};

describe('erasing a principal (the principal decider)', () => {
  it('records each erasure, with the number of keys it destroyed', () => {
    const erase = { type: 'ErasePrincipal', data: { principalId: id, keysDestroyed: 1, at } } as const;
    expect(principalDecider.decide(erase, fold([created]))).toEqual([
      { type: 'PrincipalErased', data: { principalId: id, keysDestroyed: 1, erasedAt: at } },
    ]);
    const erased = fold([created, ...principalDecider.decide(erase, fold([created]))]);
    expect(erased.status).toBe('erased');
    // Asked again: recorded again (each request is an act to audit), destroying nothing more.
    const again = { ...erase, data: { ...erase.data, keysDestroyed: 0 } };
    expect(principalDecider.decide(again, erased)).toHaveLength(1);
  });

  it('an erased principal stays disabled: enabling it is refused, disabling it changes nothing', () => {
    const erased = fold([
      created,
      { type: 'PrincipalErased', data: { principalId: id, keysDestroyed: 1, erasedAt: at } },
    ]);
    expect(() =>
      principalDecider.decide({ type: 'EnablePrincipal', data: { principalId: id, at } }, erased),
    ).toThrow(expect.objectContaining({ code: 'PRINCIPAL.ERASED' }));
    expect(
      principalDecider.decide({ type: 'DisablePrincipal', data: { principalId: id, at } }, erased),
    ).toEqual([]);
    expect(
      fold([
        created,
        { type: 'PrincipalErased', data: { principalId: id, keysDestroyed: 1, erasedAt: at } },
        { type: 'PrincipalEnabled', data: { principalId: id, enabledAt: at } },
      ]).status,
    ).toBe('erased');
  });

  it('a principal that does not exist cannot be erased', () => {
    expect(() =>
      principalDecider.decide(
        { type: 'ErasePrincipal', data: { principalId: id, keysDestroyed: 0, at } },
        principalDecider.initialState,
      ),
    ).toThrow(expect.objectContaining({ code: 'PRINCIPAL.NOT_FOUND' }));
  });
});
