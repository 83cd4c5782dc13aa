import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import nats from 'nats';
import pg from 'pg';
import type { BusNames } from '../bus/bus.port.ts';

/**
 * What every benchmark gets: the services, a run id, the time budget, and throw-away resources
 * (databases named `sy_bench_<run>_<what>`, NATS streams and subjects with a per-run prefix) that
 * are removed when the run ends, whatever happens.
 */
export interface BenchContext {
  readonly runId: string;
  readonly quick: boolean;
  readonly adminUrl: string;
  readonly natsUrl: string;
  /** Scales a duration or count: 1 for a full run, smaller with --quick. */
  scale<T extends number>(full: T, quick: T): T;
  createDatabase(what: string): Promise<{ url: string; name: string }>;
  /** Fresh JetStream stream and subject names (deleted at the end of the run). */
  busNames(what: string): BusNames;
  log(message: string): void;
}

export interface OwnedContext extends BenchContext {
  cleanup(): Promise<void>;
}

export function createContext(options: { quick: boolean; adminUrl: string; natsUrl: string }): OwnedContext {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databases: string[] = [];
  const streams: string[] = [];
  const started = performance.now();

  function dbUrl(name: string): string {
    const url = new URL(options.adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ connectionString: options.adminUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  return {
    runId,
    quick: options.quick,
    adminUrl: options.adminUrl,
    natsUrl: options.natsUrl,
    scale: (full, quick) => (options.quick ? quick : full),
    async createDatabase(what) {
      const name = `sy_bench_${runId}_${what}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
      databases.push(name);
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      return { url: dbUrl(name), name };
    },
    busNames(what) {
      const tag = `${runId}_${what}`.replace(/[^A-Za-z0-9_]/g, '_');
      const names = {
        subjectPrefix: `sybench_${tag}`,
        eventsStream: `SYBENCH_${tag}_EVENTS`.toUpperCase(),
        deadLetterStream: `SYBENCH_${tag}_DLQ`.toUpperCase(),
      };
      streams.push(names.eventsStream, names.deadLetterStream);
      return names;
    },
    log(message) {
      const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
      process.stderr.write(`[${s}s] ${message}\n`);
    },
    async cleanup() {
      if (streams.length > 0) {
        try {
          const nc = await nats.connect({ servers: options.natsUrl, name: 'switchyard-bench-cleanup' });
          const jsm = await nc.jetstreamManager();
          for (const s of streams.splice(0)) await jsm.streams.delete(s).catch(() => false);
          await nc.close();
        } catch (e) {
          process.stderr.write(`could not delete NATS streams ${streams.join(', ')}: ${String(e)}\n`);
        }
      }
      if (databases.length > 0) {
        await admin(async (c) => {
          for (const name of databases.splice(0))
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        }).catch((e) => process.stderr.write(`could not drop the bench databases: ${String(e)}\n`));
      }
    },
  };
}

export interface MachineInfo {
  date: string;
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  natsServer: string;
  loadAverage: string;
}

export function currentLoad(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

export async function machineInfo(adminUrl: string, natsUrl: string): Promise<MachineInfo> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
  const postgres = await (async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      const { rows } = await c.query<{ server_version: string }>('SHOW server_version');
      return rows[0]?.server_version ?? 'unknown';
    } finally {
      await c.end();
    }
  })();
  const natsServer = await (async () => {
    const nc = await nats.connect({ servers: natsUrl, name: 'switchyard-bench-info' });
    const version = nc.info?.version ?? 'unknown';
    await nc.close();
    return version;
  })();
  return {
    date: new Date().toISOString(),
    cores: availableParallelism(),
    cpu,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres,
    natsServer,
    loadAverage: currentLoad(),
  };
}

/** Cumulative busy and total CPU time of the machine (/proc/stat); diff two readings for a busy fraction. */
export async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const stat = await readFile('/proc/stat', 'utf8').catch(() => '');
  const fields = (/^cpu\s+(.+)$/m.exec(stat)?.[1] ?? '').trim().split(/\s+/).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Runs `fn`, and says how busy this process (in cores) and the whole machine (0..1) were meanwhile. */
export async function withCpu<T>(
  fn: () => Promise<T>,
): Promise<T & { processCores: number; machineBusy: number }> {
  const machine = await cpuTimes();
  const own = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wallUs = (performance.now() - t0) * 1000;
  const used = process.cpuUsage(own);
  const end = await cpuTimes();
  return {
    ...result,
    processCores: (used.user + used.system) / wallUs,
    machineBusy: (end.busy - machine.busy) / (end.total - machine.total),
  };
}
