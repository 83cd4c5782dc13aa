import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { type HttpFixture, startHttpFixture } from '../../test/fixtures/upstreams/http.server.ts';
import { eventually, fixtureTransport, newMarker, processesWith, spec, textOf } from '../../test/runners.ts';
import type { UpstreamSpec } from '../upstream.port.ts';
import { createUpstreamPool, type UpstreamPool } from './pool.ts';

function counts(values: string[]): number[] {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.values()].sort((a, b) => b - a);
}

/** Several instances of one server: how calls are spread, and what happens when one fails. */
describe('upstream pool: several stdio instances', () => {
  const marker = newMarker();
  let pool: UpstreamPool;
  const started: UpstreamSpec[] = [];

  beforeAll(() => {
    pool = createUpstreamPool({
      logger: silentLogger(),
      restart: { baseDelayMs: 3_000, maxDelayMs: 3_000 },
      circuitBreaker: { threshold: 2, halfOpenAfterMs: 1_500 },
    });
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => pool.stop(s.serverId)));
  });

  afterAll(async () => {
    await pool.close();
    expect(await processesWith(marker)).toEqual([]);
  });

  async function ensure(overrides: Partial<UpstreamSpec>, fixture = 'hang'): Promise<UpstreamSpec> {
    const s = spec(fixtureTransport(fixture, marker), overrides);
    started.push(s);
    await pool.ensure(s);
    return s;
  }

  const pids = async (s: UpstreamSpec, n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(textOf(await pool.callTool(s.serverId, 'pid', {})));
    return out;
  };

  it('round-robin: replicas take calls in turn', async () => {
    const s = await ensure({ replicas: 3, loadBalancing: 'round-robin' });
    expect(pool.status(s.serverId)[0]!.instances.map((i) => i.state)).toEqual([
      'healthy',
      'healthy',
      'healthy',
    ]);
    const seen = await pids(s, 9);
    expect(counts(seen)).toEqual([3, 3, 3]);
    expect(seen.slice(0, 3)).toEqual(seen.slice(3, 6));
  });

  it('weighted: calls follow the weights', async () => {
    const s = await ensure({ replicas: 2, loadBalancing: 'weighted', weights: [3, 1] });
    expect(counts(await pids(s, 8))).toEqual([6, 2]);
  });

  it('least-connections: a busy instance is passed over', async () => {
    const s = await ensure({ replicas: 2, loadBalancing: 'least-connections' });
    const busy = pool.callTool(s.serverId, 'slow', { ms: 2_000 });
    await eventually(() => pool.status(s.serverId)[0]!.instances.some((i) => i.inFlight === 1));
    const busyIndex = pool.status(s.serverId)[0]!.instances.find((i) => i.inFlight === 1)!.index;
    const during = await pids(s, 4);
    expect(counts(during)).toEqual([4]);
    const instances = pool.status(s.serverId)[0]!.instances;
    expect(instances[busyIndex]!.inFlight).toBe(1);
    expect(textOf(await busy)).toContain('done');
  });

  it('skips an instance that crashed while it restarts', async () => {
    const s = await ensure({ replicas: 2 }, 'crash');
    const [a, b] = await pids(s, 2);
    expect(a).not.toBe(b);
    await pool.callTool(s.serverId, 'crash', {}).catch((e: unknown) => e);
    const states = pool.status(s.serverId)[0]!.instances.map((i) => i.state);
    expect(states.filter((x) => x === 'starting')).toHaveLength(1);
    // Restart is 3 s away: meanwhile every call goes to the survivor.
    const during = await pids(s, 6);
    expect(counts(during)).toEqual([6]);
  });

  it('opens the circuit of an instance that keeps timing out, then lets a trial through', async () => {
    const s = await ensure({ replicas: 1, callTimeoutMs: 300 });
    for (let i = 0; i < 2; i++) {
      await expect(pool.callTool(s.serverId, 'hang', {})).rejects.toMatchObject({ code: 'UPSTREAM.TIMEOUT' });
    }
    expect(pool.status(s.serverId)[0]!.instances[0]).toMatchObject({ state: 'unhealthy', circuit: 'open' });
    const started = Date.now();
    const refused = await pool.callTool(s.serverId, 'echo', { message: 'x' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ kind: 'unavailable', code: 'UPSTREAM.NO_HEALTHY_INSTANCE' });
    expect((refused as AppError).message).toContain('circuit open');
    expect(Date.now() - started).toBeLessThan(500);
    await eventually(() => pool.status(s.serverId)[0]!.instances[0]!.circuit === 'half-open', {
      what: 'half-open',
    });
    expect(textOf(await pool.callTool(s.serverId, 'echo', { message: 'trial' }))).toBe('trial');
    expect(pool.status(s.serverId)[0]!.instances[0]).toMatchObject({ state: 'healthy', circuit: 'closed' });
  });

  it('reconfigures on a higher revision only, keeping processes when only call settings change', async () => {
    const s = await ensure({ replicas: 1 });
    const [pid] = await pids(s, 1);
    await pool.ensure({ ...s, revision: 1n, replicas: 2 });
    expect(pool.status(s.serverId)[0]!.instances).toHaveLength(1);
    await pool.ensure({ ...s, revision: 2n, callTimeoutMs: 5_000, loadBalancing: 'least-connections' });
    expect(await pids(s, 2)).toEqual([pid, pid]);
    expect(pool.status(s.serverId)[0]!.revision).toBe('2');
    await pool.ensure({ ...s, revision: 3n, replicas: 2 });
    expect(pool.status(s.serverId)[0]!.instances).toHaveLength(2);
    const after = await pids(s, 2);
    expect(after).not.toContain(pid);
    await eventually(async () => (await processesWith(marker)).length === 2, {
      what: 'the old process to go',
    });
  });
  it("a process of a caller's own only when callers contend, a spare behind it, and a one-shot caller's closed after its request", async () => {
    const s = await ensure({ clientSessions: 4 });
    const pid = (caller: string, oneShot = false) =>
      pool.callTool(s.serverId, 'pid', {}, { caller, ...(oneShot && { oneShot }) }).then(textOf);
    const shared = textOf(await pool.callTool(s.serverId, 'pid', {}));
    // One caller at a time rides the instance's process: nothing else is started.
    expect([await pid('session-a'), await pid('req-1', true), await pid('session-b')]).toEqual([
      shared,
      shared,
      shared,
    ]);
    expect(await processesWith(marker)).toHaveLength(1);
    // While another caller's call is in flight there, a caller gets a process of its own, and a
    // spare is started behind it.
    const hung = new AbortController();
    const hanging = pool
      .callTool(s.serverId, 'hang', {}, { caller: 'session-h', signal: hung.signal })
      .catch(() => undefined);
    await eventually(() => pool.status(s.serverId)[0]!.instances[0]!.inFlight === 1, {
      what: 'the hung call',
    });
    const own = await pid('session-a');
    expect(own).not.toBe(shared);
    await eventually(async () => (await processesWith(marker)).length === 3, { what: 'a spare' });
    // Operators see them: the caller's and the spare.
    expect(pool.status(s.serverId)[0]!.instances[0]!.callerSessions).toBe(2);
    // The caller keeps to its process, even once the shared one is free again.
    expect(await pid('session-a')).toBe(own);
    // A one-shot caller (a 2026-07-28 request) takes the spare, which is closed once it is done.
    const spare = (await processesWith(marker)).map(String).find((p) => p !== shared && p !== own)!;
    expect(await pid('req-2', true)).toBe(spare);
    await eventually(async () => !(await processesWith(marker)).map(String).includes(spare), {
      what: "the one-shot caller's process to end",
    });
    hung.abort();
    await hanging;
    expect(await pid('session-a')).toBe(own);
  });
});

