import type { StoredTransport } from '../../domains/servers/index.ts';
import { redactSecrets } from '../../kernel/secrets.ts';
import type { RedactedTransport } from '../db.ts';

/** What the read side may show of a transport. */
export function redactTransport(t: StoredTransport): RedactedTransport {
  switch (t.type) {
    case 'stdio':
      return {
        type: 'stdio',
        command: t.command,
        args: t.args,
        env: redactSecrets(t.env),
        ...(t.cwd !== undefined && { cwd: t.cwd }),
      };
    case 'streamable-http':
    case 'sse':
      return {
        type: t.type,
        url: t.url,
        headers: redactSecrets(t.headers),
        ...(t.query && { query: redactSecrets(t.query) }),
      };
    default: {
      const _: never = t;
      return _;
    }
  }
}
