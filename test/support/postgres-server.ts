// A real, throw-away PostgreSQL server for integration tests: Debian's `postgresql` package
// binaries, a private cluster in a temp dir, loopback TCP on a free port, its own socket dir.
// It never touches the system cluster. No binaries: a clear error, never a silent skip (a test
// that cannot fail is not a test; DESIGN.md, Tests).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chownSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../src/demo/free-port.ts';

export interface PostgresServer {
  /** Connection URL of the database created for the test run. */
  url: string;
  /** Creates another empty database on the same server and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const OS_USER = 'postgres';
const SUPERUSER = 'postgres';

/** PG_BIN overrides the search (another install layout); else the newest /usr/lib/postgresql/N/bin. */
export function findPostgresBin(): string {
  const fromEnv = process.env.PG_BIN;
  const candidates: string[] = [];
  const root = '/usr/lib/postgresql';
  if (fromEnv) candidates.push(fromEnv); // explicit: only there, so a wrong PG_BIN is an error
  else if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(root, v, 'bin')));
  }
  const bin = candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((exe) => existsSync(join(dir, exe))));
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries not found (looked for initdb and pg_ctl in ' +
        `${candidates.length > 0 ? candidates.join(', ') : '/usr/lib/postgresql/*/bin'}). ` +
        'Install them: `apt-get update && apt-get install -y postgresql`, or set PG_BIN.',
    );
  }
  return bin;
}

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` OS user. */
function asServerUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(runOrThrow('id', ['-u', OS_USER]).stdout.trim());
  const gid = Number(runOrThrow('id', ['-g', OS_USER]).stdout.trim());
  return { uid, gid };
}

function runOrThrow(cmd: string, args: string[], runAs?: { uid: number; gid: number }): SpawnSyncReturns<string> {
  const [file, argv] = runAs ? ['runuser', ['-u', OS_USER, '--', cmd, ...args]] : [cmd, args];
  const res = spawnSync(file, argv, { encoding: 'utf8', timeout: 60_000, cwd: tmpdir() });
  if (res.error || res.status !== 0) {
    const why = res.error?.message ?? `exit ${res.status}`;
    throw new Error(`${cmd} ${args.join(' ')} failed (${why}):\n${res.stdout ?? ''}${res.stderr ?? ''}`);
  }
  return res;
}

export async function startPostgres(opts: { database?: string } = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const runAs = asServerUser();
  if (process.getuid?.() === 0 && !runAs) throw new Error(`Running as root needs the '${OS_USER}' OS user`);

  const base = mkdtempSync(join(tmpdir(), 'cds-pg-'));
  const dataDir = join(base, 'data');
  const socketDir = join(base, 'sock');
  const logFile = join(base, 'server.log');
  mkdirSync(socketDir);
  if (runAs) for (const p of [base, socketDir]) chownSync(p, runAs.uid, runAs.gid);

  const pgCtl = join(bin, 'pg_ctl');
  let started = false;
  const stopSync = (mode: 'fast' | 'immediate'): void => {
    if (started) {
      spawnSync(runAs ? 'runuser' : pgCtl, [...(runAs ? ['-u', OS_USER, '--', pgCtl] : []), 'stop', '-D', dataDir, '-m', mode, '-w'], {
        encoding: 'utf8',
        timeout: 30_000,
        cwd: tmpdir(),
      });
      started = false;
    }
    rmSync(base, { recursive: true, force: true });
  };
  // pg_ctl daemonises the server: if the test process dies without stop(), take it down anyway.
  const onExit = (): void => stopSync('immediate');
  process.once('exit', onExit);

  try {
    // Trust auth is fine: loopback only, a throw-away cluster. fsync off: tests, not durability.
    runOrThrow(join(bin, 'initdb'), ['-D', dataDir, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'], runAs);
    const port = await freePort();
    const serverOpts = [
      `-c listen_addresses=127.0.0.1`,
      `-p ${port}`,
      `-k ${socketDir}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    try {
      runOrThrow(pgCtl, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverOpts], runAs);
    } catch (err) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      throw new Error(`${(err as Error).message}\nserver log:\n${log}`);
    }
    started = true;

    const adminUrl = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
    const createDatabase = async (name: string): Promise<string> => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Unsafe database name: ${name}`);
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
    };
    const url = await createDatabase(opts.database ?? 'cds_test');

    return {
      url,
      createDatabase,
      async stop() {
        process.removeListener('exit', onExit);
        stopSync('fast');
      },
    };
  } catch (err) {
    process.removeListener('exit', onExit);
    stopSync('immediate');
    throw err;
  }
}
