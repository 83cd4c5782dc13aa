import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { EgressGuard } from '../egress.ts';
import type { ListChanged, UpstreamSpec, UpstreamStatus } from '../upstream.port.ts';
import { Balancer } from './balancer.ts';
import type { CircuitBreakerOptions } from './circuit-breaker.ts';
import type { Connection, InstanceTarget } from './connection.ts';
import { UpstreamInstance } from './instance.ts';
import type { RestartPolicyOptions } from './restart-policy.ts';

export interface ServerEntryDeps {
  clock: Clock;
  logger: Logger;
  baseEnv: Record<string, string>;
  restart: RestartPolicyOptions;
  circuitBreaker: CircuitBreakerOptions;
  killGraceMs: number;
  capabilities: ClientCapabilities;
  clientInfo: { name: string; version: string };
  egress: EgressGuard;
  onListChanged: (change: ListChanged) => void;
  onResourceUpdated: (serverId: string, uri: string) => void;
  /** A session of one of the server's instances is up (`spec` as it is then). */
  onConnected: (spec: UpstreamSpec, connection: Connection) => void;
  /** A stdio process of one of the server's instances wrote a line to stderr. */
  onStderr?: (spec: UpstreamSpec, instance: number, line: string, pid: number) => void;
}

/** The instances a spec asks for: `replicas` copies of a command, or the URL plus `extraUrls`. */
export function instanceTargets(spec: UpstreamSpec, baseEnv: Record<string, string>): InstanceTarget[] {
  const t = spec.transport;
  if (t.type === 'stdio') {
    // Exactly the registration's env over PATH and HOME: nothing else of the runner's leaks in.
    const env = { ...baseEnv, ...t.env };
    return Array.from({ length: spec.replicas }, () => ({
      type: 'stdio' as const,
      command: t.command,
      args: [...t.args],
      env,
      cwd: t.cwd,
    }));
  }
  return [t.url, ...spec.extraUrls].map((url) => ({ type: t.type, url, headers: { ...t.headers } }));
}

/** One server's running configuration: its instances and how calls are spread over them. */
export class ServerEntry {
  readonly instances: UpstreamInstance[];
  private balancer: Balancer;
  private waiters = new Set<() => void>();
  private readonly log: Logger;

  constructor(
    public spec: UpstreamSpec,
    deps: ServerEntryDeps,
  ) {
    this.log = deps.logger.child({ serverId: spec.serverId, server: spec.name });
    this.balancer = new Balancer(spec.loadBalancing);
    this.instances = instanceTargets(spec, deps.baseEnv).map(
      (target, index) =>
        new UpstreamInstance({
          serverId: spec.serverId,
          serverName: spec.name,
          index,
          target,
          weight: spec.weights[index] ?? 1,
          clientSessions: spec.clientSessions,
          connectTimeoutMs: spec.connectTimeoutMs,
          clock: deps.clock,
          logger: this.log,
          restart: deps.restart,
          circuitBreaker: deps.circuitBreaker,
          killGraceMs: deps.killGraceMs,
          capabilities: deps.capabilities,
          clientInfo: deps.clientInfo,
          egress: deps.egress,
          onListChanged: (kind) => deps.onListChanged({ serverId: spec.serverId, kind }),
          onResourceUpdated: (uri) => deps.onResourceUpdated(spec.serverId, uri),
          onConnected: (connection) => deps.onConnected(this.spec, connection),
          onChange: () => this.wake(),
          onStderr: (line, pid) => deps.onStderr?.(this.spec, index, line, pid),
        }),
    );
  }

  /** Resolves once every instance made its first connection attempt. */
  async start(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop()));
    this.wake();
  }

  async drainAndStop(maxMs: number): Promise<void> {
    await Promise.all(this.instances.map((i) => i.drainAndStop(maxMs)));
  }

  /** Same instances (transport, replicas, URLs, connect timeout): a new spec needs no restart. */
  sameInstancesAs(spec: UpstreamSpec): boolean {
    const key = (s: UpstreamSpec) =>
      JSON.stringify([sortKeys(s.transport), s.replicas, s.extraUrls, s.connectTimeoutMs]);
    return key(spec) === key(this.spec);
  }

  /** Takes a spec whose instances are the same (see sameInstancesAs). */
  update(spec: UpstreamSpec): void {
    if (spec.loadBalancing !== this.spec.loadBalancing) this.balancer = new Balancer(spec.loadBalancing);
    this.spec = spec;
  }

  async reviveFailed(): Promise<void> {
    await Promise.all(this.instances.filter((i) => i.state === 'error').map((i) => i.revive()));
  }

  /**
   * The instance for the next attempt: among those that could take a call now, preferring ones not
   * tried yet, in the order of the balancing strategy.
   */
  pick(tried: ReadonlySet<number>): UpstreamInstance | undefined {
    const available = this.instances.filter((i) => i.available);
    const fresh = available.filter((i) => !tried.has(i.index));
    const candidates = (fresh.length > 0 ? fresh : available).map((instance) => ({
      index: instance.index,
      inFlight: instance.inFlight,
      weight: this.spec.weights[instance.index] ?? 1,
      instance,
    }));
    return this.balancer.order(candidates)[0]?.instance;
  }

  /** Some instance is on its way up: a caller may wait for it. */
  get recovering(): boolean {
    return this.instances.some((i) => i.recovering);
  }

  /** Resolves at the next state change of any instance, after `ms`, or when `signal` aborts. */
  changed(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  noInstanceError(): AppError {
    const states = this.instances.map((i) => {
      const s = i.status();
      const circuit = s.state === 'healthy' || s.circuit === 'closed' ? '' : `, circuit ${s.circuit}`;
      return `#${s.index} ${s.state}${circuit}${s.lastError ? ` (${s.lastError})` : ''}`;
    });
    return new AppError(
      'unavailable',
      'UPSTREAM.NO_HEALTHY_INSTANCE',
      `server '${this.spec.name}' has no instance that can take calls: ${states.join('; ')}`,
      { serverId: this.spec.serverId, instances: this.instances.map((i) => i.status()) },
    );
  }

  status(): UpstreamStatus {
    return {
      serverId: this.spec.serverId,
      name: this.spec.name,
      revision: this.spec.revision.toString(),
      instances: this.instances.map((i) => i.status()),
    };
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
