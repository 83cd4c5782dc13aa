import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, BusNames } from '../../bus/bus.port.ts';
import { createInProcessBus } from '../../bus/in-process/in-process.bus.ts';
import { createNatsBus } from '../../bus/nats/nats.bus.ts';
import { AppError } from '../../kernel/errors.ts';
import { silentLogger } from '../../kernel/logger.ts';
import {
  eventually,
  everythingTransport,
  fixtureTransport,
  newMarker,
  processesWith,
  repoRoot,
  spec,
  textOf,
} from '../../test/runners.ts';
import { services, uniqueName } from '../../test/services.ts';
import { createUpstreamPool, type UpstreamPool } from '../pool/pool.ts';
import { signalGroup } from '../pool/process-tree.ts';
import type { UpstreamSpec, Upstreams } from '../upstream.port.ts';
import { createRemoteUpstreams } from './remote-upstreams.ts';
import { serveUpstreams, type UpstreamsServer } from './serve-upstreams.ts';

const natsUrl = services().natsUrl;
if (!natsUrl) console.warn('!!! NATS_URL missing: the remote execution tests over NATS are SKIPPED');

function testNames(): BusNames {
  const id = uniqueName('exec');
  return {
    subjectPrefix: id,
    eventsStream: `${id}_EVENTS`.toUpperCase(),
    deadLetterStream: `${id}_DLQ`.toUpperCase(),
  };
}

/** A runner host inside the test: its own bus connection, pool and exec server. */
interface Runner {
  name: string;
  bus: Bus;
  pool: UpstreamPool;
  server: UpstreamsServer;
  stop(): Promise<void>;
}

