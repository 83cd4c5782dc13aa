import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch, cleanEnv, freePort, type Program, startProgram, until, waitForHttp } from './program.ts';

const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

interface Call {
  id: string;
  tool: string;
  status: string;
}

/**
 * The program is SIGKILLed while a slow tool call runs; after a restart the call shows as
 * abandoned, and no call whose result reached the client is missing from the log.
 */
describe('a crash during a tool call', () => {
  let dataDir: string;
  let base: string;
  let env: Record<string, string>;
  let program: Program | undefined;

  const calls = async () =>
    ((await (await adminFetch(`${base}/api/v1/tool-calls?limit=100`)).json()) as { items: Call[] }).items;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sy-crash-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = cleanEnv({
      SWITCHYARD_DATA_DIR: dataDir,
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_LOG_LEVEL: 'warn',
    });
  });

  afterAll(async () => {
    await program?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the cut-off call as abandoned after recovery', { timeout: 240_000 }, async () => {
    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program, 90_000);
    const reg = await adminFetch(`${base}/api/v1/servers?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'everything',
        transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] },
      }),
    });
    expect(reg.status).toBe(202);
    const echo = () =>
      adminFetch(`${base}/api/v1/servers/everything/tools/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'before the crash' }),
      });
    const answered = await until(async () => {
      const r = await echo();
      return r.status === 200 ? ((await r.json()) as { callId: string }) : undefined;
    });

    // A slow call, cut off by SIGKILL.
    void adminFetch(`${base}/api/v1/servers/everything/tools/trigger-long-running-operation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duration: 60, steps: 60 }),
    }).catch(() => undefined);
    const slow = await until(async () =>
      (await calls()).find((c) => c.tool === 'trigger-long-running-operation' && c.status === 'running'),
    );
    await program.kill();

    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program, 90_000);
    const after = await until(async () => {
      const all = await calls();
      return all.find((c) => c.id === slow.id && c.status === 'abandoned') ? all : undefined;
    });
    // The call whose result the client got is there, succeeded.
    expect(after.find((c) => c.id === answered.callId)).toMatchObject({ tool: 'echo', status: 'succeeded' });
    expect(await program.stop()).toBe(0);
  });
});
