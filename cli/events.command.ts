import type { RecordedEventJson } from '../kernel/envelope.ts';
import { CliError } from './errors.ts';
import { followEvents } from './events-follow.ts';
import { type GatewayOptions, gatewayOf } from './gateway-options.ts';
import { apiGet } from './http-client.ts';

interface Options extends GatewayOptions {
  stream?: string;
  category?: string;
  type?: string;
  after: string;
  limit?: string;
  follow?: boolean;
}

/**
 * Prints events as JSON lines, paging through the gateway's /api/v1/events; with --follow, from the
 * live feed (/api/v1/events/stream), which goes on with new events as they are appended.
 */
export async function eventsCommand(opts: Options): Promise<void> {
  const max = opts.limit === undefined ? Number.POSITIVE_INFINITY : Number(opts.limit);
  if (!Number.isFinite(max) && opts.limit !== undefined) throw new CliError('--limit must be a number');
  const gateway = await gatewayOf(opts);
  let printed = 0;
  const print = (e: RecordedEventJson) => {
    process.stdout.write(`${JSON.stringify(e)}\n`);
    printed++;
  };
  if (opts.follow) {
    const notice = (m: string) => process.stderr.write(`switchyard events: ${m}\n`);
    const { stream, category, type, after } = opts;
    return followEvents(gateway, { stream, category, type, after, max, print, notice });
  }

  if (opts.stream) {
    let from = '0';
    for (;;) {
      const page = await apiGet<{ events: RecordedEventJson[]; nextRevision: string | null }>(
        gateway,
        '/api/v1/events',
        {
          stream: opts.stream,
          fromRevision: from,
          limit: String(Math.min(1000, max - printed)),
        },
      );
      for (const e of page.events) print(e);
      if (printed >= max) return;
      if (!page.nextRevision) return;
      from = page.nextRevision;
    }
  }

  let after = opts.after;
  for (;;) {
    const page = await apiGet<{ events: RecordedEventJson[]; next: string; hasMore: boolean }>(
      gateway,
      '/api/v1/events',
      {
        after,
        category: opts.category,
        type: opts.type,
        limit: String(Math.min(1000, max - printed)),
      },
    );
    for (const e of page.events) print(e);
    if (printed >= max) return;
    after = page.next;
    if (!page.hasMore) return;
  }
}
