import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.ts';
import { silentLogger } from '../../kernel/logger.ts';
import {
  capturingLogger,
  eventually,
  everythingTransport,
  fixtureTransport,
  newMarker,
  processesWith,
  spec,
  textOf,
} from '../../test/runners.ts';
import { createUpstreamPool, type UpstreamPool } from './pool.ts';
import { isAlive } from './process-tree.ts';

/** Upstreams that misbehave: each gets a clear AppError, and the pool keeps serving. */
describe('upstream pool: faulty stdio servers', () => {
  const markers: string[] = [];
  const capture = capturingLogger('info');
  let pool: UpstreamPool;

  const marker = () => {
    const m = newMarker();
    markers.push(m);
    return m;
  };

  beforeAll(() => {
    pool = createUpstreamPool({
      logger: capture.logger,
      restart: { baseDelayMs: 50, maxDelayMs: 500 },
      killGraceMs: 2_000,
    });
  });

  afterAll(async () => {
    await pool.close();
    for (const m of markers) expect(await processesWith(m), `processes left for ${m}`).toEqual([]);
  });

  it('fails a call whose server crashes mid-call, says why, and restarts the server', async () => {
    const s = spec(fixtureTransport('crash', marker()), { name: 'crashy' });
    await pool.ensure(s);
    const firstPid = textOf(await pool.callTool(s.serverId, 'pid', {}));
    const e = await pool.callTool(s.serverId, 'crash', {}).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ kind: 'upstream', code: 'UPSTREAM.CONNECTION_LOST' });
    expect((e as AppError).message).toContain("server 'crashy'");
    expect((e as AppError).message).toContain('exited with code 3');
    expect((e as AppError).message).toContain('exiting on purpose');
    // A tool call is not repeated after the server died with it: it may have acted.
    // The next call waits for the restart and goes through on a new process.
    const secondPid = textOf(await pool.callTool(s.serverId, 'pid', {}));
    expect(secondPid).not.toBe(firstPid);
    expect(await isAlive(Number(firstPid))).toBe(false);
    expect(pool.status(s.serverId)[0]!.instances[0]).toMatchObject({ state: 'healthy', restarts: 1 });
    // stderr of the child reaches the log, tagged with the server.
    const line = capture.lines().find((l) => String(l.stderr ?? '').includes('exiting on purpose'));
    expect(line).toMatchObject({ server: 'crashy', instance: 0 });
    await pool.stop(s.serverId);
  });

  it('times out a call to a hanging server, cancels it upstream, and keeps serving', async () => {
    const s = spec(fixtureTransport('hang', marker()), { name: 'hangs', callTimeoutMs: 400 });
    await pool.ensure(s);
    const started = Date.now();
    const e = await pool.callTool(s.serverId, 'hang', {}).catch((err: unknown) => err);
    expect(e).toMatchObject({ kind: 'timeout', code: 'UPSTREAM.TIMEOUT', details: { timeoutMs: 400 } });
    expect((e as AppError).message).toContain("server 'hangs'");
    expect(Date.now() - started).toBeLessThan(5_000);
    // The SDK sent notifications/cancelled: the server saw its handler aborted.
    await eventually(async () => textOf(await pool.callTool(s.serverId, 'cancellations', {})) === '1', {
      what: 'the server to see the cancellation',
    });
    const controller = new AbortController();
    const hung = pool.callTool(s.serverId, 'hang', {}, { signal: controller.signal, timeoutMs: 60_000 });
    await eventually(() => pool.status(s.serverId)[0]!.instances[0]!.inFlight === 1);
    controller.abort();
    await expect(hung).rejects.toMatchObject({ kind: 'timeout', code: 'UPSTREAM.CANCELLED' });
    await eventually(async () => textOf(await pool.callTool(s.serverId, 'cancellations', {})) === '2', {
      what: 'the second cancellation',
    });
    expect(pool.status(s.serverId)[0]!.instances[0]).toMatchObject({
      state: 'healthy',
      restarts: 0,
      inFlight: 0,
    });
    await pool.stop(s.serverId);
  });

  it('ends a server that writes garbage to stdout, fails its calls at once, and restarts it', async () => {
    const s = spec(fixtureTransport('garbage', marker()), { name: 'garbled' });
    await pool.ensure(s);
    const started = Date.now();
    const e = await pool.callTool(s.serverId, 'garbage', {}).catch((err: unknown) => err);
    expect(e).toMatchObject({ kind: 'upstream', code: 'UPSTREAM.CONNECTION_LOST' });
    expect((e as AppError).message).toContain('not JSON-RPC');
    expect((e as AppError).message).toContain('this is not JSON-RPC {{{');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(textOf(await pool.callTool(s.serverId, 'echo', { message: 'recovered' }))).toBe('recovered');
    const bad = await pool.callTool(s.serverId, 'bad-result', {}).catch((err: unknown) => err);
    expect(bad).toMatchObject({ kind: 'upstream', code: 'UPSTREAM.BAD_RESULT' });
    expect(textOf(await pool.callTool(s.serverId, 'echo', { message: 'still fine' }))).toBe('still fine');
    await pool.stop(s.serverId);
  });

  it('gives a stdio server exactly its own env plus PATH and HOME', async () => {
    process.env.SY_RUNNER_SECRET = 'must-not-leak';
    try {
      const s = spec(fixtureTransport('env', marker(), { TOKEN: 's3cret', PATH: '/usr/bin:/bin' }), {
        name: 'env',
      });
      // PATH from the spec wins over ours; the command is an absolute path, so it still starts.
      await pool.ensure(s);
      const env = JSON.parse(textOf(await pool.callTool(s.serverId, 'env', {}))) as Record<string, string>;
      expect(env.TOKEN).toBe('s3cret');
      expect(env.PATH).toBe('/usr/bin:/bin');
      expect(env.SY_RUNNER_SECRET).toBeUndefined();
      expect(env.DATABASE_URL).toBeUndefined();
      const extra = Object.keys(env).filter((k) => !['TOKEN', 'PATH', 'HOME'].includes(k));
      expect(extra).toEqual([]);
      await pool.stop(s.serverId);
    } finally {
      delete process.env.SY_RUNNER_SECRET;
    }
  });

  it('logs stderr line by line, cutting lines that are too long', async () => {
    const s = spec(fixtureTransport('env', marker()), { name: 'noisy' });
    await pool.ensure(s);
    await pool.callTool(s.serverId, 'noisy', {});
    const done = await eventually(() =>
      capture.lines().find((l) => l.server === 'noisy' && l.stderr === 'noisy done'),
    );
    expect(done).toMatchObject({ msg: 'server stderr', instance: 0 });
    const long = capture.lines().filter((l) => l.server === 'noisy' && String(l.stderr).startsWith('xxx'));
    expect(long).toHaveLength(1);
    expect(String(long[0]!.stderr).length).toBeLessThan(2_100);
    await pool.stop(s.serverId);
  });

  it('reaps the whole process tree on stop: no orphaned grandchild', async () => {
    const m = marker();
    const s = spec(fixtureTransport('env', m), { name: 'parent' });
    await pool.ensure(s);
    const serverPid = Number(textOf(await pool.callTool(s.serverId, 'pid', {})));
    const grandchild = Number(textOf(await pool.callTool(s.serverId, 'spawn-grandchild', {})));
    expect(await isAlive(grandchild)).toBe(true);
    await pool.stop(s.serverId);
    expect(await isAlive(serverPid)).toBe(false);
    expect(await isAlive(grandchild)).toBe(false);
    expect(await processesWith(m)).toEqual([]);
  });

  it('parks a crash-looping server in error instead of restarting it forever', async () => {
    const m = marker();
    const s = spec(fixtureTransport('exit-on-start', m), { name: 'looping' });
    await pool.ensure(s);
    const parked = await eventually(() => {
      const i = pool.status(s.serverId)[0]!.instances[0]!;
      return i.state === 'error' ? i : undefined;
    });
    expect(parked.lastError).toContain('crash loop');
    expect(parked.lastError).toContain('refusing to start');
    expect(parked.restarts).toBe(4);
    // Parked means no more attempts.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(pool.status(s.serverId)[0]!.instances[0]!.restarts).toBe(4);
    expect(await processesWith(m)).toEqual([]);
    const started = Date.now();
    const e = await pool.callTool(s.serverId, 'echo', { message: 'x' }).catch((err: unknown) => err);
    expect(e).toMatchObject({ kind: 'unavailable', code: 'UPSTREAM.NO_HEALTHY_INSTANCE' });
    expect((e as AppError).message).toContain('crash loop');
    expect(Date.now() - started).toBeLessThan(1_000);
    // A new revision (or an explicit restart) tries again.
    await pool.ensure({ ...s, revision: 2n });
    await eventually(() => pool.status(s.serverId)[0]!.instances[0]!.restarts > 4, { what: 'a new attempt' });
    await eventually(() => pool.status(s.serverId)[0]!.instances[0]!.state === 'error', {
      what: 'parked again',
    });
    await pool.stop(s.serverId);
  });

  it('lists every page of a server that paginates', async () => {
    const s = spec(fixtureTransport('paged', marker()), { name: 'paged' });
    await pool.ensure(s);
    const catalog = await pool.discover(s.serverId);
    expect(catalog.tools.map((t) => t.name)).toEqual(Array.from({ length: 23 }, (_, i) => `tool-${i}`));
    expect(catalog.resources).toHaveLength(12);
    expect(catalog.resourceTemplates).toHaveLength(7);
    expect(catalog.prompts).toHaveLength(4);
    expect(catalog.serverInfo).toEqual({ name: 'paged-fixture', version: '1.0.0' });
    await pool.stop(s.serverId);
  });

  it('refuses a command that does not exist, clearly', async () => {
    const s = spec({ type: 'stdio', command: 'no-such-command-sy', args: [], env: {} }, { name: 'missing' });
    await pool.ensure(s);
    const i = pool.status(s.serverId)[0]!.instances[0]!;
    expect(i.lastError).toMatch(/could not start 'no-such-command-sy'.*ENOENT/);
    await pool.stop(s.serverId);
  });

  it('keeps unknown servers apart from failing ones', async () => {
    await expect(pool.callTool('00000000-0000-0000-0000-000000000000', 'echo', {})).rejects.toMatchObject({
      kind: 'not_found',
      code: 'UPSTREAM.UNKNOWN_SERVER',
    });
    await expect(pool.ensure(spec(fixtureTransport('hang', 'x'), { replicas: 0 }))).rejects.toMatchObject({
      kind: 'validation',
      code: 'UPSTREAM.BAD_SPEC',
    });
  });
});

