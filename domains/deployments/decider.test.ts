import { describe, expect, it } from 'vitest';
import { fold, spec } from '../../kernel/decider.ts';
import { type DeploymentCommand, deploymentDecider, deployTargetDecider, type Request } from './decider.ts';
import type { DeploymentEvent, DeploymentStep, DeployTargetEvent } from './events.ts';

const id = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const other = '9a1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const t0 = new Date('2026-12-07T04:00:00.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const request: Request = {
  deploymentId: id,
  serverName: 'calc',
  source: { kind: 'directory', path: 'apps/calc' },
  run: null,
  replicas: 1,
  health: { expectedTools: ['add'], smoke: null },
  timeouts: { buildMs: 60_000, startMs: 10_000, healthMs: 10_000, switchMs: 10_000, drainMs: 5_000 },
  tenant: 'default',
  owner: 'alice',
  requestedAt: t0.toISOString(),
  queued: false,
};
const requested: DeploymentEvent = { type: 'DeploymentRequested', data: request };
const started = (step: DeploymentStep, s: number): DeploymentEvent => ({
  type: 'DeploymentStepStarted',
  data: { deploymentId: id, step, deadline: at(s + 10).toISOString(), at: at(s).toISOString() },
});
const completed = (step: DeploymentStep, s: number, result = {}): DeploymentEvent => ({
  type: 'DeploymentStepCompleted',
  data: { deploymentId: id, step, durationMs: 1000, log: '', result, at: at(s + 1).toISOString() },
});
const through = (steps: DeploymentStep[]) =>
  steps.flatMap((step, i) => [started(step, i * 2), completed(step, i * 2)]);
const fail = (step: DeploymentStep, s: number): DeploymentCommand => ({
  type: 'FailStep',
  step,
  reason: 'boom',
  log: 'npm ERR!',
  result: {},
  at: at(s),
});

describe('deployment decider', () => {
  it('runs the steps in order, one at a time, and refuses one out of order', () => {
    spec(deploymentDecider)
      .given([requested])
      .when({ type: 'StartStep', step: 'build', deadline: at(10), at: at(0) })
      .thenEmits([started('build', 0)]);
    spec(deploymentDecider)
      .given([requested])
      .when({ type: 'StartStep', step: 'start', deadline: at(10), at: at(0) })
      .thenThrows('DEPLOYMENT.STEP_OUT_OF_ORDER');
    // Starting the step under way again (a retried input) appends nothing.
    spec(deploymentDecider)
      .given([requested, started('build', 0)])
      .when({ type: 'StartStep', step: 'build', deadline: at(10), at: at(0) })
      .thenEmits([]);
  });

  it('succeeds once every step completed, with the revision it is given', () => {
    const all = [requested, ...through(['build', 'start', 'health', 'switch', 'drain'])];
    const events = deploymentDecider.decide(
      { type: 'Finish', serverId: other, revision: 3, at: at(20) },
      fold(deploymentDecider, all),
    );
    expect(events).toEqual([
      {
        type: 'DeploymentSucceeded',
        data: {
          deploymentId: id,
          serverName: 'calc',
          serverId: other,
          revision: 3,
          durationMs: 20_000,
          at: at(20).toISOString(),
        },
      },
    ]);
    // Not before.
    spec(deploymentDecider)
      .given([requested, ...through(['build', 'start'])])
      .when({ type: 'Finish', serverId: other, revision: 3, at: at(20) })
      .thenEmits([]);
  });

  it('undoes what a failed deployment did, last first, the failed step too when it may have acted', () => {
    const failedAtSwitch = fold(deploymentDecider, [
      requested,
      ...through(['build', 'start', 'health']),
      started('switch', 6),
      ...deploymentDecider.decide(
        fail('switch', 8),
        fold(deploymentDecider, [requested, ...through(['build', 'start', 'health']), started('switch', 6)]),
      ),
    ]);
    expect(failedAtSwitch.status).toBe('compensating');
    expect(failedAtSwitch.status === 'compensating' && failedAtSwitch.toUndo).toEqual([
      'switch',
      'start',
      'build',
    ]);
    // A failed health gate: its candidate and its build are undone; the registry was never touched.
    const failedAtHealth = fold(deploymentDecider, [
      requested,
      ...through(['build', 'start']),
      started('health', 4),
      ...deploymentDecider.decide(
        fail('health', 5),
        fold(deploymentDecider, [requested, ...through(['build', 'start']), started('health', 4)]),
      ),
    ]);
    expect(failedAtHealth.status === 'compensating' && failedAtHealth.toUndo).toEqual(['start', 'build']);
  });

  it('ends rolled back only when everything is undone, with the failed step and the reason', () => {
    const events: DeploymentEvent[] = [requested, started('build', 0)];
    events.push(...deploymentDecider.decide(fail('build', 1), fold(deploymentDecider, events)));
    spec(deploymentDecider)
      .given(events)
      .when({ type: 'Finish', serverId: '', revision: 1, at: at(3) })
      .thenEmits([]);
    events.push(
      ...deploymentDecider.decide(
        { type: 'RecordCompensation', step: 'build', note: 'removed', at: at(2) },
        fold(deploymentDecider, events),
      ),
    );
    spec(deploymentDecider)
      .given(events)
      .when({ type: 'Finish', serverId: '', revision: 1, at: at(3) })
      .thenEmits([
        {
          type: 'DeploymentRolledBack',
          data: {
            deploymentId: id,
            serverName: 'calc',
            failedStep: 'build',
            reason: 'boom',
            durationMs: 3000,
            at: at(3).toISOString(),
          },
        },
      ]);
  });

  it('a stop while a step runs fails that step when it ends, even if it succeeded', () => {
    const stop: DeploymentEvent = {
      type: 'DeploymentStopRequested',
      data: { deploymentId: id, reason: 'stopped by bob', at: at(1).toISOString() },
    };
    const events = deploymentDecider.decide(
      { type: 'CompleteStep', step: 'build', log: '', result: { dir: '/d' }, at: at(2) },
      fold(deploymentDecider, [requested, started('build', 0), stop]),
    );
    expect(events.map((e) => e.type)).toEqual(['DeploymentStepFailed']);
    expect(events[0]?.data).toMatchObject({ reason: 'stopped by bob', result: { dir: '/d' } });
  });

  it('a stop between steps turns it to undoing what completed', () => {
    const s = fold(deploymentDecider, [
      requested,
      ...through(['build']),
      {
        type: 'DeploymentStopRequested',
        data: { deploymentId: id, reason: 'stop', at: at(3).toISOString() },
      },
    ]);
    expect(s.status === 'compensating' && s.toUndo).toEqual(['build']);
  });

  it('refuses to stop a finished deployment', () => {
    const done = [
      requested,
      ...through(['build', 'start', 'health', 'switch', 'drain']),
      {
        type: 'DeploymentSucceeded',
        data: {
          deploymentId: id,
          serverName: 'calc',
          serverId: other,
          revision: 1,
          durationMs: 1,
          at: at(20).toISOString(),
        },
      },
    ] as DeploymentEvent[];
    spec(deploymentDecider)
      .given(done)
      .when({ type: 'RequestStop', reason: 'x', at: at(21) })
      .thenThrows('DEPLOYMENT.FINISHED');
  });
});