async function startRunner(name: string, bus: Bus, s: UpstreamSpec, ownsBus: boolean): Promise<Runner> {
  const pool = createUpstreamPool({
    logger: silentLogger(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', RUNNER_NAME: name },
  });
  await pool.ensure(s);
  const server = await serveUpstreams({
    bus,
    upstreams: pool,
    logger: silentLogger(),
    runnerId: name,
    serverIds: [s.serverId],
    heartbeatMs: 300,
    statusIntervalMs: 300,
  });
  return {
    name,
    bus,
    pool,
    server,
    async stop() {
      await server.close();
      await pool.close();
      if (ownsBus) await bus.close();
    },
  };
}

/** Which runner served a call: each runner's server-everything sees its RUNNER_NAME. */
async function runnerOf(upstreams: Upstreams, serverId: string): Promise<string> {
  const text = textOf(await upstreams.callTool(serverId, 'get-env', {}));
  return (JSON.parse(text.slice(text.indexOf('{'))) as Record<string, string>).RUNNER_NAME ?? '?';
}

describe.skipIf(!natsUrl)('remote execution over NATS: two runners host one server', () => {
  const marker = newMarker();
  const names = testNames();
  const everything = spec(everythingTransport(marker), { name: 'everything' });
  let gatewayBus: Bus;
  let remote: Upstreams;
  let a: Runner;
  let b: Runner;

  beforeAll(async () => {
    const bus = () => createNatsBus({ url: natsUrl, names, logger: silentLogger() });
    gatewayBus = await bus();
    [a, b] = await Promise.all([
      bus().then((x) => startRunner('runner-a', x, everything, true)),
      bus().then((x) => startRunner('runner-b', x, everything, true)),
    ]);
    remote = await createRemoteUpstreams({ bus: gatewayBus, logger: silentLogger(), livenessMs: 3_000 });
  });

  afterAll(async () => {
    await remote?.close();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await gatewayBus?.close();
    expect(await processesWith(marker)).toEqual([]);
  });

  it('spreads calls over both runners', async () => {
    const served = await Promise.all(Array.from({ length: 20 }, () => runnerOf(remote, everything.serverId)));
    expect(served).toHaveLength(20);
    expect(new Set(served)).toEqual(new Set(['runner-a', 'runner-b']));
    expect(textOf(await remote.callTool(everything.serverId, 'echo', { message: 'remote' }))).toBe(
      'Echo: remote',
    );
  });

  it('sends one request and its reply for a quick call, and opens no subscription per call', async () => {
    const spy = await connect({ servers: natsUrl! });
    const seen: string[] = [];
    const sub = spy.subscribe(`${names.subjectPrefix}.>`, {
      callback: (_err, m) => {
        if (!m.subject.includes('.exec.status.')) seen.push(m.subject.slice(names.subjectPrefix.length + 1));
      },
    });
    await spy.flush();
    try {
      for (let i = 0; i < 20; i++) {
        expect(textOf(await remote.callTool(everything.serverId, 'echo', { message: `q${i}` }))).toBe(
          `Echo: q${i}`,
        );
      }
      await spy.flush();
      // The reply goes to the gateway's inbox, outside the prefix: nothing else of the calls is sent.
      expect(seen).toEqual(Array.from({ length: 20 }, () => `exec.${everything.serverId}`));
    } finally {
      sub.unsubscribe();
      await spy.close();
    }
  });

  it('relays progress and sampling between the upstream and the calling gateway', async () => {
    const progress: number[] = [];
    const result = await remote.callTool(
      everything.serverId,
      'trigger-long-running-operation',
      { duration: 0.8, steps: 4 },
      { onProgress: (p) => progress.push(p.progress) },
    );
    expect(textOf(result)).toContain('completed');
    expect(progress).toEqual([1, 2, 3, 4]);
    const sampled = await remote.callTool(
      everything.serverId,
      'trigger-sampling-request',
      { prompt: 'remote haiku' },
      {
        createMessage: async (params) => ({
          model: 'm',
          role: 'assistant',
          content: {
            type: 'text',
            text: `sampled: ${JSON.stringify(params.messages).includes('remote haiku')}`,
          },
        }),
      },
    );
    expect(textOf(sampled)).toContain('sampled: true');
    const roots = await remote.callTool(
      everything.serverId,
      'get-roots-list',
      {},
      { listRoots: async () => ({ roots: [{ uri: 'file:///remote', name: 'r' }] }) },
    );
    expect(textOf(roots)).toContain('file:///remote');
  });

  it('discovers, reads, gets prompts and pings through a runner', async () => {
    const catalog = await remote.discover(everything.serverId);
    expect(catalog.serverInfo?.name).toBe('mcp-servers/everything');
    expect(catalog.tools.map((t) => t.name)).toContain('echo');
    const read = await remote.readResource(everything.serverId, catalog.resources[0]!.uri);
    expect(read.contents).toHaveLength(1);
    const prompt = await remote.getPrompt(everything.serverId, 'simple-prompt', {});
    expect(prompt.messages.length).toBeGreaterThan(0);
    expect(await remote.ping(everything.serverId)).toBeGreaterThan(0);
  });

  it('reports the instances of both runners', async () => {
    const status = await eventually(() => {
      const s = remote.status(everything.serverId)[0];
      return s && s.instances.length === 2 ? s : undefined;
    });
    expect(status.instances.map((i) => i.target.split(':')[0]).sort()).toEqual(['runner-a', 'runner-b']);
    expect(status.instances.every((i) => i.state === 'healthy')).toBe(true);
  });

  it('carries errors across with their kinds, and cancels', async () => {
    await expect(remote.callTool('6f1c1a53-0000-4000-8000-000000000000', 'echo', {})).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'UPSTREAM.NOT_HOSTED',
    });
    const timedOut = await remote
      .callTool(
        everything.serverId,
        'trigger-long-running-operation',
        { duration: 2, steps: 1 },
        { timeoutMs: 300 },
      )
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(AppError);
    expect(timedOut).toMatchObject({ kind: 'timeout', code: 'UPSTREAM.TIMEOUT' });
    const controller = new AbortController();
    const call = remote.callTool(
      everything.serverId,
      'trigger-long-running-operation',
      { duration: 10, steps: 10 },
      { signal: controller.signal },
    );
    await eventually(() => a.server.inFlight() + b.server.inFlight() === 1, { what: 'the call to run' });
    controller.abort();
    await expect(call).rejects.toMatchObject({ kind: 'timeout', code: 'UPSTREAM.CANCELLED' });
    // The runner's upstream call was cancelled too, not left to run its 10 s.
    await eventually(() => a.server.inFlight() + b.server.inFlight() === 0, {
      timeoutMs: 5_000,
      what: 'the runner to drop the call',
    });
  });

  it('keeps serving from the other runner when one stops', async () => {
    await a.stop();
    const served = await Promise.all(Array.from({ length: 20 }, () => runnerOf(remote, everything.serverId)));
    expect(served).toEqual(Array.from({ length: 20 }, () => 'runner-b'));
  });
});

