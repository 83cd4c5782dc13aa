import { describe, expect, it } from 'vitest';
import { checkModernRequest, isModernRequest } from './envelope.ts';

const meta = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};
const headers = (extra: Record<string, string> = {}) => ({
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'echo',
  ...extra,
});
const call = (params: Record<string, unknown>) => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params });

describe('2026-07-28 requests at the edge', () => {
  it('tells the stateless revision from the stateful ones', () => {
    expect(isModernRequest({}, call({ name: 'echo', _meta: meta }))).toBe(true);
    expect(isModernRequest({ 'mcp-protocol-version': '2026-07-28' }, call({ name: 'echo' }))).toBe(true);
    expect(isModernRequest({ 'mcp-protocol-version': '2025-11-25' }, call({ name: 'echo' }))).toBe(false);
    expect(isModernRequest({}, { jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBe(false);
  });

  it('takes a request whose envelope and headers agree; logs are off unless asked for', () => {
    const checked = checkModernRequest(
      headers(),
      call({ name: 'echo', arguments: {}, _meta: { ...meta, progressToken: 'p' } }),
    );
    expect(checked).toEqual({
      id: 7,
      method: 'tools/call',
      params: { name: 'echo', arguments: {}, _meta: { progressToken: 'p' } },
      version: '2026-07-28',
      clientCapabilities: {},
      logLevel: 'off',
    });
  });

  it.each([
    ['no _meta', headers(), call({ name: 'echo' }), 400, -32602],
    [
      'no client capabilities',
      headers(),
      call({ name: 'echo', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }),
      400,
      -32602,
    ],
    [
      'a log level that is none',
      headers(),
      call({ name: 'echo', _meta: { ...meta, 'io.modelcontextprotocol/logLevel': 'loud' } }),
      400,
      -32602,
    ],
    [
      'another method in the header',
      headers({ 'mcp-method': 'tools/list' }),
      call({ name: 'echo', _meta: meta }),
      400,
      -32020,
    ],
    [
      'another name in the header',
      headers({ 'mcp-name': 'rm' }),
      call({ name: 'echo', _meta: meta }),
      400,
      -32020,
    ],
    [
      'another version in the header',
      headers({ 'mcp-protocol-version': '2025-11-25' }),
      call({ name: 'echo', _meta: meta }),
      400,
      -32020,
    ],
    [
      'a version not served',
      headers({ 'mcp-protocol-version': '2099-01-01' }),
      call({ name: 'echo', _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } }),
      400,
      -32022,
    ],
    ['a batch', headers(), [call({ name: 'echo', _meta: meta })], 400, -32600],
    [
      'inputResponses that are null',
      headers(),
      call({ name: 'echo', _meta: meta, inputResponses: null }),
      400,
      -32602,
    ],
    [
      'an answer that is not an object',
      headers(),
      call({ name: 'echo', _meta: meta, inputResponses: { user_name: 12345 } }),
      400,
      -32602,
    ],
    [
      'a requestState that is not a string',
      headers(),
      call({ name: 'echo', _meta: meta, requestState: { forged: true } }),
      400,
      -32602,
    ],
    [
      'a requestState longer than any the gateway gives',
      headers(),
      call({ name: 'echo', _meta: meta, requestState: 'x'.repeat(513) }),
      400,
      -32602,
    ],
    [
      'more answers than any round asks',
      headers(),
      call({
        name: 'echo',
        _meta: meta,
        inputResponses: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, {}])),
      }),
      400,
      -32602,
    ],
  ])('refuses %s', (_what, h, body, status, code) => {
    const checked = checkModernRequest(h, body);
    expect('status' in checked && checked.status).toBe(status);
    expect('status' in checked && checked.body.error.code).toBe(code);
  });

  it("takes a retry's answers and state out of the params the upstream gets", () => {
    const checked = checkModernRequest(
      headers(),
      call({
        name: 'echo',
        arguments: {},
        _meta: meta,
        inputResponses: { elicitation: { action: 'accept', content: { name: 'Ada' } } },
        requestState: 'abc.1.mac',
      }),
    );
    expect(checked).toMatchObject({
      params: { name: 'echo', arguments: {} },
      inputResponses: { elicitation: { action: 'accept', content: { name: 'Ada' } } },
      requestState: 'abc.1.mac',
    });
    expect('params' in checked && 'inputResponses' in checked.params).toBe(false);
  });

  it('says which versions it serves when asked for another', () => {
    const checked = checkModernRequest(
      headers({ 'mcp-protocol-version': '2099-01-01' }),
      call({ name: 'echo', _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } }),
    );
    expect('status' in checked && checked.body).toMatchObject({
      id: 7,
      error: {
        data: { requested: '2099-01-01', supported: expect.arrayContaining(['2026-07-28', '2025-11-25']) },
      },
    });
  });
});
