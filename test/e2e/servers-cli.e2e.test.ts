import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminFetch,
  embeddedProgramEnv,
  type Program,
  runCli,
  startProgram,
  until,
  waitForHttp,
} from './program.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/upstreams/stderr.server.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
const TOKEN = 'tok-e2e-8c1d3f5a7b';

/**
 * The runtime views as an operator meets them: the real program started as the README says, a
 * stdio server that writes to stderr registered and called, then `switchyard servers list|show|
 * logs|history`, `switchyard calls` and `switchyard top --once` from the command line.
 */
describe('switchyard servers, calls and top against the real program', () => {
  let dataDir: string;
  let base: string;
  let env: Record<string, string>;
  let program: Program | undefined;
  const cli = (args: string[]) => runCli(args, env);

  beforeAll(async () => {
    ({ dataDir, base, env } = await embeddedProgramEnv('servers-cli'));
    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program, 110_000);
    const registered = await adminFetch(`${base}/api/v1/servers?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'chatty',
        transport: {
          type: 'stdio',
          command: process.execPath,
          args: ['--import', TSX, FIXTURE],
          env: { API_TOKEN: TOKEN },
        },
      }),
    });
    expect(registered.status).toBe(202);
    await until(async () => {
      const r = await adminFetch(`${base}/api/v1/servers/chatty/tools/say`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hello from the e2e' }),
      });
      return r.status === 200 ? true : undefined;
    }, 90_000);
  }, 200_000);

  afterAll(async () => {
    await program?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lists and shows the server: health, stats, its running instance and its tools', {
    timeout: 120_000,
  }, async () => {
    const list = await cli(['servers', 'list']);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME +TRANSPORT +ENABLED +HEALTH/m);
    expect(list.stdout).toMatch(/^chatty +stdio +yes +/m);

    const show = await until(async () => {
      const r = await cli(['servers', 'show', 'chatty']);
      return r.code === 0 && /^calls +[1-9]\d* finished/m.test(r.stdout) ? r : undefined;
    });
    expect(show.stdout).toMatch(/^name +chatty$/m);
    expect(show.stdout).toMatch(/^time +mean \d+ ms, p50 \d+ ms, p95 \d+ ms$/m);
    expect(show.stdout).toMatch(/^local +0 +\d+ +healthy +\d+s +0 +0 +0 +-$/m);
    expect(show.stdout).toMatch(/^say +Writes the message to stderr$/m);
    expect(show.stdout).not.toContain(TOKEN);
  });

  it('prints the stderr, secrets redacted', { timeout: 60_000 }, async () => {
    const logs = await until(async () => {
      const r = await cli(['servers', 'logs', 'chatty']);
      return r.stdout.includes('hello from the e2e') ? r : undefined;
    });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/ local pid \d+ \| stderr fixture says: hello from the e2e$/m);
    expect(logs.stdout).toMatch(/token \[redacted\]/);
    expect(logs.stdout).not.toContain(TOKEN);
    expect(logs.stdout).not.toContain('abcdefghijklmnop');
  });

  it('prints the calls, the history and one screen of top', { timeout: 60_000 }, async () => {
    const calls = await until(async () => {
      const r = await cli(['calls', '--server', 'chatty']);
      return /^\S+ +chatty +say +succeeded +\d+ ms +rest /m.test(r.stdout) ? r : undefined;
    });
    expect(calls.code).toBe(0);
    expect(calls.stdout).toMatch(/^STARTED +SERVER +TOOL +STATUS +DURATION/m);

    const history = await cli(['servers', 'history', 'chatty']);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/^0 +\S+ +ServerRegistered +/m);
    expect(history.stdout).not.toContain(TOKEN);

    const top = await cli(['top', '--once']);
    expect(top.stderr).toBe('');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^switchyard top — http:\/\/127\.0\.0\.1:\d+ — /);
    expect(top.stdout).toMatch(/^servers: 1 total, \d healthy, \d unhealthy, 0 disabled/m);
    expect(top.stdout).toMatch(/^chatty +\S+ +[1-9]\d* +0% +\d+ ms/m);
    expect(top.stdout).toContain('RECENT CALLS');
    expect(top.stdout).toMatch(/^PROJECTION +STATE +LAG \(EVENTS\) +LAG$/m);
  });
});
