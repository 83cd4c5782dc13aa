import { rm } from 'node:fs/promises';
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

/**
 * `switchyard events -f` as an operator runs it: it follows the live feed of the real program
 * (Server-Sent Events), keeps following when that program is stopped and started again, and resumes
 * after the last event it printed — nothing missed, nothing printed twice.
 */
describe('switchyard events -f against the real program', () => {
  let dataDir: string;
  let base: string;
  let env: Record<string, string>;
  let program: Program | undefined;
  let follower: Program | undefined;

  const start = async () => {
    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program, 110_000);
  };
  const createTenant = async (id: string) => {
    const res = await adminFetch(`${base}/api/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, name: id }),
    });
    expect(res.status, await res.text()).toBeLessThan(300);
  };
  /** The events the follower has printed (stdout lines; its notices go to stderr). */
  const printed = () =>
    (follower?.output() ?? '')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { id: string; position: string; data: { tenantId?: string } });

  beforeAll(async () => {
    ({ dataDir, base, env } = await embeddedProgramEnv('events-follow'));
    await start();
  }, 120_000);

  afterAll(async () => {
    await follower?.kill();
    await program?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints new events live, survives a restart of the gateway, and resumes without gaps or repeats', {
    timeout: 240_000,
  }, async () => {
    const history = await runCli(['events', '--type', 'TenantCreated'], env);
    expect(history.code, history.stderr).toBe(0);
    const before = history.stdout.split('\n').filter(Boolean).length;

    follower = startProgram(['events', '-f', '--type', 'TenantCreated', '--limit', String(before + 3)], env);
    await createTenant('follow-1');
    await until(async () => (printed().some((e) => e.data.tenantId === 'follow-1') ? true : undefined));

    // The gateway stops: the follower is told (stderr) and keeps trying.
    expect(await program!.stop()).toBe(0);
    await until(async () => (/reconnecting after event \d+/.test(follower!.output()) ? true : undefined));
    expect(follower.child.exitCode).toBeNull();

    await start();
    await createTenant('follow-2');
    await createTenant('follow-3');
    const code = await until(async () => follower!.child.exitCode ?? undefined, 120_000);
    expect(code, follower.output()).toBe(0);

    const events = printed();
    expect(events).toHaveLength(before + 3);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.slice(-3).map((e) => e.data.tenantId)).toEqual(['follow-1', 'follow-2', 'follow-3']);
    expect(follower.output()).toMatch(/the gateway ended the feed \(shutdown\)/);
  });
});
