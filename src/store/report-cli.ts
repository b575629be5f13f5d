// Override-rate report for CDS committees (DESIGN.md, Contracts: Feedback: "override rates per card").
//   node src/store/report-cli.ts [--service <id>] [--since YYYY-MM-DD] [--json]
// Reads DATABASE_URL, else the embedded database in DATA_DIR (default ./data), like the server.
// With the embedded database the server must be stopped first (one process per PGlite folder);
// while it runs, use GET /cds-services/{id}/feedback/override-rates or PostgreSQL instead.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { pgliteDir } from './pglite-driver.ts';
import type { OverrideRateRow } from '../hooks/store-port.ts';
import { openStore } from './store.ts';

const USAGE = 'usage: node src/store/report-cli.ts [--service <id>] [--since YYYY-MM-DD] [--json]';

export interface ReportArgs {
  serviceId?: string;
  since?: Date;
  json: boolean;
  help: boolean;
}

/** Throws UsageError with a readable message on bad arguments. */
export function parseReportArgs(argv: string[]): ReportArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      service: { type: 'string' },
      since: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  let since: Date | undefined;
  if (values.since !== undefined) {
    // A calendar date is read as midnight UTC: the database stores instants.
    since = new Date(`${values.since}T00:00:00Z`);
    // The round trip rejects what Date would silently roll over (2026-02-30 -> March 2).
    if (Number.isNaN(since.getTime()) || since.toISOString().slice(0, 10) !== values.since) throw new UsageError(`--since must be a date like 2026-01-31\n${USAGE}`);
  }
  return { serviceId: values.service, since, json: values.json, help: values.help };
}

export class UsageError extends Error {}

/** Printable: card kinds and reason texts come from clients; keep control characters off the terminal. */
const clean = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

export function formatReport(rows: readonly OverrideRateRow[]): string {
  if (rows.length === 0) return 'No issued cards or feedback in this period.\n';
  const header = ['service', 'card kind', 'issued', 'accepted', 'overridden', 'override rate', 'top override reasons'];
  const body = rows.map((r) => [
    clean(r.serviceId),
    clean(r.cardKind),
    String(r.issued),
    String(r.accepted),
    String(r.overridden),
    r.overrideRate === null ? '-' : `${(r.overrideRate * 100).toFixed(1)} %`,
    r.topReasons.map((t) => `${clean(t.code)}${t.display ? ` (${clean(t.display)})` : ''} x${t.count}`).join('; ') || '-',
  ]);
  const numeric = new Set([2, 3, 4, 5]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

async function main(): Promise<number> {
  let args: ReportArgs;
  try {
    args = parseReportArgs(process.argv.slice(2));
  } catch (err) {
    // node:util parseArgs errors (unknown option, missing value) read well as they are.
    process.stderr.write(`${(err as Error).message}${err instanceof UsageError ? '' : `\n${USAGE}`}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // Only the storage settings matter here; DEMO is forced so that server-only requirements
  // (CDS_CLIENTS_FILE when DEMO=false) do not stop a report.
  const config = loadConfig({ DATABASE_URL: process.env.DATABASE_URL, DATA_DIR: process.env.DATA_DIR, DEMO: 'true' });
  if (!config.databaseUrl && !existsSync(pgliteDir(config.dataDir))) {
    process.stderr.write(`No embedded database in ${pgliteDir(config.dataDir)} (set DATA_DIR or DATABASE_URL).\n`);
    return 1;
  }
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const rows = await store.overrideRates({ serviceId: args.serviceId, since: args.since });
    process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : formatReport(rows));
    return 0;
  } finally {
    await store.close();
  }
}

// Run only as a script, so tests can import the formatter.
if (import.meta.main) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`report failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
