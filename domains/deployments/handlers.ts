import { type CommandResult, handleCommand, handleWrites, loadStream } from '../../kernel/command-handler.ts';
import { type CommandMeta, fold } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { ownershipOf } from '../../kernel/ownership.ts';
import { streamName } from '../../kernel/streams.ts';
import {
  type DeploymentCommand,
  type DeploymentState,
  deploymentDecider,
  deployTargetDecider,
  liveRevision,
  nextRevision,
  type Request,
} from './decider.ts';
import { deploymentAlreadyFinished, deploymentNotFound, invalidDeploymentSource } from './errors.ts';
import {
  DEPLOY_TARGET_CATEGORY,
  DEPLOYMENT_CATEGORY,
  type DeploymentEvent,
  type DeployTargetEvent,
} from './events.ts';

export interface DeploymentCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
}

export const deploymentStream = (id: string) => streamName(DEPLOYMENT_CATEGORY, id.toLowerCase());
export const deployTargetStream = (serverName: string) => streamName(DEPLOY_TARGET_CATEGORY, serverName);

/** What the caller records; tenant and owner come from the command's metadata. */
export type DeploymentRequestInput = Omit<Request, 'tenant' | 'owner'>;

export interface DeploymentCommands {
  /**
   * Records the request and claims the server name in one write: a second deployment of the same
   * server while one runs is refused (DEPLOYMENT.IN_PROGRESS) and appends nothing. A rollback
   * source must name a revision that went live under the same server.
   */
  request(input: DeploymentRequestInput, meta: CommandMeta): Promise<CommandResult>;
  /** One saga input on the deployment's own stream (a step's start, end, failure; a compensation). */
  record(deploymentId: string, command: DeploymentCommand, meta: CommandMeta): Promise<CommandResult>;
  /** Asks a running deployment to stop: it is undone and ends rolled back. */
  stop(deploymentId: string, reason: string, meta: CommandMeta): Promise<CommandResult>;
  /**
   * Ends a deployment whose steps all completed (succeeded, with the server's next revision
   * number) or all were undone (rolled back), and releases the server name, in one write.
   */
  finish(deploymentId: string, serverId: string, meta: CommandMeta): Promise<CommandResult>;
  /** The deployment's state, folded from its stream. */
  state(deploymentId: string): Promise<DeploymentState>;
}

export function makeDeploymentCommands(deps: DeploymentCommandDeps): DeploymentCommands {
  const stateOf = async (id: string) =>
    fold(deploymentDecider, (await loadStream<DeploymentEvent>(deps, deploymentStream(id))).events);

  return {
    request(input, meta) {
      const own = deploymentStream(input.deploymentId);
      const target = deployTargetStream(input.serverName);
      const data: Request = { ...input, ...ownershipOf(meta) };
      return handleWrites(
        deps,
        {
          streams: [own, target],
          decide: (loaded) => {
            const targetState = fold(deployTargetDecider, loaded.get(target)!.events as DeployTargetEvent[]);
            if (data.source.kind === 'revision') {
              const live = liveRevision(targetState, data.serverName, data.source.revision);
              if (live.deploymentId !== data.source.deploymentId) {
                throw invalidDeploymentSource(
                  `revision ${data.source.revision} of ${data.serverName} was built by ${live.deploymentId}`,
                );
              }
            }
            const mine = fold(deploymentDecider, loaded.get(own)!.events as DeploymentEvent[]);
            const claim = deployTargetDecider.decide(
              {
                type: 'Claim',
                serverName: data.serverName,
                deploymentId: data.deploymentId,
                queue: data.queued,
                at: meta.issuedAt,
              },
              targetState,
            );
            const requested = deploymentDecider.decide({ type: 'RequestDeployment', data }, mine);
            return [
              { stream: target, events: claim },
              { stream: own, events: requested },
            ];
          },
        },
        meta,
      );
    },

    record: (deploymentId, command, meta) =>
      handleCommand(deps, deploymentDecider, deploymentStream(deploymentId), command, meta),

    async stop(deploymentId, reason, meta) {
      const state = await stateOf(deploymentId);
      if (state.status === 'none') throw deploymentNotFound(deploymentId);
      if (state.status === 'succeeded' || state.status === 'rolled-back') throw deploymentAlreadyFinished();
      return handleCommand(
        deps,
        deploymentDecider,
        deploymentStream(deploymentId),
        { type: 'RequestStop', reason, at: meta.issuedAt },
        meta,
      );
    },

    async finish(deploymentId, serverId, meta) {
      const own = deploymentStream(deploymentId);
      const state = await stateOf(deploymentId);
      if (state.status === 'none') throw deploymentNotFound(deploymentId);
      const target = deployTargetStream(state.request.serverName);
      return handleWrites(
        deps,
        {
          streams: [own, target],
          decide: (loaded) => {
            const mine = fold(deploymentDecider, loaded.get(own)!.events as DeploymentEvent[]);
            const targetState = fold(deployTargetDecider, loaded.get(target)!.events as DeployTargetEvent[]);
            const ended = deploymentDecider.decide(
              { type: 'Finish', serverId, revision: nextRevision(targetState), at: meta.issuedAt },
              mine,
            );
            if (ended.length === 0) return [];
            const outcome = ended[0]!.type === 'DeploymentSucceeded' ? 'succeeded' : 'rolled-back';
            const released = deployTargetDecider.decide(
              {
                type: 'Release',
                serverName: state.request.serverName,
                deploymentId,
                outcome,
                at: meta.issuedAt,
              },
              targetState,
            );
            return [
              { stream: target, events: released },
              { stream: own, events: ended },
            ];
          },
        },
        meta,
      );
    },

    state: stateOf,
  };
}

/** The live revisions of a server name, oldest first, and the deployment running on it if any. */
export async function deployTarget(deps: DeploymentCommandDeps, serverName: string) {
  const { events } = await loadStream<DeployTargetEvent>(deps, deployTargetStream(serverName));
  return fold(deployTargetDecider, events);
}
