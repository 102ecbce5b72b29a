// `import-passport`: brings a Laravel Passport database's password-grant clients, their
// users, the reseller mapping and the unexpired tokens' revocation flags into this service, in
// one transaction per run. Runs again and again without harm: a run that finds nothing new
// changes nothing. A dry run does everything inside the transaction and rolls it back, so it
// reports exactly what a real run would do. An invalid entry or an account in conflict is left
// out and listed; everything else is imported, revocations included.
import type { PrismaClient } from '../generated/prisma/client.js';
import type { SecretBox } from '../security/secret-box.js';
import { planAccounts } from './account-plan.js';
import { advanceSequences, applyAccountPlan, loadOurState, lockAccountTables } from './account-store.js';
import type { Prefer } from './field-merge.js';
import { readPassportLayout, tableColumns } from './passport-layout.js';
import { readActivePasswordClients, readClients, readUsers } from './passport-rows.js';
import { type MappingSpec, MappingTableError, readMapping } from './reseller-mapping.js';
import { isIdentifier, openPassportSource } from './source.js';
import { type TokenImportCounts, importTokens } from './token-import.js';

export interface ImportOptions {
  /** mysql://, mariadb://, postgres:// or postgresql:// */
  sourceUrl: string;
  /** Laravel's app.timezone (America/Sao_Paulo, UTC, -03:00): how its zone-less timestamps are read. */
  sourceTimezone: string;
  usersTable: string;
  /** The auth provider (config/auth.php) whose table is usersTable; default 'users'. */
  usersProvider?: string;
  mapping: MappingSpec;
  dryRun: boolean;
  prefer: Prefer;
  /** For clients whose mapping names no networks: Passport restricted no address. */
  defaultAllowedNetworks: string[];
  parseNetworks(value: string): { ok: true; networks: string[] } | { ok: false; error: string };
}

export interface ImportDeps {
  prisma: PrismaClient;
  secretBox: SecretBox;
  /** After the commit: revoke our tokens of switched-off clients and of users with a new password or e-mail. */
  revokeTokens?(cutOff: { clientIds: number[]; userIds: number[] }): Promise<void>;
  /** After the commit: tell running instances that clients (and legacy tokens) changed. */
  announce?(): Promise<void>;
}

export interface ImportReport {
  dryRun: boolean;
  /** True only when a real run committed. */
  committed: boolean;
  /** Accounts left as they are here (changed on both sides, ids used by something else). */
  conflicts: string[];
  /** Mapping entries not imported: what is wrong with the row. */
  invalid: string[];
  changes: string[];
  /** Password-grant clients left out because no mapping names them. */
  unmappedClients: number[];
  tokens: TokenImportCounts | null;
}

class DryRun extends Error {}

/** Transaction bounds: an import of a large Passport database pages through millions of tokens. */
const TRANSACTION = { timeout: 30 * 60_000, maxWait: 10_000 };

export function hasChanges(report: ImportReport): boolean {
  const t = report.tokens;
  const tokenChanges = t ? t.accessTokensAdded + t.accessTokensRevoked + t.refreshTokensAdded + t.refreshTokensRevoked + t.expiredRemoved : 0;
  return report.changes.length > 0 || tokenChanges > 0;
}

export async function importPassport(options: ImportOptions, deps: ImportDeps): Promise<ImportReport> {
  if (!isIdentifier(options.usersTable)) throw new Error(`"${options.usersTable}" is not a table name`);
  const report: ImportReport = {
    dryRun: options.dryRun,
    committed: false,
    conflicts: [],
    invalid: [],
    changes: [],
    unmappedClients: [],
    tokens: null,
  };
  const now = new Date();
  const source = await openPassportSource(options.sourceUrl, options.sourceTimezone);
  try {
    const layout = await readPassportLayout(source);
    const mapping = await readMapping(options.mapping, source);
    report.invalid.push(...mapping.problems);
    const clientIds = [...new Set(mapping.entries.map((m) => m.clientId))];
    const clients = await readClients(source, layout, clientIds);
    const userIds = mapping.entries.map((m) => m.userId ?? clients.get(m.clientId)?.userId ?? null).filter((id): id is number => id !== null);
    const userColumns = await tableColumns(source, options.usersTable);
    if (userColumns.size === 0) throw new MappingTableError(`the Passport database has no table "${options.usersTable}" (--users-table)`);
    const softDeletes = userColumns.has('deleted_at');
    const users = await readUsers(source, options.usersTable, [...new Set(userIds)], softDeletes);
    const mapped = new Set(clientIds);
    // After the cut-over these clients get invalid_client: the runbook asks to map or retire them.
    report.unmappedClients = (await readActivePasswordClients(source, layout)).map((c) => c.id).filter((id) => !mapped.has(id));

    let cutOff = { clientIds: [] as number[], userIds: [] as number[] };
    try {
      await deps.prisma.$transaction(async (tx) => {
        await lockAccountTables(tx);
        const ours = await loadOurState(tx, mapping.entries, [...users.values()], deps.secretBox);
        const plan = planAccounts({
          mapping: mapping.entries,
          clients,
          users,
          ours,
          prefer: options.prefer,
          parseNetworks: options.parseNetworks,
          defaultAllowedNetworks: options.defaultAllowedNetworks,
          usersProvider: options.usersProvider ?? 'users',
        });
        report.conflicts.push(...plan.conflicts);
        report.invalid.push(...plan.invalid);
        report.changes.push(...plan.changes);
        const ourUserIds = await applyAccountPlan(tx, plan, deps.secretBox);
        report.tokens = await importTokens(tx, source, plan.pairs, ourUserIds, now);
        cutOff = plan.cutOff;
        if (options.dryRun) throw new DryRun();
        await advanceSequences(tx);
      }, TRANSACTION);
      report.committed = true;
    } catch (err) {
      if (!(err instanceof DryRun)) throw err;
      return report;
    }
    if (cutOff.clientIds.length + cutOff.userIds.length > 0) await deps.revokeTokens?.(cutOff);
    if (hasChanges(report)) await deps.announce?.();
    return report;
  } finally {
    await source.close();
  }
}
