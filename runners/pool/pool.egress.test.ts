import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../kernel/errors.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { type HttpFixture, startHttpFixture } from '../../test/fixtures/upstreams/http.server.ts';
import { capturingLogger, spec, textOf } from '../../test/runners.ts';
import type { UpstreamSpec } from '../upstream.port.ts';
import { createUpstreamPool, type UpstreamPool } from './pool.ts';

const SECRET = 'AKIA-SECRET-9f8e7d6c5b4a-do-not-leak';

/** The first instance's status once its first connection attempt is over. */
async function firstAttempt(pool: UpstreamPool, s: UpstreamSpec) {
  await pool.ensure(s);
  return pool.status(s.serverId)[0]!.instances[0]!;
}

describe('upstream pool: egress policy for HTTP and SSE upstreams', () => {
  let fixture: HttpFixture;
  let strict: UpstreamPool;
  const capture = capturingLogger('info');
  let lenient: UpstreamPool;

  beforeAll(async () => {
    fixture = await startHttpFixture();
    strict = createUpstreamPool({ logger: silentLogger(), egress: { allowLoopback: false, allow: [] } });
    lenient = createUpstreamPool({ logger: capture.logger });
  });
  afterAll(async () => {
    await strict.close();
    await lenient.close();
    await fixture.close();
  });

  it('refuses loopback, its mapped and numeric forms, unspecified, metadata and names resolving there; nothing reaches the upstream', async () => {
    const port = new URL(fixture.url).port;
    const cases: Array<[string, RegExp]> = [
      [`http://127.0.0.1:${port}/mcp`, /^UPSTREAM\.EGRESS_REFUSED: 127\.0\.0\.1 is a loopback address$/],
      [
        `http://[::ffff:127.0.0.1]:${port}/mcp`,
        /^UPSTREAM\.EGRESS_REFUSED: \[::ffff:7f00:1\] is a loopback address$/,
      ],
      [`http://0.0.0.0:${port}/mcp`, /^UPSTREAM\.EGRESS_REFUSED: 0\.0\.0\.0 is an unspecified address$/],
      [
        'http://169.254.169.254/latest/meta-data/',
        /^UPSTREAM\.EGRESS_REFUSED: 169\.254\.169\.254 is a cloud metadata address$/,
      ],
      [
        `http://2130706433:${port}/mcp`,
        /^UPSTREAM\.EGRESS_REFUSED: 2130706433 is a numeric host in a non-canonical form$/,
      ],
      [
        `http://localhost:${port}/mcp`,
        /^UPSTREAM\.EGRESS_REFUSED: localhost resolves to a loopback address$/,
      ],
    ];
    for (const [url, reason] of cases) {
      for (const type of ['streamable-http', 'sse'] as const) {
        const s = spec(
          { type, url, headers: { authorization: 'Bearer upstream-token' } },
          { connectTimeoutMs: 500 },
        );
        const status = await firstAttempt(strict, s);
        expect(status.state, `${type} ${url}`).toBe('unhealthy');
        expect(status.lastError, `${type} ${url}`).toMatch(reason);
        const e = await strict.callTool(s.serverId, 'echo', { message: 'x' }).catch((err: unknown) => err);
        expect(e).toMatchObject({ kind: 'unavailable', code: 'UPSTREAM.NO_HEALTHY_INSTANCE' });
        expect((e as AppError).message).toContain('UPSTREAM.EGRESS_REFUSED');
        await strict.stop(s.serverId);
      }
    }
    expect(fixture.stats().credentials).toEqual([]);
  });

  it('connects to a host name the operator allowed, although it resolves to loopback', async () => {
    const pool = createUpstreamPool({
      logger: silentLogger(),
      egress: { allowLoopback: false, allow: ['localhost'] },
    });
    try {
      const s = spec({
        type: 'streamable-http',
        url: fixture.url.replace('127.0.0.1', 'localhost'),
        headers: {},
      });
      expect((await firstAttempt(pool, s)).state).toBe('healthy');
      expect(textOf(await pool.callTool(s.serverId, 'echo', { message: 'allowed' }))).toBe('allowed');
    } finally {
      await pool.close();
    }
  });

  it('allows loopback by default, says so at start, and still refuses metadata addresses', async () => {
    expect(
      capture.lines().find((l) => String(l.msg).startsWith('egress policy (default, none configured)')),
    ).toMatchObject({
      egress: { allowLoopback: true, allow: [] },
    });
    const ok = spec({ type: 'streamable-http', url: fixture.url, headers: {} });
    expect((await firstAttempt(lenient, ok)).state).toBe('healthy');
    await lenient.stop(ok.serverId);
    const metadata = spec({ type: 'streamable-http', url: 'http://[::ffff:169.254.169.254]/', headers: {} });
    expect((await firstAttempt(lenient, metadata)).lastError).toMatch(
      /^UPSTREAM\.EGRESS_REFUSED: .* is a cloud metadata address$/,
    );
    await lenient.stop(metadata.serverId);
  });
});

describe('upstream pool: an upstream’s error body never reaches errors or status', () => {
  let pool: UpstreamPool;
  let failing: HttpFixture;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    pool = createUpstreamPool({ logger: silentLogger(), restart: { baseDelayMs: 50, maxDelayMs: 200 } });
    failing = await startHttpFixture(0, {
      fail: { methods: ['tools/call'], status: 500, body: `{"error":"${SECRET}"}` },
    });
  });
  afterAll(async () => {
    await pool.close();
    await failing.close();
    for (const close of closers) await close();
  });

  it('keeps the status of a failed tool call, not the body', async () => {
    const s = spec({ type: 'streamable-http', url: failing.url, headers: {} }, { name: 'leaky' });
    await pool.ensure(s);
    const e = await pool.callTool(s.serverId, 'echo', { message: 'x' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ code: 'UPSTREAM.CONNECTION_FAILED', details: { httpStatus: 500 } });
    expect((e as AppError).message).toMatch(/POST answered HTTP 500$/);
    expect(JSON.stringify({ e, details: (e as AppError).details, status: pool.status() })).not.toContain(
      SECRET,
    );
    await pool.stop(s.serverId);
  });

  it('keeps the status of a failed connect over Streamable HTTP and SSE, not the body', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(500, 'Internal ' + SECRET, { 'content-type': 'text/plain' }).end(SECRET);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(r)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    for (const type of ['streamable-http', 'sse'] as const) {
      const s = spec({ type, url, headers: {} }, { connectTimeoutMs: 2_000 });
      const status = await firstAttempt(pool, s);
      expect(status.lastError, type).toMatch(/HTTP 500/);
      const e = await pool.ping(s.serverId, { timeoutMs: 300 }).catch((err: unknown) => err);
      expect(JSON.stringify({ status: pool.status(), e, message: (e as Error).message })).not.toContain(
        SECRET,
      );
      await pool.stop(s.serverId);
    }
  });
});
