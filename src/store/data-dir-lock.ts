// The embedded database's folder lock. PGlite has no multi-process locking of its own: a second
// process (say, the report CLI while the server runs) opening the same folder would corrupt it. A
// lock file next to the data names the holder; a lock left by a dead process (crash, container
// restart) is taken over, so a stale file never stops the server from starting.
import { readFileSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
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
}

/** Takes the lock of the folder `dir` (the file `${dir}.lock`); resolves with its release. */
export async function lockDataDir(dir: string, logger: StoreLogger): Promise<() => Promise<void>> {
  if (openDirs.has(dir)) {
    throw new Error(`The embedded database in ${dir} is already open in this process`);
  }
  const lockPath = `${dir}.lock`;
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(JSON.stringify(mine));
      await fh.close();
      openDirs.add(dir);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        openDirs.delete(dir);
        await rm(lockPath, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(lockPath);
    if (holder && isLiveOtherProcess(holder)) {
      throw new Error(
        `The embedded database in ${dir} is in use by process ${holder.pid} since ${holder.since}. ` +
          `Stop that process, or use DATABASE_URL (PostgreSQL) to share the data between processes. ` +
          `If no such process runs, delete ${lockPath}.`,
      );
    }
    logger.warn({ lockPath, holder }, 'Taking over a stale embedded-database lock');
    await rm(lockPath, { force: true });
  }
  throw new Error(`Could not lock the embedded database in ${dir}`);
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockInfo>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? '') };
  } catch {
    return undefined; // unreadable or half-written: treat as stale
  }
}

function isLiveOtherProcess(holder: LockInfo): boolean {
  // Another host (shared volume) cannot be checked; a recreated container also gets a new
  // hostname, so assuming "stale" there is what lets it start. Same pid as ours: a previous
  // incarnation (pid 1 in a restarted container), since in-process reuse is caught by openDirs.
  if (holder.host !== hostname() || holder.pid === process.pid) return false;
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
