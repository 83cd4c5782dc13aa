import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, until } from './program.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The processes whose environment holds `marker` (Linux: /proc/<pid>/environ). */
async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(marker)) found.push(Number(entry));
  }
  return found;
}

/**
 * `npm start` stopped the way a supervisor stops it (`docker stop`, systemd: SIGTERM to the process
 * it started) stops Switchyard: the port and the data directory are free again.
 */
describe.skipIf(process.platform !== 'linux')('npm start, stopped with SIGTERM', () => {
  let dataDir: string | undefined;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('stops the program, not only npm', { timeout: 120_000 }, async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'switchyard-npm-start-'));
    const port = await freePort();
    const marker = `SWITCHYARD_DATA_DIR=${dataDir}`;
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: cleanEnv({
        SWITCHYARD_DATA_DIR: dataDir,
        SWITCHYARD_PORT: String(port),
        SWITCHYARD_LOG_LEVEL: 'warn',
      }),
      stdio: 'ignore',
    });
    const exited = once(npm, 'exit');
    try {
      await until(
        async () => ((await fetch(`http://127.0.0.1:${port}/health`)).ok ? true : undefined),
        90_000,
      );
      expect((await processesWith(marker)).length).toBeGreaterThan(1); // npm and the program

      npm.kill('SIGTERM');
      await exited;
      // Nothing of it is left: no process, and the port refuses connections.
      await until(async () => ((await processesWith(marker)).length === 0 ? true : undefined), 30_000);
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    } finally {
      for (const pid of await processesWith(marker)) process.kill(pid, 'SIGKILL');
    }
  });
});
