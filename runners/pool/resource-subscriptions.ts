/**
 * Who subscribed to which resource of which server, one count per caller (an MCP session). Every
 * client shares the upstream's session, so the upstream itself must hear one subscribe per URI —
 * for the first caller — and one unsubscribe, when the last caller leaves. Operations on one
 * (server, URI) run one at a time, in call order: an unsubscribe never overtakes the subscribe it
 * undoes, and a second caller waits for the first caller's subscribe to be answered.
 */
export class ResourceSubscriptions {
  /** serverId → uri → callers. A URI is listed from its first caller's subscribe on. */
  private readonly servers = new Map<string, Map<string, Set<string>>>();
  private readonly queues = new Map<string, Promise<unknown>>();

  /** URIs of a server that have callers: what a new upstream session must subscribe to. */
  uris(serverId: string): string[] {
    return [...(this.servers.get(serverId)?.keys() ?? [])];
  }

  has(serverId: string, uri: string): boolean {
    return this.servers.get(serverId)?.has(uri) ?? false;
  }

  /**
   * Adds `caller`. When it is the URI's first, `first` asks the upstream; if that throws the
   * caller is not added and the error is thrown. Resolves with what `first` returned, or `{}`.
   */
  subscribe(
    serverId: string,
    uri: string,
    caller: string,
    first: () => Promise<Record<string, unknown>>,
  ): Promise<Record<string, unknown>> {
    return this.serialized(serverId, uri, async () => {
      const uris = this.servers.get(serverId) ?? new Map<string, Set<string>>();
      const callers = uris.get(uri);
      if (callers) {
        callers.add(caller);
        return {};
      }
      // Listed before the upstream answers, so a session that connects meanwhile subscribes too.
      uris.set(uri, new Set([caller]));
      this.servers.set(serverId, uris);
      try {
        return await first();
      } catch (e) {
        this.forget(serverId, uri);
        throw e;
      }
    });
  }

  /** Removes `caller`; when it was the URI's last, `last` tells the upstream. */
  unsubscribe(serverId: string, uri: string, caller: string, last: () => Promise<void>): Promise<void> {
    return this.serialized(serverId, uri, async () => {
      const callers = this.servers.get(serverId)?.get(uri);
      if (!callers?.delete(caller) || callers.size > 0) return;
      this.forget(serverId, uri);
      await last();
    });
  }

  clear(): void {
    this.servers.clear();
  }

  private forget(serverId: string, uri: string): void {
    const uris = this.servers.get(serverId);
    uris?.delete(uri);
    if (uris?.size === 0) this.servers.delete(serverId);
  }

  private serialized<T>(serverId: string, uri: string, run: () => Promise<T>): Promise<T> {
    const key = `${serverId}\n${uri}`;
    const next = (this.queues.get(key) ?? Promise.resolve()).catch(() => {}).then(run);
    this.queues.set(key, next);
    void next
      .catch(() => {})
      .finally(() => {
        if (this.queues.get(key) === next) this.queues.delete(key);
      });
    return next;
  }
}
