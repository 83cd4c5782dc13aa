import type {
  DeploymentCommands,
  DeploymentState,
  DeploymentStep,
  Request,
  StepResult,
} from '../../domains/deployments/index.ts';
import type { ServerCommands } from '../../domains/servers/index.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { SecretBox } from '../../kernel/secrets.ts';
import type { Upstreams } from '../../runners/upstream.port.ts';
import { type BuildDirs, buildRevision, removeBuild } from './build.ts';
import {
  healthGate,
  startCandidate,
  stopCandidate,
  switchBack,
  switchTraffic,
  waitDiscovered,
  waitServed,
} from './revision.ts';

export interface DeploymentProcessDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  clock: Clock;
  logger: Logger;
  deployments: DeploymentCommands;
  servers: ServerCommands;
  /** The system's upstreams: where the switched server is seen served. */
  upstreams: Upstreams;
  /** The saga's own pool, for the candidate instances it starts and checks before any switch. */
  candidates: Upstreams;
  dirs: BuildDirs;
  /** Opens the smoke call's sealed arguments. */
  secrets: SecretBox;
  /** Position in the log up to which deployment events have been acted on. */
  checkpoint: { load(): Promise<bigint>; save(position: bigint): Promise<void> };
}

/** A step's work: what it leaves, and its output. */
export type StepWork = (
  signal: AbortSignal,
  log: (text: string) => void,
  /** What the step has done so far: recorded with its failure, for its compensation. */
  keep: (done: StepResult) => void,
) => Promise<StepResult>;

/** What the steps act with: the process's dependencies, and the metadata of the saga's own commands. */
export interface StepContext extends DeploymentProcessDeps {
  meta(deploymentId: string, suffix: string, request?: Request): CommandMeta;
}

/** How long a step may take. */
export function timeoutOf(request: Request, step: DeploymentStep): number {
  const t = request.timeouts;
  return { build: t.buildMs, start: t.startMs, health: t.healthMs, switch: t.switchMs, drain: t.drainMs }[
    step
  ];
}

/** The work of one step of a running deployment. */
export function stepWork(
  deps: StepContext,
  s: Extract<DeploymentState, { status: 'running' }>,
  step: DeploymentStep,
): StepWork {
  const { request } = s;
  const limit = timeoutOf(request, step);
  const meta = deps.meta;
  switch (step) {
    case 'build':
      return async (signal, onOutput) => {
        // A rollback reuses the build of the deployment that put that revision live.
        const earlier =
          request.source.kind === 'revision'
            ? await deps.deployments.state(request.source.deploymentId)
            : undefined;
        const earlierBuild = earlier?.status === 'succeeded' ? earlier.completed.build : undefined;
        const built = await buildRevision({ request, dirs: deps.dirs, earlierBuild, signal, onOutput });
        return built.result;
      };
    case 'start':
      return (signal) => startCandidate(deps.candidates, request, s.completed.build ?? {}, limit, signal);
    case 'health':
      return (signal, onOutput) =>
        healthGate(deps.candidates, deps.secrets, request, limit, signal, onOutput);
    case 'switch':
      return async (signal, onOutput, keep) => {
        const switched = await switchTraffic(
          deps,
          request,
          s.completed.build ?? {},
          meta(request.deploymentId, 'switch', request),
        );
        onOutput(`server ${request.serverName} now at revision ${switched.serverRevision} of its stream\n`);
        keep(switched);
        await waitServed(
          deps,
          switched.serverId!,
          BigInt(switched.serverRevision!),
          request.replicas,
          signal,
        );
        onOutput('the runners serve the new revision\n');
        // Discovery may have listed the old instances while the new ones started: ask again,
        // now that only the new revision answers, and wait until its catalog is recorded.
        const refreshed = await deps.servers.refresh(
          switched.serverId!,
          meta(request.deploymentId, 'refresh', request),
        );
        await waitDiscovered(deps.store, switched.serverId!, refreshed.revision, signal);
        onOutput('its catalog is discovered\n');
        return switched;
      };
    case 'drain':
      return async (_signal, onOutput) => {
        onOutput(`${await stopCandidate(deps.candidates, request.deploymentId)}\n`);
        onOutput('the runners drain the previous revision and stop it\n');
        return {};
      };
    default: {
      const _: never = step;
      return _;
    }
  }
}

/** Undoes what one step of a deployment left (its compensation); answers a note for the log. */
export async function undoStep(
  deps: StepContext,
  s: Extract<DeploymentState, { status: 'compensating' }>,
  step: DeploymentStep,
): Promise<string> {
  const { request } = s;
  const id = request.deploymentId;
  switch (step) {
    case 'build':
      return removeBuild(deps.dirs, request);
    case 'start':
      return stopCandidate(deps.candidates, id);
    case 'switch': {
      const switched = s.completed.switch ?? (s.failedStep === 'switch' ? s.failedResult : {});
      return switchBack(deps, request, switched, deps.meta(id, 'switch-back', request));
    }
    default:
      return 'nothing to undo';
  }
}
