import {
  DEPLOY_TARGET_CATEGORY,
  DEPLOYMENT_CATEGORY,
  type DeploymentCommands,
  type DeploymentState,
  type DeploymentStep,
  deployTarget,
  nextStep,
  type Request,
  type StepResult,
} from '../../domains/deployments/index.ts';
import { type Processor, startProcessor } from '../../event-store/processor.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { errorMessage } from '../../kernel/errors.ts';
import { idOf } from '../../kernel/streams.ts';
import { type DeploymentProcessDeps, type StepContext, stepWork, timeoutOf, undoStep } from './steps.ts';

export type { DeploymentProcessDeps } from './steps.ts';

/** Retries of a deployment that cannot advance double from 1 s; past this it is parked. */
const MAX_RETRY_DELAY_MS = 5 * 60_000;

/** Steps a worker that died in the middle of may run again: what they do is done again the same way. */
const RESUMABLE: ReadonlySet<DeploymentStep> = new Set(['switch', 'drain']);

/**
 * Runs the deployment saga: each deployment's next input is decided from its stream (a step to
 * start, a step's outcome, a compensation, the end), recorded, then acted on. A step runs against
 * its deadline (recorded when it started: after a restart, the time left is known); a step that
 * fails, times out or is stopped turns the deployment to undoing what it did, in reverse order.
 * A worker that dies mid-step: build, start and health are failed as interrupted (what they
 * started died with the worker) and compensated; switch and drain are run again.
 */
