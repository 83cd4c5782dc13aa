import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { bridgeFailure } from './mcp.command.ts';

describe('switchyard mcp --url: what a failed request prints', () => {
  it('shows a refused credential like the other commands: detail, code and what to do', () => {
    const problem = { status: 401, detail: 'the credential is not valid', code: 'AUTH.INVALID_CREDENTIAL' };
    const e = new StreamableHTTPError(401, `Error POSTing to endpoint: ${JSON.stringify(problem)}`);
    expect(bridgeFailure(e)).toBe(
      'the credential is not valid (AUTH.INVALID_CREDENTIAL)\n' +
        'the gateway refused the credential (unknown, revoked or expired, or meant for another gateway): ' +
        'pass another with --token or SWITCHYARD_TOKEN',
    );
  });

  it('keeps an answer that is not a problem document, and says when the gateway is not there', () => {
    expect(bridgeFailure(new StreamableHTTPError(502, 'Error POSTing to endpoint: Bad Gateway'))).toBe(
      '502: Error POSTing to endpoint: Bad Gateway',
    );
    expect(bridgeFailure(new TypeError('fetch failed'))).toBe('gateway unreachable: fetch failed');
  });
});
