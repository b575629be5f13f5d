// A deliberately tiny SQL driver: the store speaks plain PostgreSQL through it, and the same SQL text
// runs on the embedded PGlite (Postgres compiled to WASM, pglite-driver.ts) and on a real server
// through `pg` (postgres-driver.ts) (DESIGN.md, "Real parts": embedded default, PostgreSQL through
// DATABASE_URL, same SQL). Type parsing differs between the two (pg returns int8 as a string, PGlite
// as a number), so the store's SQL casts counts to int and passes timestamps as ISO strings: then
// both agree.
import { openPglite } from './pglite-driver.ts';
import { openPostgres } from './postgres-driver.ts';

export interface StoreLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SqlExecutor {
  /** One statement, `$1`-style parameters; rows as plain objects keyed by column name. */
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** One or more statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDriver extends SqlExecutor {
  readonly backend: 'pglite' | 'postgres';
  /** BEGIN … COMMIT on one connection; ROLLBACK if `fn` throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DriverOptions {
  databaseUrl?: string;
  dataDir: string;
  logger: StoreLogger;
}

export function openSqlDriver(opts: DriverOptions): Promise<SqlDriver> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.logger) : openPglite(opts.dataDir, opts.logger);
}