describe('a queued deployment', () => {
  it('waits until dequeued, then runs; stopped while it waits, it ends with nothing to undo', () => {
    const q: DeploymentEvent = { type: 'DeploymentRequested', data: { ...request, queued: true } };
    spec(deploymentDecider)
      .given([q])
      .when({ type: 'StartStep', step: 'build', deadline: at(10), at: at(0) })
      .thenEmits([]);
    spec(deploymentDecider)
      .given([q])
      .when({ type: 'Dequeue', at: at(1) })
      .thenEmits([{ type: 'DeploymentDequeued', data: { deploymentId: id, at: at(1).toISOString() } }]);
    const stopped = fold(deploymentDecider, [
      q,
      {
        type: 'DeploymentStopRequested',
        data: { deploymentId: id, reason: 'no longer wanted', at: at(2).toISOString() },
      },
    ]);
    expect(stopped.status === 'compensating' && stopped.toUndo).toEqual([]);
  });
});

describe('deploy target decider', () => {
  const claimed = (d: string): DeployTargetEvent => ({
    type: 'DeploymentClaimed',
    data: { serverName: 'calc', deploymentId: d, at: t0.toISOString() },
  });
  const released = (d: string, revision: number | null): DeployTargetEvent => ({
    type: 'DeploymentReleased',
    data: {
      serverName: 'calc',
      deploymentId: d,
      outcome: revision === null ? 'rolled-back' : 'succeeded',
      revision,
      at: t0.toISOString(),
    },
  });

  it('one deployment per server at a time', () => {
    spec(deployTargetDecider)
      .given([claimed(id)])
      .when({ type: 'Claim', serverName: 'calc', deploymentId: other, queue: false, at: t0 })
      .thenThrows('DEPLOYMENT.IN_PROGRESS');
    spec(deployTargetDecider)
      .given([claimed(id), released(id, 1)])
      .when({ type: 'Claim', serverName: 'calc', deploymentId: other, queue: false, at: t0 })
      .thenEmits([claimed(other)]);
  });

  it('numbers the revisions that went live; a rolled-back deployment takes no number', () => {
    spec(deployTargetDecider)
      .given([claimed(id), released(id, null)])
      .when({ type: 'Claim', serverName: 'calc', deploymentId: other, queue: false, at: t0 })
      .thenEmits([claimed(other)]);
    spec(deployTargetDecider)
      .given([claimed(id), released(id, 1), claimed(other)])
      .when({ type: 'Release', serverName: 'calc', deploymentId: other, outcome: 'succeeded', at: t0 })
      .thenEmits([released(other, 2)]);
  });

  it('queues a deployment that asks to wait, and hands it the name when the one before it ends', () => {
    const queued: DeployTargetEvent = {
      type: 'DeploymentQueued',
      data: { serverName: 'calc', deploymentId: other, at: t0.toISOString() },
    };
    spec(deployTargetDecider)
      .given([claimed(id)])
      .when({ type: 'Claim', serverName: 'calc', deploymentId: other, queue: true, at: t0 })
      .thenEmits([queued]);
    spec(deployTargetDecider)
      .given([claimed(id), queued])
      .when({ type: 'Release', serverName: 'calc', deploymentId: id, outcome: 'succeeded', at: t0 })
      .thenEmits([released(id, 1), claimed(other)]);
    // A queued one that is stopped leaves the queue and never holds the name.
    const s = fold(deployTargetDecider, [
      claimed(id),
      queued,
      ...deployTargetDecider.decide(
        { type: 'Release', serverName: 'calc', deploymentId: other, outcome: 'rolled-back', at: t0 },
        fold(deployTargetDecider, [claimed(id), queued]),
      ),
    ]);
    expect(s).toEqual({ active: id, queue: [], revisions: [] });
  });
});