describe('upstream pool: close', () => {
  it('reaps every process of every server', async () => {
    const pool = createUpstreamPool({ logger: silentLogger() });
    const m = newMarker();
    const a = spec(fixtureTransport('env', m), { name: 'a', replicas: 2 });
    const b = spec(fixtureTransport('hang', m), { name: 'b' });
    await Promise.all([pool.ensure(a), pool.ensure(b)]);
    const grandchild = Number(textOf(await pool.callTool(a.serverId, 'spawn-grandchild', {})));
    expect(await processesWith(m)).toHaveLength(3);
    const hung = pool.callTool(b.serverId, 'hang', {}).catch((e: unknown) => e);
    await pool.close();
    expect(await processesWith(m)).toEqual([]);
    expect(await isAlive(grandchild)).toBe(false);
    expect(await hung).toMatchObject({ kind: 'upstream', code: 'UPSTREAM.CONNECTION_LOST' });
    await expect(pool.ensure(a)).rejects.toMatchObject({ code: 'UPSTREAM.POOL_CLOSED' });
  });
});

describe('upstream pool: client capabilities', () => {
  it('declares only what it is told to relay', async () => {
    const pool = createUpstreamPool({ logger: silentLogger(), capabilities: {} });
    const m = newMarker();
    try {
      const s = spec(everythingTransport(m), { name: 'plain' });
      await pool.ensure(s);
      const tools = (await pool.discover(s.serverId)).tools.map((t) => t.name);
      expect(tools).toContain('echo');
      // server-everything offers these only to clients that can sample or list roots.
      expect(tools).not.toContain('trigger-sampling-request');
      expect(tools).not.toContain('get-roots-list');
    } finally {
      await pool.close();
    }
    expect(await processesWith(m)).toEqual([]);
  });
});