describe('upstream pool: Streamable HTTP sessions', () => {
  let pool: UpstreamPool;
  const fixtures: HttpFixture[] = [];

  beforeAll(() => {
    pool = createUpstreamPool({ logger: silentLogger(), restart: { baseDelayMs: 100, maxDelayMs: 200 } });
  });

  afterAll(async () => {
    await pool.close();
    await Promise.all(fixtures.map((f) => f.close()));
  });

  async function fixture(): Promise<HttpFixture> {
    const f = await startHttpFixture();
    fixtures.push(f);
    return f;
  }

  it('opens one session for many callers, sends the spec headers, and DELETEs it on stop', async () => {
    const f = await fixture();
    const s = spec({ type: 'streamable-http', url: f.url, headers: { authorization: 'Bearer t0ken' } });
    await pool.ensure(s);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => pool.callTool(s.serverId, 'echo', { message: `m${i}` })),
    );
    expect(results.map(textOf)).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
    expect(f.stats()).toMatchObject({ initialized: 1, open: 1, deletes: 0 });
    // On the initialize, and on the 2026-07-28 probe before it (modern-http.ts).
    expect(new Set(f.stats().authorization)).toEqual(new Set(['Bearer t0ken']));
    await pool.stop(s.serverId);
    expect(f.stats()).toMatchObject({ initialized: 1, open: 0, deletes: 1 });
  });

  it('DELETEs every session on close', async () => {
    const own = createUpstreamPool({ logger: silentLogger() });
    const f = await fixture();
    const a = spec({ type: 'streamable-http', url: f.url, headers: {} }, { extraUrls: [f.url] });
    await own.ensure(a);
    expect(f.stats()).toMatchObject({ initialized: 2, open: 2 });
    await own.close();
    expect(f.stats()).toMatchObject({ open: 0, deletes: 2 });
  });

  it('retries on another instance when a session is gone, and opens a new one', async () => {
    const [f1, f2] = [await fixture(), await fixture()];
    const s = spec({ type: 'streamable-http', url: f1.url, headers: {} }, { extraUrls: [f2.url] });
    await pool.ensure(s);
    f1.forgetSessions();
    // Whichever instance each call picks, none fails: a 404 on f1 is retried on f2.
    for (let i = 0; i < 4; i++) {
      expect(textOf(await pool.callTool(s.serverId, 'echo', { message: `r${i}` }))).toBe(`r${i}`);
    }
    await eventually(() => f1.stats().initialized === 2, { what: 'a new session on f1' });
    await eventually(() => pool.status(s.serverId)[0]!.instances.every((i) => i.state === 'healthy'));
    await pool.stop(s.serverId);
  });

  it('skips a URL that does not answer and serves from the others', async () => {
    const f = await fixture();
    const s = spec(
      { type: 'streamable-http', url: 'http://127.0.0.1:9/mcp', headers: {} },
      { extraUrls: [f.url], connectTimeoutMs: 2_000 },
    );
    await pool.ensure(s);
    expect(pool.status(s.serverId)[0]!.instances.map((i) => i.state)).toEqual(['unhealthy', 'healthy']);
    for (let i = 0; i < 4; i++) {
      expect(textOf(await pool.callTool(s.serverId, 'echo', { message: 'ok' }))).toBe('ok');
    }
    await pool.stop(s.serverId);
  });
});
