// `reseller-auth import-passport …`: imports a Laravel Passport database — its
// password-grant clients, their users, the reseller mapping and the revocation flags of the
// unexpired tokens — in one transaction, and prints the report. Run it as often as needed: a run
// that finds nothing new changes nothing. Invalid entries are left out with a warning; accounts
// in conflict are left as they are and make the exit status 1; everything else is imported.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConflictError, DependencyUnavailableError } from '../../errors.js';
import { importDeps } from '../../passport/import-deps.js';
import { DEFAULT_BATCH_SIZE, type ImportReport, hasChanges, importPassport } from '../../passport/importer.js';
import { UnsupportedPassportLayoutError } from '../../passport/passport-layout.js';
import { type MappingSpec, MappingTableError } from '../../passport/reseller-mapping.js';
import { sourceTimeZone } from '../../passport/source-time-zone.js';
import { sourceKind } from '../../passport/source.js';
import { parseNetworks } from '../../security/networks.js';
import { type Command, type CommandContext, type CommandInput, UsageError } from '../command.js';
import { CliFailure, EXIT, endpoint, networkReason } from '../failures.js';

const PREFER = ['passport', 'local'] as const;
/** EX_DATAERR (sysexits.h): the Passport database's layout is one this import cannot read. */
const EX_DATAERR = 65;

