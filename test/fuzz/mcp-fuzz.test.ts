import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type McpFuzzTarget, mcpFuzzCase, runCase, startMcpFuzzTarget } from './mcp-fuzz.ts';

/**
 * A bounded run of the MCP fuzzer (the long one is `npm run fuzz -- mcp`): hostile JSON-RPC on
 * /mcp, /servers/<name>/mcp and /platform/mcp, no 5xx, no internal error, no hang, nothing appended
 * for a refused request; then the gateway still answers as usual.
 */
describe('MCP fuzzing (bounded)', () => {
  let target: McpFuzzTarget;
  beforeAll(async () => {
    target = await startMcpFuzzTarget();
  }, 120_000);
  afterAll(() => target?.stop());

  it('answers every hostile message without a server or internal error and refuses without appending', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(mcpFuzzCase(target), async (c) => {
        const r = await runCase(target.system, c);
        expect(r.problem).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    // Still alive and answering, on HTTP and on MCP.
    const { system } = target;
    expect((await fetch(`${system.url}/health`)).status).toBe(200);
    const res = await fetch(`${system.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${(await import('../access.ts')).TEST_ADMIN_KEY}`,
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(200);
    const { result } = (await res.json()) as { result: { tools: Array<{ name: string }> } };
    expect(result.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['fixture__echo', 'everything__echo']),
    );
  });
});
