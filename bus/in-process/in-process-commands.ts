import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import {
  type BusNames,
  type Closeable,
  type CommandMessage,
  commandSubject,
  type RequestOptions,
  type ServeCommandsOptions,
} from '../bus.port.ts';
import { noResponders, requestTimedOut } from '../bus-errors.ts';
import { assertToken } from '../subjects.ts';
import {
  decodeCommandPayload,
  decodeReply,
  encodeJson,
  encodeReply,
  errorText,
  errorToWire,
} from '../wire.ts';

interface Server {
  options: ServeCommandsOptions;
  inFlight: Set<Promise<unknown>>;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Request/reply between the members of queue groups, in memory. Payloads, replies and errors go
 * through the same JSON codecs as on NATS, so only an AppError keeps its kind and code.
 */
export class CommandRouter {
  private readonly servers = new Map<string, Server[]>();
  private readonly turns = new Map<string, number>();

  constructor(
    private readonly names: BusNames,
    private readonly logger: Logger,
  ) {}

  serve(options: ServeCommandsOptions): Closeable {
    assertToken(options.category, 'command category');
    assertToken(options.queue, 'queue group');
    const server: Server = { options, inFlight: new Set() };
    const list = this.servers.get(options.category) ?? [];
    list.push(server);
    this.servers.set(options.category, list);
    return {
      close: async () => {
        const current = this.servers.get(options.category) ?? [];
        this.servers.set(
          options.category,
          current.filter((s) => s !== server),
        );
        await Promise.allSettled([...server.inFlight]);
      },
    };
  }

  /** One member per queue group gets the command (round robin); the first reply wins, as on NATS. */
  async request(
    category: string,
    name: string,
    payload: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const subject = commandSubject(this.names, category, name);
    const groups = new Map<string, Server[]>();
    for (const s of this.servers.get(category) ?? []) {
      groups.set(s.options.queue, [...(groups.get(s.options.queue) ?? []), s]);
    }
    if (groups.size === 0) {
      throw noResponders(subject);
    }
    const body = encodeJson(payload);
    const replies = [...groups].map(([queue, members]) => {
      const key = `${category}\u0000${queue}`;
      const turn = this.turns.get(key) ?? 0;
      this.turns.set(key, turn + 1);
      return this.deliver(members[turn % members.length]!, category, name, body, options.headers ?? {});
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(requestTimedOut(subject, timeoutMs)), timeoutMs);
    });
    try {
      return decodeReply(await Promise.race([Promise.race(replies), timeout]));
    } finally {
      clearTimeout(timer);
    }
  }

  private deliver(
    server: Server,
    category: string,
    name: string,
    body: Uint8Array,
    headers: Record<string, string>,
  ): Promise<Uint8Array> {
    const run = (async () => {
      try {
        const command: CommandMessage = {
          category,
          name,
          payload: decodeCommandPayload(body),
          headers: { ...headers },
        };
        return encodeReply({ ok: true, result: await server.options.handler(command) });
      } catch (e) {
        if (!(e instanceof AppError))
          this.logger.error({ category, name, err: errorText(e) }, 'command handler failed');
        return encodeReply({ ok: false, error: errorToWire(e) });
      }
    })();
    server.inFlight.add(run);
    run.finally(() => server.inFlight.delete(run));
    return run;
  }

  async close(): Promise<void> {
    const all = [...this.servers.values()].flat();
    this.servers.clear();
    await Promise.allSettled(all.flatMap((s) => [...s.inFlight]));
  }
}
