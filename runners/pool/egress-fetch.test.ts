import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressRefusedError, egressGuard } from '../egress.ts';
import { connectTimeChecks, createEgressFetch } from './egress-fetch.ts';

/** A loopback HTTP server that closes every connection, so each request connects anew. */
async function startServer(answer: (path: string) => { status: number; headers?: Record<string, string> }) {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const { status, headers } = answer(req.url ?? '');
    res.writeHead(status, { connection: 'close', ...headers }).end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    seen,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('egress fetch: the policy holds at every connection', () => {
  let target: Awaited<ReturnType<typeof startServer>>;
  let redirecting: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    target = await startServer(() => ({ status: 200 }));
    redirecting = await startServer(() => ({
      status: 302,
      headers: { location: `http://127.0.0.1:${target.port}/landed` },
    }));
  });
  afterAll(async () => {
    await target.close();
    await redirecting.close();
  });

  it("checks a connection against the policy on Node's own fetch", async () => {
    expect(await connectTimeChecks()).toBe(true);
  });

  it('refuses a name that resolved to an allowed address before and to an internal one now (DNS rebinding)', async () => {
    const answers: LookupAddress[][] = [
      [{ address: '127.0.0.1', family: 4 }],
      [{ address: '169.254.169.254', family: 4 }],
    ];
    const guard = egressGuard({ allowLoopback: false, allow: ['127.0.0.1/32'] });
    const egress = createEgressFetch(guard, async () => answers.shift() ?? []);
    try {
      const first = await egress.fetch(`http://rebind.test:${target.port}/first`);
      expect(first.status).toBe(200);
      await first.text();
      const second = await egress.fetch(`http://rebind.test:${target.port}/second`).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(TypeError);
      expect((second as TypeError).cause).toBeInstanceOf(EgressRefusedError);
      expect(egress.refusal()?.message).toBe(
        'UPSTREAM.EGRESS_REFUSED: rebind.test resolves to a cloud metadata address',
      );
      expect(target.seen).toEqual(['/first']);
    } finally {
      await egress.close();
    }
  });

  it('refuses a literal internal address before connecting, also in its IPv4-mapped form', async () => {
    const egress = createEgressFetch(egressGuard({ allowLoopback: false, allow: [] }));
    try {
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]']) {
        const e = await egress.fetch(`http://${host}:${target.port}/literal`).catch((err: unknown) => err);
        expect(e).toBeInstanceOf(EgressRefusedError);
        expect((e as Error).message).toMatch(/is a loopback address$/);
      }
      expect(target.seen).not.toContain('/literal');
    } finally {
      await egress.close();
    }
  });

  it('refuses a name the system resolves to loopback (localhost)', async () => {
    const egress = createEgressFetch(egressGuard({ allowLoopback: false, allow: [] }));
    try {
      const e = await egress.fetch(`http://localhost:${target.port}/by-name`).catch((err: unknown) => err);
      expect(egress.refusal()?.message).toBe(
        'UPSTREAM.EGRESS_REFUSED: localhost resolves to a loopback address',
      );
      expect((e as TypeError).cause).toBeInstanceOf(EgressRefusedError);
      expect(target.seen).not.toContain('/by-name');
    } finally {
      await egress.close();
    }
  });

  it('never follows a redirect itself', async () => {
    const egress = createEgressFetch(egressGuard({ allowLoopback: true, allow: [] }));
    try {
      const asked = { redirect: 'follow' } as const;
      const res = await egress.fetch(`http://127.0.0.1:${redirecting.port}/start`, asked);
      expect(res.status).toBe(302);
      expect(target.seen).not.toContain('/landed');
    } finally {
      await egress.close();
    }
  });
});
