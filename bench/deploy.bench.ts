import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { makeDeploymentUseCases } from '../application/deployments/deployments.ts';
import {
  type DeploymentState,
  type DeploymentStep,
  deploymentSteps,
  makeDeploymentCommands,
  RequestDeploymentInput,
  registerDeploymentEvents,
} from '../domains/deployments/index.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import { silentLogger } from '../kernel/logger.ts';
import { createSecretBox } from '../kernel/secrets.ts';
import { startSystem } from '../runtime/compose.ts';
import { parseConfig } from '../runtime/config.ts';
import { loadTemplateDir } from '../templates/engine/load.ts';
import { renderTemplate } from '../templates/engine/render.ts';
import { assertVariables } from '../templates/engine/variables.ts';
import type { BenchContext } from './context.ts';
import type { BenchResult, Note, Row } from './report.ts';
import { percentile } from './stats.ts';

const run = promisify(execFile);
const TEMPLATE = fileURLToPath(new URL('../templates/builtin/mcp-server-ts', import.meta.url));

/**
 * `deploy`: the built-in MCP server template, generated once into a workspace, deployed by the
 * saga (embedded system: build, candidate start, health gate, switch, drain) from request to
 * serving, by step — next to the same project built and started by hand in the same run (npm
 * install, npm run build, then an SDK client's initialize and tools/list over stdio). Alternating,
 * one deployment per round.
 */
export async function deployBench(ctx: BenchContext): Promise<BenchResult> {
  const bench = 'deploy';
  const rounds = ctx.scale(3, 1);
  const root = await mkdtemp(join(tmpdir(), 'sy-bench-deploy-'));
  const workspace = join(root, 'workspace');
  const project = 'apps/calc';
  try {
    const loaded = await loadTemplateDir(TEMPLATE);
    const files = await renderTemplate(loaded, assertVariables(loaded.manifest, { projectName: 'calc' }));
    for (const f of files) {
      const target = join(workspace, project, ...f.path.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, f.content);
    }
    const secretKey = randomBytes(32);
    const system = await startSystem(
      parseConfig({
        SWITCHYARD_SECRET_KEY: secretKey.toString('base64'),
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_WORKSPACE: workspace,
        SWITCHYARD_DEPLOY_DIR: join(root, 'deployments'),
        SWITCHYARD_BUILTIN_TEMPLATES: 'off',
      }),
      silentLogger(),
    );
    const commands = makeDeploymentCommands({
      store: system.store,
      registry: registerDeploymentEvents(new EventTypeRegistry()),
    });
    const deployments = makeDeploymentUseCases({
      deployments: commands,
      secrets: createSecretBox(secretKey),
      project: async () => undefined,
      generate: async () => {
        throw new Error('not used');
      },
    });
    const total: number[] = [];
    const byStep = new Map<DeploymentStep, number[]>(deploymentSteps.map((s) => [s, []]));
    const byHand: number[] = [];
    const handParts = { install: [] as number[], build: [] as number[], start: [] as number[] };
    try {
      for (let round = 0; round < rounds; round++) {
        ctx.log(`deploy: round ${round + 1}/${rounds}, by hand`);
        const dir = join(root, `by-hand-${round}`);
        await cp(join(workspace, project), dir, { recursive: true });
        let t = performance.now();
        const t0 = t;
        await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir });
        handParts.install.push(performance.now() - t);
        t = performance.now();
        await run('npm', ['run', 'build'], { cwd: dir });
        handParts.build.push(performance.now() - t);
        t = performance.now();
        const client = new Client({ name: 'bench', version: '1' });
        await client.connect(
          new StdioClientTransport({ command: process.execPath, args: [join(dir, 'dist/index.js')] }),
        );
        await client.listTools();
        handParts.start.push(performance.now() - t);
        byHand.push(performance.now() - t0);
        await client.close();

        ctx.log(`deploy: round ${round + 1}/${rounds}, through the saga`);
        const started = performance.now();
        const input = RequestDeploymentInput.parse({
          server: 'calc',
          source: { directory: project },
          health: { expectedTools: ['add'] },
        });
        const { deploymentId } = await deployments.request(input, {
          commandId: `bench-${round}-${Date.now()}`,
          actor: 'bench',
          correlationId: `bench-${round}`,
          issuedAt: new Date(),
        });
        let s: DeploymentState;
        for (;;) {
          s = await commands.state(deploymentId);
          if (s.status === 'succeeded' || s.status === 'rolled-back') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        if (s.status !== 'succeeded') throw new Error(`the deployment rolled back: ${s.reason}`);
        total.push(performance.now() - started);
        const events = await system.store.readStream(`deployment-${deploymentId}`);
        for (const e of events) {
          if (e.type !== 'DeploymentStepCompleted') continue;
          const d = e.data as { step: DeploymentStep; durationMs: number };
          byStep.get(d.step)!.push(d.durationMs);
        }
      }
    } finally {
      await system.stop();
    }
    const p50 = (v: number[]) => percentile(v, 50);
    const rows: Row[] = [
      {
        bench,
        metric: `mcp-server-ts, request → serving, p50 of ${rounds}`,
        unit: 'ms',
        value: p50(total),
        baseline: p50(byHand),
        baselineLabel: 'npm install + build + start by hand',
        better: 'lower',
      },
      {
        bench,
        metric: 'build step (copy, npm install, npm run build)',
        unit: 'ms',
        value: p50(byStep.get('build')!),
        baseline: p50(handParts.install) + p50(handParts.build),
        baselineLabel: 'npm install + npm run build by hand',
        better: 'lower',
      },
    ];
    const notes: Note[] = [
      {
        bench,
        text:
          `by step (p50): ${deploymentSteps.map((s) => `${s} ${Math.round(p50(byStep.get(s)!))} ms`).join(', ')}; ` +
          `by hand: install ${Math.round(p50(handParts.install))} ms, build ${Math.round(p50(handParts.build))} ms, ` +
          `start and list tools ${Math.round(p50(handParts.start))} ms`,
      },
    ];
    return { rows, notes };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