describe.skipIf(!natsUrl)('remote execution over NATS: a runner process dies', () => {
  const marker = newMarker();
  const names = testNames();
  const hang = spec(fixtureTransport('hang', marker), { name: 'hang' });
  const children: ChildProcess[] = [];
  let gatewayBus: Bus;
  let remote: Upstreams;

  function startRunnerProcess(runnerId: string): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/fixtures/runner-process.ts',
        natsUrl,
        JSON.stringify(names),
        JSON.stringify({ ...hang, revision: hang.revision.toString() }),
        runnerId,
      ],
      { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`runner ${runnerId} exited with ${code}`)));
    });
  }

  beforeAll(async () => {
    gatewayBus = await createNatsBus({ url: natsUrl, names, logger: silentLogger() });
    remote = await createRemoteUpstreams({ bus: gatewayBus, logger: silentLogger(), livenessMs: 2_000 });
  });

  afterAll(async () => {
    await remote?.close();
    await gatewayBus?.close();
    for (const c of children) if (c.pid) signalGroup(c.pid, 'SIGKILL');
    // The killed runner's server exits when its stdin closes; the other runner reaped its own.
    await eventually(async () => (await processesWith(marker)).length === 0, {
      what: 'no fixture process left',
    });
  });

  it('fails the calls that were on the dead runner as lost, and the other runner takes the rest', async () => {
    const [one, two] = await Promise.all([startRunnerProcess('proc-a'), startRunnerProcess('proc-b')]);
    // Calls that outlive the runner that gets killed: only heartbeats say they are alive.
    const slow = Array.from({ length: 12 }, () =>
      remote.callTool(hang.serverId, 'slow', { ms: 5_000 }).catch((e: unknown) => e),
    );
    // Runners report their instances' calls in flight: learn how many each one holds.
    const onA = await eventually(() => {
      const instances = remote.status(hang.serverId)[0]?.instances ?? [];
      const total = instances.reduce((n, i) => n + i.inFlight, 0);
      return total === 12
        ? { n: instances.find((i) => i.target.startsWith('proc-a'))?.inFlight ?? 0 }
        : undefined;
    });
    one.kill('SIGKILL');
    const outcomes = await Promise.all(slow);
    const lost = outcomes.filter((e) => e instanceof AppError && e.code === 'UPSTREAM.RUNNER_LOST');
    const done = outcomes.filter((r) => !(r instanceof Error) && textOf(r as never).startsWith('done'));
    expect(lost).toHaveLength(onA.n);
    expect(done).toHaveLength(12 - onA.n);
    for (let i = 0; i < 10; i++) {
      expect(textOf(await remote.callTool(hang.serverId, 'echo', { message: `after ${i}` }))).toBe(
        `after ${i}`,
      );
    }
    two.kill('SIGTERM');
  }, 60_000);
});

describe('remote execution over the in-process bus', () => {
  it('calls, relays progress and sampling, and says when no runner hosts a server', async () => {
    const marker = newMarker();
    const bus = createInProcessBus({ logger: silentLogger() });
    const s = spec(everythingTransport(marker), { name: 'everything' });
    const runner = await startRunner('solo', bus, s, false);
    const remote = await createRemoteUpstreams({ bus, logger: silentLogger() });
    try {
      expect(textOf(await remote.callTool(s.serverId, 'echo', { message: 'local' }))).toBe('Echo: local');
      const progress: number[] = [];
      await remote.callTool(
        s.serverId,
        'trigger-long-running-operation',
        { duration: 0.3, steps: 3 },
        { onProgress: (p) => progress.push(p.progress) },
      );
      expect(progress).toEqual([1, 2, 3]);
      const sampled = await remote.callTool(
        s.serverId,
        'trigger-sampling-request',
        { prompt: 'x' },
        {
          createMessage: async () => ({
            model: 'm',
            role: 'assistant',
            content: { type: 'text', text: 'in-proc' },
          }),
        },
      );
      expect(textOf(sampled)).toContain('in-proc');
      await runner.server.unserve(s.serverId);
      await expect(remote.callTool(s.serverId, 'echo', { message: 'x' })).rejects.toMatchObject({
        code: 'UPSTREAM.NOT_HOSTED',
      });
    } finally {
      await remote.close();
      await runner.stop();
      await bus.close();
    }
    expect(await processesWith(marker)).toEqual([]);
  });

  it('carries who a call is for, and that it makes one request only, to the runner', async () => {
    const marker = newMarker();
    const bus = createInProcessBus({ logger: silentLogger() });
    const s = spec(fixtureTransport('hang', marker), { clientSessions: 2 });
    const runner = await startRunner('solo', bus, s, false);
    const remote = await createRemoteUpstreams({ bus, logger: silentLogger() });
    try {
      const pid = (options: { caller?: string; oneShot?: boolean }) =>
        remote.callTool(s.serverId, 'pid', {}, options).then(textOf);
      const shared = await pid({});
      // Alone, a caller rides the idle shared process.
      expect(await pid({ caller: 'a-session' })).toBe(shared);
      const hung = new AbortController();
      const hanging = remote
        .callTool(s.serverId, 'hang', {}, { caller: 'h-session', signal: hung.signal })
        .catch(() => undefined);
      await eventually(() => runner.pool.status(s.serverId)[0]!.instances[0]!.inFlight === 1, {
        what: 'the hung call',
      });
      // While another caller's call is in flight there, a caller gets a process of its own…
      const own = await pid({ caller: 'a-session' });
      expect(own).not.toBe(shared);
      // …and a one-shot caller's own process ends with its request (the mark crossed the bus).
      const oneShot = await pid({ caller: 'a-request', oneShot: true });
      expect([shared, own]).not.toContain(oneShot);
      await eventually(async () => !(await processesWith(marker)).map(String).includes(oneShot), {
        what: "the one-shot caller's process to end",
      });
      hung.abort();
      await hanging;
    } finally {
      await remote.close();
      await runner.stop();
      await bus.close();
    }
    expect(await processesWith(marker)).toEqual([]);
  });
});
