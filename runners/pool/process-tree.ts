import { readdir, readFile } from 'node:fs/promises';

/**
 * Process-group helpers. A stdio server is spawned as the leader of its own process group, so
 * everything it starts (shells, `npx` wrappers, workers) shares that group and one signal to the
 * negative pid reaches the whole tree. A descendant that calls setsid() leaves the group and
 * escapes this; only a cgroup could catch it.
 */

const hasProc = process.platform === 'linux';

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

/** `/proc/<pid>/stat`: `pid (comm) S ppid pgrp …` — comm may hold spaces and parentheses. */
function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number.parseInt(text, 10);
  const [state, ppid, pgrp] = text
    .slice(close + 2)
    .split(' ')
    .slice(0, 3);
  if (state === undefined || ppid === undefined || pgrp === undefined) return undefined;
  return { pid, state, ppid: Number(ppid), pgrp: Number(pgrp) };
}

async function procStats(): Promise<ProcStat[]> {
  const entries = await readdir('/proc');
  const stats = await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map((e) => readFile(`/proc/${e}/stat`, 'utf8').then(parseStat, () => undefined)),
  );
  return stats.filter((s): s is ProcStat => s !== undefined);
}

/**
 * Pids of the live members of a process group. Zombies do not count: an orphaned grandchild is
 * reparented to init, and where init does not reap (some container inits), it would otherwise
 * look alive forever.
 */
export async function groupMembers(pgid: number): Promise<number[]> {
  if (hasProc) {
    return (await procStats()).filter((s) => s.pgrp === pgid && s.state !== 'Z').map((s) => s.pid);
  }
  try {
    process.kill(-pgid, 0);
    return [pgid];
  } catch {
    return [];
  }
}

/** Whether a process exists and is not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!hasProc) return true;
  try {
    return parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'))?.state !== 'Z';
  } catch {
    return false;
  }
}

/** Sends a signal to every member of a group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Polls until the group has no live member; false if it still has one after `timeoutMs`. */
export async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await groupMembers(pgid)).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Reaps a process group: SIGTERM to every member, SIGKILL to whatever is left after `graceMs`.
 * Resolves once no member is alive (or, after SIGKILL, gives up after another few seconds —
 * a process stuck in uninterruptible sleep cannot be helped).
 */
export async function killGroup(pgid: number, graceMs: number): Promise<void> {
  if ((await groupMembers(pgid)).length === 0) return;
  signalGroup(pgid, 'SIGTERM');
  if (await waitForGroupExit(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitForGroupExit(pgid, 5_000);
}
