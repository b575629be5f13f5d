// The embedded database's folder lock. PGlite is one process's database (DESIGN.md, Several
// instances): it has no multi-process locking of its own, and a second process (another instance,
// or the report CLI while the server runs) opening the same folder would corrupt it. A lock file
// next to the data names the holder and is refreshed by it (a heartbeat). A second process is
// refused with a message that says what to do instead (PostgreSQL through DATABASE_URL); a lock
// left by a dead process (crash, container restart) is taken over, so a stale file never stops the
// server from starting.
//
// A holder on another host (a volume shared by two containers) cannot be asked whether it lives:
// its heartbeat is watched instead. If the file changes within staleAfterMs the holder is alive and
// the second process is refused; if it does not, the holder is gone and its lock is taken over.
import { readFileSync } from 'node:fs';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { StoreLogger } from './sql-driver.ts';

/**
 * Folders opened by this process: PGlite is single-user, two handles on one folder corrupt it. This
 * is per process by nature (what the lock file cannot tell apart: the same pid), hence module state.
 */
const openDirs = new Set<string>();

interface LockInfo {
  pid: number;
  host: string;
  since: string;
  /** Rewritten every heartbeatMs by the holder; absent in locks written by older releases. */
  heartbeat?: string;
}

export interface LockTiming {
  /** How often the holder rewrites the lock file. Default 5 s. */
  heartbeatMs?: number;
  /** A lock from another host whose file stays unchanged this long is stale. Default 20 s. */
  staleAfterMs?: number;
}

const DEFAULT_HEARTBEAT_MS = 5_000;
const DEFAULT_STALE_AFTER_MS = 20_000;

/** Takes the lock of the folder `dir` (the file `${dir}.lock`); resolves with its release. */
export async function lockDataDir(dir: string, logger: StoreLogger, timing: LockTiming = {}): Promise<() => Promise<void>> {
  if (openDirs.has(dir)) {
    throw new Error(`The embedded database in ${dir} is already open in this process`);
  }
  const heartbeatMs = timing.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const staleAfterMs = timing.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const lockPath = `${dir}.lock`;
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const write = (info: LockInfo, path: string): Promise<void> => writeFile(path, JSON.stringify(info));
  for (let attempt = 0; attempt < 2; attempt++) {
    // Written whole, then linked into place: link() fails if the lock exists, and a reader never
    // sees a half-written file (which it would take for a stale one).
    const tmp = `${lockPath}.${process.pid}.${Date.now()}.tmp`;
    await write({ ...mine, heartbeat: new Date().toISOString() }, tmp);
    try {
      await link(tmp, lockPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      await rm(tmp, { force: true });
      const holder = await readLock(lockPath);
      if (holder && (await isLiveHolder(lockPath, holder, staleAfterMs))) throw inUse(dir, lockPath, holder);
      logger.warn({ lockPath, holder }, 'Taking over a stale embedded-database lock');
      await rm(lockPath, { force: true });
      continue;
    }
    await rm(tmp, { force: true });
    openDirs.add(dir);
    let released = false;
    // The refresh in flight, awaited by release(): a rename finishing after release's rm would
    // put the lock back, and the next start would find a stale lock of a process that exited.
    let refreshing: Promise<void> | undefined;
    const refresh = async (): Promise<void> => {
      // Refresh only a lock that is still ours (atomically: write aside, rename over).
      const current = await readLock(lockPath);
      if (!current || current.pid !== mine.pid || current.host !== mine.host || current.since !== mine.since) return;
      const next = `${lockPath}.${process.pid}.hb`;
      await write({ ...mine, heartbeat: new Date().toISOString() }, next);
      await rename(next, lockPath);
    };
    const timer = setInterval(() => {
      // One refresh at a time: a tick that finds one still running (a slow disk) is skipped.
      refreshing ??= refresh()
        .catch((err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'Could not refresh the embedded-database lock'))
        .finally(() => { refreshing = undefined; });
    }, heartbeatMs);
    timer.unref();
    return async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      await refreshing;
      openDirs.delete(dir);
      await rm(lockPath, { force: true });
    };
  }
  throw new Error(`Could not lock the embedded database in ${dir}`);
}

function inUse(dir: string, lockPath: string, holder: LockInfo): Error {
  const where = holder.host === hostname() ? `process ${holder.pid}` : `process ${holder.pid} on host ${holder.host}`;
  return new Error(
    `The embedded database in ${dir} is in use by ${where} since ${holder.since}. ` +
      'The embedded database (PGlite) serves one process only: stop that process, or give every instance ' +
      'DATABASE_URL (a PostgreSQL server they share) and REDIS_URL (docs/deployment.md). ' +
      `If no such process runs, delete ${lockPath}.`,
  );
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockInfo>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return {
      pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? ''),
      ...(typeof parsed.heartbeat === 'string' ? { heartbeat: parsed.heartbeat } : {}),
    };
  } catch {
    return undefined; // unreadable: treat as stale
  }
}

async function isLiveHolder(lockPath: string, holder: LockInfo, staleAfterMs: number): Promise<boolean> {
  if (holder.host !== hostname()) {
    // Older releases wrote no heartbeat: nothing to watch, assume stale (their behaviour).
    if (holder.heartbeat === undefined) return false;
    return heartbeatMoves(lockPath, holder, staleAfterMs);
  }
  // Same pid as ours: a previous incarnation (pid 1 in a restarted container), since in-process
  // reuse is caught by openDirs.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
  // After a crash the pid may have been reused by an unrelated program: only a Node process
  // can hold this lock. Where /proc is unavailable, err on the safe side (treat as live).
  try {
    return readFileSync(`/proc/${holder.pid}/cmdline`, 'latin1').includes('node');
  } catch {
    return true;
  }
}

/** Watches a lock from another host: true as soon as it is rewritten, false if it stays for staleAfterMs. */
async function heartbeatMoves(lockPath: string, holder: LockInfo, staleAfterMs: number): Promise<boolean> {
  const until = Date.now() + staleAfterMs;
  const poll = Math.max(10, Math.min(1_000, staleAfterMs / 10));
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, poll));
    const now = await readLock(lockPath);
    if (!now) return false; // released meanwhile
    if (now.heartbeat !== holder.heartbeat || now.pid !== holder.pid || now.host !== holder.host) return true;
  }
  return false;
}
