// `import-passport`: brings a Laravel Passport database's password-grant clients, their
// users, the reseller mapping and the unexpired tokens' revocation flags into this service.
// The mapping is read first (one row per reseller); then the resellers go in batches, each read
// from Passport, planned and written in a short transaction of its own that locks only the rows
// it touches, so logins and admin saves go on during an import and memory stays bounded by the
// batch. A batch that committed stays committed when a later one fails: the run is idempotent
// (a run that finds nothing new changes nothing), so running it again completes it. A dry run
// rolls every batch back, so it reports what a real run would do. An invalid entry or an
// account in conflict is left out and listed; everything else is imported, revocations included.
// A batch that cuts resellers off records the cut-offs as pending in its transaction and revokes
// after its commit (src/security/cut-off.ts); a run first completes the cut-offs an earlier run or
// admin call left pending, because a re-run finds those rows unchanged and would not revoke again.
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { markCutOffsPending } from '../repositories/resellers-repository.js';
import type { CutOffs } from '../security/cut-off.js';
import type { SecretBox } from '../security/secret-box.js';
import { type AccountPlan, type PlanSeen, copySeen, planAccounts, planSeen } from './account-plan.js';
import { advanceSequences, applyAccountPlan, loadOurState, lockRowsToUpdate } from './account-store.js';
import type { Prefer } from './field-merge.js';
import { type PassportLayout, readPassportLayout, tableColumns } from './passport-layout.js';
import { type PassportClient, type PassportUser, readActivePasswordClients, readClients, readUsers } from './passport-rows.js';
import { type MappingSpec, MappingTableError, type ResellerMapping, readMapping } from './reseller-mapping.js';
import { type PassportSource, isIdentifier, openPassportSource } from './source.js';
import { type TokenImportCounts, addTokenCounts, importTokens, noTokenCounts, removeExpiredTokens } from './token-import.js';

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
  /** Resellers per batch (each batch one transaction); default DEFAULT_BATCH_SIZE. */
  batchSize?: number;
}

export interface ImportDeps {
  prisma: PrismaClient;
  secretBox: SecretBox;
  /**
   * Switched-off clients and users with a new password or e-mail: revoked after the batch's commit,
   * pending until then; and the cut-offs left pending before the run, completed first.
   */
  cutOffs: Pick<CutOffs, 'completeAll' | 'completePending' | 'pending'>;
  /** After the commit: tell running instances that clients (and legacy tokens) changed. */
  announce?(): Promise<void>;
  /** After each batch (committed, or rolled back in a dry run), before the next one starts. */
  afterBatch?(progress: { batch: number; resellers: number; of: number }): Promise<void>;
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

/**
 * Resellers per transaction: large enough that the per-statement cost is shared (a few hundred
 * rows per insert), small enough that a batch's row locks are held for a fraction of a second
 * and its Passport rows and tokens take little memory.
 */
export const DEFAULT_BATCH_SIZE = 250;

/** Transaction bounds: one batch pages through its clients' tokens, however many Passport kept. */
const TRANSACTION = { timeout: 10 * 60_000, maxWait: 10_000 };

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
  // First, before anything is written: a token store that still cannot revoke them stops the run here.
  report.changes.push(...(await pendingCutOffs(options.dryRun, deps)));
  const source = await openPassportSource(options.sourceUrl, options.sourceTimezone);
  try {
    const layout = await readPassportLayout(source);
    const mapping = await readMapping(options.mapping, source);
    report.invalid.push(...mapping.problems);
    const userColumns = await tableColumns(source, options.usersTable);
    if (userColumns.size === 0) throw new MappingTableError(`the Passport database has no table "${options.usersTable}" (--users-table)`);
    const mapped = new Set(mapping.entries.map((m) => m.clientId));
    // After the cut-over these clients get invalid_client: the runbook asks to map or retire them.
    report.unmappedClients = (await readActivePasswordClients(source, layout)).map((c) => c.id).filter((id) => !mapped.has(id));

    const run: BatchRun = { options, deps, source, layout, softDeletes: userColumns.has('deleted_at'), seen: planSeen(), now, report };
    const tokens = noTokenCounts();
    report.tokens = tokens;
    const size = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
    let committedChanges = !options.dryRun && hasChanges(report);
    try {
      for (let start = 0, batch = 1; start < mapping.entries.length; start += size, batch++) {
        addTokenCounts(tokens, await importBatch(run, mapping.entries.slice(start, start + size)));
        committedChanges ||= !options.dryRun && hasChanges(report);
        await deps.afterBatch?.({ batch, resellers: Math.min(start + size, mapping.entries.length), of: mapping.entries.length });
      }
      tokens.expiredRemoved += await inTransaction(deps.prisma, options.dryRun, async (tx) => {
        const removed = await removeExpiredTokens(tx, now);
        if (!options.dryRun) await advanceSequences(tx);
        return removed;
      });
    } catch (err) {
      // What earlier batches committed is in force: running instances must not keep serving stale clients.
      if (committedChanges) await deps.announce?.().catch(() => {});
      throw err;
    }
    report.committed = !options.dryRun;
    if (!options.dryRun && hasChanges(report)) await deps.announce?.();
    return report;
  } finally {
    await source.close();
  }
}

