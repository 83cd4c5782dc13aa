import type { Request, StepResult } from '../../domains/deployments/index.ts';
import {
  KEEP_CURRENT_SECRET,
  type ServerCommands,
  type ServerEvent,
  type ServerNameEvent,
  serverDecider,
  serverNameStream,
  serverStream,
} from '../../domains/servers/index.ts';
import { loadStream } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { AppError } from '../../kernel/errors.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import type { SecretBox } from '../../kernel/secrets.ts';
import type { UpstreamSpec, Upstreams } from '../../runners/upstream.port.ts';

/** The candidate instances of a deployment: its own id in the saga's private pool. */
export const candidateId = (deploymentId: string) => uuidV5(`deployment-candidate/${deploymentId}`);

/** The new revision's instances, started next to whatever serves now, in the saga's own pool. */
export async function startCandidate(
  pool: Upstreams,
  request: Request,
  build: StepResult,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<StepResult> {
  if (!build.command) throw new AppError('internal', 'DEPLOYMENT.NO_BUILD', 'the build step left no command');
  const spec: UpstreamSpec = {
    serverId: candidateId(request.deploymentId),
    name: `${request.serverName}-candidate`,
    revision: 1n,
    transport: {
      type: 'stdio',
      command: build.command,
      args: build.args ?? [],
      env: {},
      ...(build.cwd !== undefined && { cwd: build.cwd }),
    },
    replicas: request.replicas,
    extraUrls: [],
    loadBalancing: 'round-robin',
    weights: [],
    clientSessions: 0,
    connectTimeoutMs: timeoutMs,
    callTimeoutMs: timeoutMs,
  };
  await pool.ensure(spec);
  // Every replica must be up: a revision that crashes on start never takes traffic.
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    const instances = pool.status(spec.serverId)[0]?.instances ?? [];
    if (instances.length === request.replicas && instances.every((i) => i.state === 'healthy')) break;
    const broken = instances.find((i) => i.state === 'error' || i.state === 'stopped');
    if (broken || instances.some((i) => i.restarts > 0)) {
      throw new AppError(
        'unavailable',
        'DEPLOYMENT.START_FAILED',
        `the new revision did not stay up: ${broken?.lastError ?? instances.find((i) => i.lastError)?.lastError ?? 'it exited'}`,
      );
    }
    if (signal.aborted) throw signal.reason;
    await new Promise((r) => setTimeout(r, pause));
  }
  return { ...build };
}

/** Stops the candidate instances (compensation of start, and the end of drain). */
export async function stopCandidate(pool: Upstreams, deploymentId: string): Promise<string> {
  await pool.stop(candidateId(deploymentId));
  return 'stopped the candidate instances';
}

/**
 * The health gate, on the candidate: initialize and the lists (discovery), a ping, the expected
 * tools listed, and the smoke call answered without isError.
 */
export async function healthGate(
  pool: Upstreams,
  secrets: SecretBox,
  request: Request,
  timeoutMs: number,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<StepResult> {
  const id = candidateId(request.deploymentId);
  const catalog = await pool.discover(id, { signal, timeoutMs });
  const tools = catalog.tools.map((t) => t.name);
  log(
    `initialized ${catalog.serverInfo?.name ?? '?'} ${catalog.serverInfo?.version ?? ''}: ${tools.length} tools\n`,
  );
  const pingMs = await pool.ping(id, { timeoutMs });
  log(`ping ${pingMs.toFixed(1)} ms\n`);
  const missing = request.health.expectedTools.filter((t) => !tools.includes(t));
  if (missing.length > 0) {
    throw new AppError(
      'unavailable',
      'DEPLOYMENT.HEALTH_GATE',
      `expected tools not listed: ${missing.join(', ')}`,
    );
  }
  const smoke = request.health.smoke;
  if (smoke) {
    const args = smoke.sealed
      ? (JSON.parse(secrets.decrypt(smoke.sealed)) as Record<string, unknown>)
      : smoke.arguments;
    const result = await pool.callTool(id, smoke.tool, args, { signal, timeoutMs });
    if (result.isError) {
      const text = JSON.stringify(result.content).slice(0, 300);
      throw new AppError(
        'unavailable',
        'DEPLOYMENT.HEALTH_GATE',
        `the smoke call of ${smoke.tool} failed: ${text}`,
      );
    }
    log(`smoke call ${smoke.tool}: ok\n`);
  }
  return { tools };
}

/** The server registered under a name now, with its state. */
export async function serverNamed(deps: { store: EventStore; registry: EventTypeRegistry }, name: string) {
  const names = await loadStream<ServerNameEvent>(deps, serverNameStream(name));
  const last = names.events.at(-1);
  if (last?.type !== 'ServerNameReserved') return undefined;
  const server = await loadStream<ServerEvent>(deps, serverStream(last.data.serverId));
  const state = server.events.reduce(serverDecider.evolve, serverDecider.initialState);
  if (state.status !== 'active' || state.name !== name) return undefined;
  return { serverId: last.data.serverId, state, server };
}

export interface SwitchDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  servers: ServerCommands;
}

/**
 * Points the server name at the new revision: registers it (first deployment) or updates its
 * transport to the new build and its replicas. The runners start the new instances next to the
 * old ones, swap, and drain the old (runners/pool). Command ids derive from the deployment, so a
 * resumed switch appends nothing twice.
 */
