import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { VerifyReportJson } from '../event-store/audit/verify.ts';
import { newApiKey } from '../kernel/api-keys.ts';
import type { BenchContext } from './context.ts';
import { percentile } from './stats.ts';

const SWITCHYARD = fileURLToPath(new URL('../bin/switchyard.mjs', import.meta.url));
/** One per bench run: the gateways started on one database seal its secrets with the same key. */
const SECRET_KEY = randomBytes(32).toString('base64');
const ADMIN_KEY = newApiKey().key;

export interface GatewayVerify {
  report: VerifyReportJson;
  elapsedMs: number;
  /** `/health` asked every 100 ms while the verify ran: how long the gateway took to answer. */
  healthMs: { p50: number; max: number; count: number };
}

/**
 * `audit verify` as a user asks for it: `GET /api/v1/audit/verify` of a gateway started as the
 * README starts one (the bundled program; distributed, the gateway role alone, the public key only),
 * in front of the database at `url`, with `/health` asked every 100 ms meanwhile.
 */
export async function verifyThroughGateway(
  ctx: BenchContext,
  options: { url: string; publicKeyPem: string; threads: number | undefined; what: string },
): Promise<GatewayVerify> {
  const bus = ctx.busNames(options.what);
  const dataDir = await mkdtemp(join(tmpdir(), 'sy-bench-audit-'));
  const child = spawn(process.execPath, [SWITCHYARD, 'start'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: options.url,
      NATS_URL: ctx.natsUrl,
      SWITCHYARD_ROLES: 'gateway',
      SWITCHYARD_PORT: '0',
      SWITCHYARD_DATA_DIR: dataDir,
      SWITCHYARD_SECRET_KEY: SECRET_KEY,
      SWITCHYARD_ADMIN_KEY: ADMIN_KEY,
      SWITCHYARD_AUDIT_PUBLIC_KEY: options.publicKeyPem,
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
      SWITCHYARD_SUBJECT_PREFIX: bus.subjectPrefix,
      SWITCHYARD_EVENTS_STREAM: bus.eventsStream,
      SWITCHYARD_DLQ_STREAM: bus.deadLetterStream,
      ...(options.threads !== undefined && { SWITCHYARD_AUDIT_VERIFY_THREADS: String(options.threads) }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const base = await listeningUrl(child.stdout!);
    const headers = { authorization: `Bearer ${ADMIN_KEY}` };
    const health: number[] = [];
    let verifying = true;
    const probing = (async () => {
      while (verifying) {
        const t0 = performance.now();
        const ok = await fetch(`${base}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) health.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const t0 = performance.now();
    const response = await fetch(`${base}/api/v1/audit/verify`, { headers });
    const elapsedMs = performance.now() - t0;
    verifying = false;
    await probing;
    if (health.length === 0) throw new Error('audit bench: the gateway never answered /health');
    if (!response.ok) throw new Error(`audit bench: the gateway answered ${response.status}`);
    return {
      report: (await response.json()) as VerifyReportJson,
      elapsedMs,
      healthMs: { p50: percentile(health, 50), max: Math.max(...health), count: health.length },
    };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * The gateway's URL, from its "gateway listening" log line. The rest of its log is read and dropped,
 * so that a full pipe never stalls it.
 */
function listeningUrl(stdout: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stdout });
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the gateway did not start in 60 s')), 60_000);
    lines.on('line', (line) => {
      const url = listeningUrlIn(line);
      if (url === undefined) return;
      clearTimeout(timer);
      resolve(url);
    });
    lines.once('close', () => {
      clearTimeout(timer);
      reject(new Error('the gateway exited before it listened'));
    });
  });
}

function listeningUrlIn(line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return entry.msg === 'gateway listening' && typeof entry.url === 'string' ? entry.url : undefined;
  } catch {
    return undefined;
  }
}
