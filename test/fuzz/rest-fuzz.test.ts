import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { startMemorySystem } from '../systems.ts';
import { fuzzCase, runCase } from './rest-fuzz.ts';

/**
 * A bounded run of the REST fuzzer (the long one is `npm run fuzz`): hostile values on every route,
 * no 5xx, no hang, no crash, nothing appended for a refused request.
 */
describe('REST fuzzing (bounded)', () => {
  let system: System;
  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
  });
  afterAll(() => system?.stop());

  it('answers every hostile request without a server error and refuses without appending', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzCase, async (c) => {
        const r = await runCase(system, c);
        expect(r.problem).toBeUndefined();
      }),
      { numRuns: 400 },
    );
    // Still alive and answering.
    expect((await fetch(`${system.url}/health`)).status).toBe(200);
  });
});