export async function switchTraffic(
  deps: SwitchDeps,
  request: Request,
  build: StepResult,
  meta: CommandMeta,
): Promise<StepResult> {
  const transport = {
    type: 'stdio' as const,
    command: build.command ?? '',
    args: build.args ?? [],
    ...(build.cwd !== undefined && { cwd: build.cwd }),
  };
  const current = await serverNamed(deps, request.serverName);
  const earlier = current?.server.recorded.findIndex((r) => r.metadata.causationId === meta.commandId) ?? -1;
  if (current && earlier >= 0) {
    // This switch reached the registry before the worker died: what it did then, not again.
    const before = current.server.events
      .slice(0, earlier)
      .reduce(serverDecider.evolve, serverDecider.initialState);
    const was =
      before.status === 'active' && before.transport.type === 'stdio' ? before.transport : undefined;
    return {
      serverId: current.serverId,
      registered: current.server.recorded[earlier]!.type === 'ServerRegistered',
      serverRevision: String(
        current.server.recorded.filter((r) => r.metadata.causationId === meta.commandId).at(-1)!.revision,
      ),
      previous: was
        ? { command: was.command, args: [...was.args], ...(was.cwd !== undefined && { cwd: was.cwd }) }
        : null,
    };
  }
  if (!current) {
    const r = await deps.servers.register(
      {
        name: request.serverName,
        transport: { ...transport, env: {} },
        tags: ['deployed'],
        enabled: true,
        settings: { replicas: request.replicas },
      },
      meta,
    );
    return { serverId: r.serverId, registered: true, serverRevision: String(r.revision), previous: null };
  }
  const was = current.state.transport;
  if (was.type !== 'stdio') {
    throw new AppError(
      'conflict',
      'DEPLOYMENT.NOT_STDIO',
      `server ${request.serverName} is a ${was.type} server: a deployment runs its revision as a stdio process`,
    );
  }
  const previous = {
    command: was.command,
    args: [...was.args],
    ...(was.cwd !== undefined && { cwd: was.cwd }),
  };
  // The server's own environment (sealed secrets included) stays: each key keeps its current value.
  const env = Object.fromEntries(Object.keys(was.env).map((k) => [k, KEEP_CURRENT_SECRET]));
  const r = await deps.servers.update(
    current.serverId,
    { transport: { ...transport, env }, settings: { replicas: request.replicas } },
    meta,
  );
  return { serverId: current.serverId, registered: false, serverRevision: String(r.revision), previous };
}

/**
 * Waits until the runners serve the server at `serverRevision` or later, with every instance
 * healthy: traffic reaches the new revision.
 */
export async function waitServed(
  deps: { upstreams: Upstreams },
  serverId: string,
  serverRevision: bigint,
  replicas: number,
  signal: AbortSignal,
): Promise<void> {
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    const status = deps.upstreams.status(serverId)[0];
    const healthy = status?.instances.filter((i) => i.state === 'healthy').length ?? 0;
    if (status && BigInt(status.revision) >= serverRevision && healthy >= replicas) return;
    if (signal.aborted) throw signal.reason;
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** Waits until the discovery saga completed a request made for `serverRevision` or a later one. */
export async function waitDiscovered(
  store: EventStore,
  serverId: string,
  serverRevision: bigint,
  signal: AbortSignal,
): Promise<void> {
  for (let pause = 50; ; pause = Math.min(pause * 2, 500)) {
    let asked = false;
    for (const e of await store.readStream(`discovery-${serverId}`)) {
      if (e.type === 'DiscoveryRequested') {
        asked = BigInt((e.data as { serverRevision: string }).serverRevision) >= serverRevision;
      } else if (e.type === 'DiscoveryCompleted' && asked) {
        return;
      } else if (
        e.type === 'DiscoveryAttemptFailed' &&
        asked &&
        (e.data as { nextAttemptAt: unknown }).nextAttemptAt === null
      ) {
        throw new AppError(
          'unavailable',
          'DEPLOYMENT.DISCOVERY_FAILED',
          'the new revision could not be discovered',
        );
      }
    }
    if (signal.aborted) throw signal.reason;
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** Undoes a switch: the previous transport back, or the server the deployment registered removed. */
export async function switchBack(
  deps: SwitchDeps,
  request: Request,
  switched: StepResult,
  meta: CommandMeta,
): Promise<string> {
  if (!switched.serverId) return 'the switch had not reached the registry: nothing to undo';
  if (switched.registered) {
    await deps.servers.remove(switched.serverId, meta).catch((e: unknown) => {
      if (!(e instanceof AppError && e.kind === 'not_found')) throw e;
    });
    return `removed server ${request.serverName}, which this deployment had registered`;
  }
  if (!switched.previous) return 'no previous transport recorded: nothing to undo';
  const current = await serverNamed(deps, request.serverName);
  if (!current) return `server ${request.serverName} is gone: nothing to undo`;
  const env = Object.fromEntries(
    Object.keys(current.state.transport.type === 'stdio' ? current.state.transport.env : {}).map((k) => [
      k,
      KEEP_CURRENT_SECRET,
    ]),
  );
  await deps.servers.update(
    current.serverId,
    { transport: { type: 'stdio', ...switched.previous, env } },
    meta,
  );
  return `switched ${request.serverName} back to ${switched.previous.command} ${switched.previous.args.join(' ')}`;
}