export function createDeploymentProcess(deps: DeploymentProcessDeps) {
  const log = deps.logger.child({ module: 'deployments' });
  const running = new Map<string, { step: DeploymentStep; abort: AbortController }>();
  const driving = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const retryDelays = new Map<string, number>();
  const stopping = new AbortController();
  let feed: Processor | undefined;

  const meta = (deploymentId: string, suffix: string, request?: Request): CommandMeta => ({
    commandId: `${deploymentId}/${suffix}`,
    // What the saga does for a deployment is done for whoever asked for it, in their tenant.
    actor: request?.owner ?? 'system:deployment',
    tenant: request?.tenant,
    correlationId: deploymentId,
    issuedAt: deps.clock.now(),
  });
  const steps: StepContext = { ...deps, meta };

  /** Drives one deployment as far as it can go now; single-flight, and once more if asked meanwhile. */
  function drive(deploymentId: string): Promise<void> {
    const current = driving.get(deploymentId);
    if (current) {
      again.add(deploymentId);
      return current;
    }
    const run = (async () => {
      do {
        again.delete(deploymentId);
        await advance(deploymentId);
      } while (again.has(deploymentId) && !stopping.signal.aborted);
      retryDelays.delete(deploymentId);
    })()
      .catch((e: unknown) => {
        // A store hiccup, or a compensation that failed (the registry refused a switch back):
        // tried again later, so no deployment is left half undone until the next restart.
        // One that keeps failing is parked (until the next start), not looped on.
        const delay = retryDelays.get(deploymentId) ?? 1_000;
        if (delay > MAX_RETRY_DELAY_MS) {
          log.error({ err: errorMessage(e), deploymentId }, 'deployment parked: it kept failing to advance');
          return;
        }
        retryDelays.set(deploymentId, delay * 2);
        log.error({ err: errorMessage(e), deploymentId, retryInMs: delay }, 'deployment could not advance');
        if (!stopping.signal.aborted) setTimeout(() => void drive(deploymentId), delay).unref();
      })
      .finally(() => driving.delete(deploymentId));
    driving.set(deploymentId, run);
    return run;
  }

  async function advance(id: string): Promise<void> {
    for (;;) {
      if (stopping.signal.aborted) return;
      const s = await deps.deployments.state(id);
      if (s.status === 'queued') {
        // Its turn comes when the deployment before it releases the name to it (one write).
        const target = await deployTarget(deps, s.request.serverName);
        if (target.active !== id) return;
        await record(id, s.request, 'dequeue', { type: 'Dequeue', at: deps.clock.now() });
        continue;
      }
      if (s.status === 'running') {
        if (s.current) {
          if (running.has(id)) return;
          const step = s.current.step;
          if (RESUMABLE.has(step)) {
            runStep(id, s, step);
            return;
          }
          await record(id, s.request, `fail/${step}`, {
            type: 'FailStep',
            step,
            reason: `interrupted: the worker stopped during ${step}`,
            log: '',
            result: {},
            at: deps.clock.now(),
          });
          continue;
        }
        const step = nextStep(s);
        if (!step) {
          await deps.deployments.finish(
            id,
            s.completed.switch?.serverId ?? '',
            meta(id, 'finish', s.request),
          );
          log.info({ deploymentId: id, server: s.request.serverName }, 'deployment succeeded');
          continue;
        }
        const deadline = new Date(deps.clock.now().getTime() + timeoutOf(s.request, step));
        await record(id, s.request, `start/${step}`, {
          type: 'StartStep',
          step,
          deadline,
          at: deps.clock.now(),
        });
        const now = await deps.deployments.state(id);
        if (now.status !== 'running' || now.current?.step !== step) continue;
        runStep(id, now, step);
        return;
      }
      if (s.status === 'compensating') {
        const step = s.toUndo[0];
        if (!step) {
          await deps.deployments.finish(
            id,
            s.completed.switch?.serverId ?? '',
            meta(id, 'finish', s.request),
          );
          log.warn(
            { deploymentId: id, server: s.request.serverName, reason: s.reason },
            'deployment rolled back',
          );
          return;
        }
        const note = await undoStep(steps, s, step);
        await record(id, s.request, `undo/${step}`, {
          type: 'RecordCompensation',
          step,
          note,
          at: deps.clock.now(),
        });
        continue;
      }
      return;
    }
  }

  const record = (
    id: string,
    request: Request,
    suffix: string,
    command: Parameters<DeploymentCommands['record']>[1],
  ) => deps.deployments.record(id, command, meta(id, suffix, request));

  /** Starts a step's work against its deadline; its outcome is recorded, then the deployment driven on. */
  function runStep(
    id: string,
    s: Extract<DeploymentState, { status: 'running' }>,
    step: DeploymentStep,
  ): void {
    const abort = new AbortController();
    running.set(id, { step, abort });
    const left = (s.current?.deadline.getTime() ?? 0) - deps.clock.now().getTime();
    const limit = timeoutOf(s.request, step);
    const timer = setTimeout(
      () => abort.abort(new Error(`${step} timed out after ${limit} ms`)),
      Math.max(0, left),
    );
    const onStop = () => abort.abort(new Error('the worker is stopping'));
    stopping.signal.addEventListener('abort', onStop, { once: true });
    let output = '';
    let done: StepResult = {};
    const logLine = (text: string) => {
      output += text;
      if (output.length > 64_000) output = output.slice(-32_000);
    };
    void (async () => {
      let outcome: Parameters<DeploymentCommands['record']>[1];
      try {
        const result = await Promise.race([
          stepWork(steps, s, step)(abort.signal, logLine, (d) => {
            done = d;
          }),
          aborted(abort.signal),
        ]);
        outcome = { type: 'CompleteStep', step, log: output, result, at: deps.clock.now() };
      } catch (e) {
        if (stopping.signal.aborted) return;
        const reason = errorMessage(abort.signal.aborted ? abort.signal.reason : e);
        outcome = { type: 'FailStep', step, reason, log: output, result: done, at: deps.clock.now() };
        log.warn({ deploymentId: id, step, reason }, 'deployment step failed');
      } finally {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', onStop);
        running.delete(id);
      }
      await record(
        id,
        s.request,
        `${outcome.type === 'CompleteStep' ? 'complete' : 'fail'}/${step}`,
        outcome,
      );
      await drive(id);
    })().catch((e: unknown) =>
      log.error({ err: errorMessage(e), deploymentId: id, step }, 'step outcome not recorded'),
    );
  }

  return {
    async start(): Promise<void> {
      // Resume what a previous process left under way (its state is in the deployment streams).
      const open = new Set<string>();
      let position = 0n;
      for (;;) {
        const page = await deps.store.readAll({
          after: position,
          maxCount: 1000,
          filter: { categories: [DEPLOYMENT_CATEGORY] },
        });
        for (const e of page) {
          const id = idOf(e.stream);
          if (e.type === 'DeploymentSucceeded' || e.type === 'DeploymentRolledBack') open.delete(id);
          else open.add(id);
        }
        if (page.length < 1000) break;
        position = page.at(-1)!.position;
      }
      for (const id of open) void drive(id);
      feed = startProcessor({
        name: 'deployments',
        store: deps.store,
        filter: { categories: [DEPLOYMENT_CATEGORY, DEPLOY_TARGET_CATEGORY] },
        checkpoint: deps.checkpoint,
        handle: async (event) => {
          if (event.type === 'DeploymentClaimed') {
            // A queued deployment's turn (the first of a server's claims its own request drives).
            void drive((event.data as { deploymentId: string }).deploymentId);
            return;
          }
          const id = idOf(event.stream);
          if (event.type === 'DeploymentStopRequested') {
            running.get(id)?.abort.abort(new Error((event.data as { reason: string }).reason));
          }
          if (event.type === 'DeploymentRequested' || event.type === 'DeploymentStopRequested')
            void drive(id);
        },
        logger: log,
      });
    },
    async stop(): Promise<void> {
      stopping.abort();
      await feed?.stop();
      await Promise.allSettled(driving.values());
    },
    /** Deployments with a step running in this process, for status and tests. */
    running: () => [...running.entries()].map(([id, r]) => ({ deploymentId: id, step: r.step })),
  };
}

export type DeploymentProcess = ReturnType<typeof createDeploymentProcess>;

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