interface BatchRun {
  options: ImportOptions;
  deps: ImportDeps;
  source: PassportSource;
  layout: PassportLayout;
  softDeletes: boolean;
  seen: PlanSeen;
  now: Date;
  report: ImportReport;
}

/**
 * One batch of the mapping: its Passport clients and users are read, then planned and written (with
 * their tokens) in one transaction, revocations after its commit. Returns its token counts.
 */
async function importBatch(run: BatchRun, entries: ResellerMapping[]): Promise<TokenImportCounts> {
  const { options, deps, source, report } = run;
  const clients = await readClients(source, run.layout, [...new Set(entries.map((m) => m.clientId))]);
  const userIds = entries.map((m) => m.userId ?? clients.get(m.clientId)?.userId ?? null).filter((id): id is number => id !== null);
  const users = await readUsers(source, options.usersTable, [...new Set(userIds)], run.softDeletes);
  const { counts, cutOffs } = await inTransaction(deps.prisma, options.dryRun, async (tx) => {
    const plan = await planBatch(tx, run, entries, clients, users);
    const ourUserIds = await applyAccountPlan(tx, plan, deps.secretBox, !options.dryRun);
    const counts = await importTokens(tx, source, plan.pairs, ourUserIds, run.now);
    // docs/revocation.md: committed with the change, so that a failed revocation is not forgotten.
    const cutOffs = await markCutOffsPending(tx, plan.cutOff);
    // Reported once the batch's work is done (a failed batch reports nothing of its own).
    report.conflicts.push(...plan.conflicts);
    report.invalid.push(...plan.invalid);
    report.changes.push(...plan.changes);
    return { counts, cutOffs };
  });
  if (!options.dryRun) await deps.cutOffs.completeAll(cutOffs);
  return counts;
}

/**
 * Completes (a dry run: only lists) the cut-offs left pending by an earlier run or admin call whose
 * revocation failed after its commit; one report line each.
 */
async function pendingCutOffs(dryRun: boolean, deps: ImportDeps): Promise<string[]> {
  const pending = dryRun ? await deps.cutOffs.pending() : await deps.cutOffs.completePending();
  const why = 'an earlier run or admin call committed it, then could not revoke';
  const done = dryRun ? `pending (${why}): a real run revokes its tokens` : `completed, its tokens revoked (${why})`;
  return pending.map((p) => `reseller ${p.resellerId}: cut-off ${done}`);
}

/** Re-plans after locking rows a plan updates this many times at most (each time, rows another writer just changed). */
const MAX_REPLANS = 3;

/**
 * Plans a batch against our rows without locking them; only the rows the plan updates are then
 * locked (FOR UPDATE, until the batch commits) and the batch planned again against what they hold
 * now, so that an admin save or a login's re-hash made meanwhile is merged, never overwritten.
 * Created rows need no lock (a unique key refuses a second one), and a batch that changes
 * nothing locks nothing.
 */
async function planBatch(
  tx: Prisma.TransactionClient,
  run: BatchRun,
  entries: ResellerMapping[],
  clients: Map<number, PassportClient>,
  users: Map<number, PassportUser>,
): Promise<AccountPlan> {
  const { options, deps } = run;
  const locked = { clientIds: new Set<number>(), userIds: new Set<number>() };
  for (let attempt = 0; ; attempt++) {
    const seen = copySeen(run.seen);
    const ours = await loadOurState(tx, entries, [...users.values()], deps.secretBox);
    const plan = planAccounts({
      mapping: entries,
      clients,
      users,
      ours,
      prefer: options.prefer,
      parseNetworks: options.parseNetworks,
      defaultAllowedNetworks: options.defaultAllowedNetworks,
      usersProvider: options.usersProvider ?? 'users',
      seen,
    });
    const clientIds = plan.updateClients.map((c) => c.id).filter((id) => !locked.clientIds.has(id));
    const userIds = plan.updateUsers.map((u) => u.id).filter((id) => !locked.userIds.has(id));
    if (clientIds.length + userIds.length === 0 || attempt === MAX_REPLANS) {
      run.seen = seen;
      return plan;
    }
    await lockRowsToUpdate(tx, { clientIds, userIds });
    for (const id of clientIds) locked.clientIds.add(id);
    for (const id of userIds) locked.userIds.add(id);
  }
}

/** Runs `work` in a transaction that commits, or in a dry run rolls back and still returns its result. */
async function inTransaction<T>(prisma: PrismaClient, dryRun: boolean, work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  if (!dryRun) return prisma.$transaction(work, TRANSACTION);
  let result: { value: T } | undefined;
  try {
    await prisma.$transaction(async (tx) => {
      result = { value: await work(tx) };
      throw new DryRun();
    }, TRANSACTION);
  } catch (err) {
    if (!(err instanceof DryRun) || !result) throw err;
  }
  return (result as { value: T }).value;
}