function text(input: CommandInput, name: string): string | undefined {
  const value = input.values[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function mappingSpec(input: CommandInput): MappingSpec {
  const table = text(input, 'map-table');
  const csv = text(input, 'map-csv');
  if ((table === undefined) === (csv === undefined)) throw new UsageError('give the reseller mapping: either --map-table or --map-csv');
  const where = text(input, 'map-where');
  if (csv !== undefined) {
    if (where !== undefined || input.values['map-include-deleted'] === true)
      throw new UsageError('--map-where and --map-include-deleted apply to --map-table');
    return { kind: 'csv', path: csv };
  }
  // One condition: the snapshot connection must not run a second statement.
  if (where?.includes(';')) throw new UsageError('--map-where is one SQL condition, without ";"');
  return {
    kind: 'table',
    table: table as string,
    resellerColumn: text(input, 'map-reseller-column') ?? 'id',
    clientColumn: text(input, 'map-client-column') ?? 'oauth_client_id',
    userColumn: text(input, 'map-user-column'),
    allowedIpColumn: text(input, 'map-allowed-ip-column'),
    where,
    includeDeleted: input.values['map-include-deleted'] === true,
  };
}

/** Checked before anything is opened: a mistyped URL or zone is a usage error (64), not a failure. */
function checkedSource(input: CommandInput): { sourceUrl: string; sourceTimezone: string } {
  const sourceUrl = text(input, 'from') ?? process.env.PASSPORT_DATABASE_URL;
  if (sourceUrl === undefined) throw new UsageError('give the Passport database: --from <url> or PASSPORT_DATABASE_URL');
  const sourceTimezone = text(input, 'source-timezone') ?? 'Z';
  try {
    sourceKind(sourceUrl);
    sourceTimeZone(sourceTimezone);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { sourceUrl, sourceTimezone };
}

/** What the operator must see even in JSON output: left-out entries and clients that will stop working. */
function warnAbout(report: ImportReport, context: CommandContext): void {
  for (const line of report.invalid) context.warn(`not imported: ${line}`);
  if (report.unmappedClients.length > 0) {
    context.warn(
      `password-grant client(s) ${report.unmappedClients.join(', ')} are in no mapping: once /oauth/token is routed here they get invalid_client (docs/passport-migration.md)`,
    );
  }
}

export const importPassportCommand: Command = {
  name: 'import-passport',
  summary: 'Import clients, users, the reseller mapping and token revocations from a Laravel Passport database (idempotent)',
  positionals: [],
  examples: [
    'PASSPORT_DATABASE_URL=mysql://reader:password@passport-db:3306/dbs reseller-auth import-passport --map-table revendas --map-client-column oauth_client_id --dry-run',
    'reseller-auth import-passport --from mysql://reader:password@passport-db:3306/dbs --map-csv resellers.csv --source-timezone America/Sao_Paulo',
  ],
  options: {
    from: {
      type: 'string',
      placeholder: '<url>',
      description:
        'mysql://, mariadb://, postgres:// URL of the Passport database (default: $PASSPORT_DATABASE_URL, which keeps the password out of ps)',
    },
    'map-table': { type: 'string', placeholder: '<table>', description: 'DBS table mapping resellers to Passport clients' },
    'map-reseller-column': { type: 'string', placeholder: '<column>', description: "its reseller id column (default 'id')" },
    'map-client-column': { type: 'string', placeholder: '<column>', description: "its client id column (default 'oauth_client_id')" },
    'map-user-column': { type: 'string', placeholder: '<column>', description: 'its Passport user id column (default: oauth_clients.user_id)' },
    'map-allowed-ip-column': { type: 'string', placeholder: '<column>', description: 'its allowed addresses/CIDR blocks column' },
    'map-where': { type: 'string', placeholder: '<condition>', description: 'an SQL condition the table\'s rows must meet, e.g. "ativo = 1"' },
    'map-include-deleted': { type: 'boolean', description: 'keep rows whose deleted_at is set (by default they are left out)' },
    'map-csv': { type: 'string', placeholder: '<file>', description: 'or a CSV file: reseller_id,client_id[,user_id[,allowed_ip]]' },
    'users-table': { type: 'string', placeholder: '<table>', description: "Passport's user table (default 'users')" },
    'users-provider': {
      type: 'string',
      placeholder: '<provider>',
      description: "the auth provider whose table that is (default 'users'); clients of another provider are not imported",
    },
    'source-timezone': {
      type: 'string',
      placeholder: '<zone>',
      description: "Laravel's app.timezone: an IANA name (America/Sao_Paulo), UTC, or an offset such as -03:00 (default UTC)",
    },
    'default-allowed-ip': {
      type: 'string',
      placeholder: '<list>',
      description: "allowed networks of a client the mapping gives none (default '0.0.0.0/0,::/0': Passport restricted none)",
    },
    prefer: { type: 'string', placeholder: 'passport|local', description: 'which side wins a field changed both in Passport and here' },
    'dry-run': { type: 'boolean', description: 'print what would change and change nothing' },
    'batch-size': {
      type: 'string',
      placeholder: '<n>',
      description: `resellers per transaction (default ${DEFAULT_BATCH_SIZE}); each batch commits on its own`,
    },
  },
  async run(input, context) {
    const { sourceUrl, sourceTimezone } = checkedSource(input);
    const prefer = text(input, 'prefer');
    if (prefer !== undefined && !PREFER.includes(prefer as (typeof PREFER)[number])) throw new UsageError('--prefer is passport or local');
    const defaults = parseNetworks(text(input, 'default-allowed-ip') ?? '0.0.0.0/0,::/0');
    if (!defaults.ok) throw new UsageError(`--default-allowed-ip: ${defaults.error}`);
    const mapping = mappingSpec(input);
    const batchSize = text(input, 'batch-size');
    if (batchSize !== undefined && !/^[1-9]\d{0,5}$/.test(batchSize)) throw new UsageError('--batch-size is a whole number from 1 to 999999');

    const services = await context.services();
    const report = await importPassport(
      {
        sourceUrl,
        sourceTimezone,
        usersTable: text(input, 'users-table') ?? 'users',
        usersProvider: text(input, 'users-provider') ?? 'users',
        mapping,
        dryRun: input.values['dry-run'] === true,
        prefer: (prefer as (typeof PREFER)[number] | undefined) ?? 'fail',
        defaultAllowedNetworks: defaults.networks,
        parseNetworks,
        batchSize: batchSize === undefined ? undefined : Number(batchSize),
      },
      { ...importDeps(services), afterBatch: collectGarbage() },
    ).catch((err: unknown) => {
      throw explainSourceFailure(err, sourceUrl);
    });
    warnAbout(report, context);
    if (report.conflicts.length > 0) {
      const lines = report.conflicts.map((c) => `  - ${c}`).join('\n');
      const rest = report.dryRun ? 'everything else would be imported (dry run)' : 'everything else was imported';
      throw new ConflictError(`${report.conflicts.length} conflict(s), those accounts were left as they are; ${rest}:\n${lines}`, {});
    }
    context.log.info(
      { dryRun: report.dryRun, changes: report.changes.length, tokens: report.tokens },
      report.dryRun
        ? 'import-passport dry run: nothing was written'
        : hasChanges(report)
          ? 'import-passport committed'
          : 'import-passport: nothing to change',
    );
    return report;
  },
};

/**
 * A full garbage collection after each batch. What a batch leaves behind is garbage, but V8
 * collects its old generation late, at a limit that grows with the process, and the import runs
 * in a pod with a memory limit: collecting between batches keeps the process near what one batch
 * holds (docs/passport-migration.md, "Batches"). The CLI is a process of its own: no request waits.
 */
function collectGarbage(): () => Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return async () => gc();
}

// The Passport database's drivers (mysql2, pg) fail with their own errors; ours come through
// Prisma or as DependencyUnavailableError, and are explained by run.ts.
const SOURCE_REFUSED = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR', '28P01', '28000', '3D000']);

function explainSourceFailure(err: unknown, sourceUrl: string): unknown {
  if (err instanceof UnsupportedPassportLayoutError) return new CliFailure(EX_DATAERR, err.message, { cause: err });
  if (err instanceof MappingTableError) return new UsageError(err.message);
  if (!(err instanceof Error) || err instanceof DependencyUnavailableError || err.name.startsWith('Prisma')) return err;
  const where = endpoint(sourceUrl, sourceUrl.startsWith('postgres') ? 5432 : 3306);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && SOURCE_REFUSED.has(code)) {
    return new CliFailure(
      EXIT.config,
      `the Passport database at ${where} refused the connection (${err.message}). Check the user, password and database name in --from or PASSPORT_DATABASE_URL.`,
      { cause: err },
    );
  }
  const reason = networkReason(err);
  if (reason === undefined) return err;
  return new CliFailure(
    EXIT.unavailable,
    `cannot reach the Passport database at ${where} (${reason}). Check --from or PASSPORT_DATABASE_URL, and that the database is reachable from here.`,
    { cause: err },
  );
}
