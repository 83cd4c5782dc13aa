import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, hasNats, hasPostgres, services, uniqueName } from '../services.ts';
import {
  adminFetch,
  cleanEnv,
  freePort,
  type Program,
  runCli,
  startProgram,
  waitForHttp,
} from './program.ts';

const enabled = hasPostgres() && hasNats();
if (!enabled) console.warn('!!! distributed e2e SKIPPED: needs DATABASE_URL and NATS_URL');

/**
 * The distributed mode: roles as separate processes against the local PostgreSQL and NATS —
 * one relay+projector, two workers, two gateways — used over HTTP as a client would.
 */
describe.skipIf(!enabled)('distributed mode, end to end', () => {
  let drop: () => Promise<void>;
  let env: Record<string, string>;
  const programs: Program[] = [];
  const gateways: string[] = [];
  let workers: Program[];
  let prefix: string;
  let stream: string;
  let workspace: string;

  beforeAll(async () => {
    const db = await createTestDatabase('sy_e2e');
    workspace = await mkdtemp(join(tmpdir(), 'sy-e2e-ws-'));
    drop = db.drop;
    prefix = uniqueName('e2e').toLowerCase();
    stream = prefix.toUpperCase();
    env = cleanEnv({
      DATABASE_URL: db.url,
      NATS_URL: services().natsUrl,
      SWITCHYARD_SECRET_KEY: randomBytes(32).toString('base64'),
      SWITCHYARD_SUBJECT_PREFIX: prefix,
      SWITCHYARD_EVENTS_STREAM: stream,
      SWITCHYARD_DLQ_STREAM: `${stream}_DLQ`,
      SWITCHYARD_LOG_LEVEL: 'info',
      SWITCHYARD_WORKSPACE: workspace,
    });
    const ports = [await freePort(), await freePort()];
    programs.push(startProgram(['start', 'relay', 'projector'], env));
    workers = [startProgram(['start', 'worker'], env), startProgram(['start', 'worker'], env)];
    programs.push(...workers);
    for (const port of ports) {
      const p = startProgram(['start', 'gateway', '--port', String(port)], env);
      programs.push(p);
      gateways.push(`http://127.0.0.1:${port}`);
    }
    for (const [i, g] of gateways.entries()) await waitForHttp(`${g}/ready`, programs[3 + i]!, 90_000);
    // Workers log once they serve the queue group.
    const deadline = Date.now() + 60_000;
    while (!workers.every((w) => w.output().includes('worker serving server commands'))) {
      if (Date.now() > deadline)
        throw new Error(`workers did not start:\n${workers.map((w) => w.output()).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all(programs.map((p) => p.stop()));
    // Remove this run's JetStream streams.
    const { connect } = await import('nats');
    const nc = await connect({ servers: services().natsUrl });
    const jsm = await nc.jetstreamManager();
    for (const s of [stream, `${stream}_DLQ`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    await drop?.();
    await rm(workspace, { recursive: true, force: true });
  }, 60_000);

  it('spreads commands over two workers, answers each gateway, and projects for both', {
    timeout: 180_000,
  }, async () => {
    const written: Array<{ id: string; position: string; name: string }> = [];
    for (let i = 0; i < 16; i++) {
      const gateway = gateways[i % 2]!;
      const name = `srv-${i}`;
      const res = await adminFetch(`${gateway}/api/v1/servers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          transport: {
            type: 'streamable-http',
            url: `http://127.0.0.1:9/${name}`,
            headers: { 'X-Key': `k-${i}` },
          },
        }),
      });
      expect(res.status).toBe(202);
      written.push({ ...((await res.json()) as { id: string; position: string }), name });
    }

    // Read each write through the *other* gateway, asking for read-your-writes.
    for (const [i, w] of written.entries()) {
      const other = gateways[(i + 1) % 2]!;
      const res = await adminFetch(`${other}/api/v1/servers/${w.id}?minPosition=${w.position}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { name: string };
      expect(body.name).toBe(w.name);
      expect(JSON.stringify(body)).not.toContain(`k-${i}`);
    }

    const handledBy = workers.map((w) => (w.output().match(/"msg":"command handled"/g) ?? []).length);
    expect(handledBy[0]! + handledBy[1]!).toBe(16);
    expect(handledBy[0]).toBeGreaterThan(0);
    expect(handledBy[1]).toBeGreaterThan(0);

    // The relay put every event on JetStream, visible without the NATS CLI.
    const deadline = Date.now() + 30_000;
    let info:
      | {
          stream: { messages: number };
          subjects: Record<string, number>;
          consumers: Array<{ name: string; pending: number }>;
        }
      | undefined;
    for (;;) {
      const out = await runCli(['nats', '--json'], env);
      expect(out.code, out.stderr).toBe(0);
      info = JSON.parse(out.stdout) as typeof info;
      // 16 name reservations + 16 registrations (the sagas add discovery and health events too)
      const registered = info!.subjects[`${prefix}.events.server.server-registered`] ?? 0;
      const reserved = info!.subjects[`${prefix}.events.servername.server-name-reserved`] ?? 0;
      if (registered + reserved >= 32 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(info!.subjects[`${prefix}.events.servername.server-name-reserved`]).toBe(16);
    expect(info!.subjects[`${prefix}.events.server.server-registered`]).toBe(16);
    // The projector's watch on the bus, as an operator sees it.
    expect(info!.consumers.map((c) => c.name).filter((n) => n.startsWith('projections_'))).toHaveLength(1);

    // One worker dies: the other keeps serving.
    await workers[0]!.kill();
    const after = await adminFetch(`${gateways[0]}/api/v1/servers?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'after-kill', transport: { type: 'sse', url: 'http://127.0.0.1:9/sse' } }),
    });
    // Its answer says which wait ran out, should one (the command's, or the read model's).
    expect(after.status, await after.clone().text()).toBe(202);

    // A rebuild asked of a gateway runs on the projector and gives the same rows.
    // Health is live telemetry beside the rows (checks keep landing), not part of what is rebuilt.
    const rows = async (gateway: string) => {
      const page = (await (await adminFetch(`${gateway}/api/v1/servers?limit=500`)).json()) as {
        items: Array<Record<string, unknown>>;
      };
      return page.items.map(({ health: _, ...row }) => row);
    };
    const before = await rows(gateways[1]!);
    const rebuild = await adminFetch(`${gateways[1]}/api/v1/projections/servers/rebuild`, { method: 'POST' });
    expect(rebuild.status).toBe(200);
    const rebuilt = await rows(gateways[0]!);
    expect(rebuilt).toEqual(before);
    const status = (await (await adminFetch(`${gateways[0]}/api/v1/projections`)).json()) as {
      projections: Array<{ name: string; lagEvents: number }>;
    };
    expect(status.projections.find((p) => p.name === 'servers')?.lagEvents).toBe(0);
  });

  it('syncs the built-in templates in a worker, projects them for every gateway, and generates on any', {
    timeout: 120_000,
  }, async () => {
    let names: string[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const page = (await (await adminFetch(`${gateways[0]}/api/v1/templates?q=mcp`)).json()) as {
        items: Array<{ name: string }>;
      };
      names = page.items.map((t) => t.name);
      if (names.includes('mcp-server-ts')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(names).toContain('mcp-server-ts');
    const generated = await adminFetch(`${gateways[1]}/api/v1/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        template: 'cli-tool',
        destination: `dist-${prefix}`,
        variables: { projectName: 'tool' },
      }),
    });
    expect(generated.status).toBe(201);
    const project = (await generated.json()) as { projectId: string; files: unknown[] };
    const seen = await adminFetch(`${gateways[0]}/api/v1/projects/${project.projectId}`);
    expect(seen.status).toBe(200);
    expect(((await seen.json()) as { files: unknown[] }).files).toHaveLength(project.files.length);
  });
});
