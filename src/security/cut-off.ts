// A cut-off (docs/revocation.md): a committed change after which no token of the reseller issued
// before it may work — switching the access off, a new password, e-mail or secret, whether made
// by an admin call or by the Passport import. The change records the cut-off as pending in its own
// transaction (resellers.update(…, true), markCutOffsPending); after the commit, `complete`
// revokes every token of the reseller and only once that is stored clears the mark. A revocation
// that fails leaves the mark, and whoever comes next completes it: the admin's next change of
// that access, or any import run (`completePending`). Revoking is idempotent, so two completers of
// one mark both revoke and the mark ends cleared; the mark's version keeps a completer from
// clearing a cut-off recorded after it read the mark, whose revocation it may have run too early.
import type { PendingCutOff } from '../repositories/resellers-repository.js';
import type { Services } from '../services.js';

export type CutOffDeps = Pick<Services, 'resellers' | 'tokenStore' | 'legacyTokens'>;

/** Whose tokens to revoke: the reseller's client and its user. */
export type CutOffTarget = Pick<PendingCutOff, 'clientId' | 'userId'>;

export interface CutOffHooks {
  /** Called after the pending marks are read, before their revocation (the retry's gauge; tests pause here). */
  afterRead?(pending: PendingCutOff[]): Promise<void>;
  /** Tests only: called after a mark's revocation is stored, before the mark is cleared. */
  beforeClear?(pending: PendingCutOff): Promise<void>;
}

export type CutOffs = ReturnType<typeof createCutOffs>;

/** Marks completed at a time: each is two token-store round trips and two small updates. */
const CONCURRENCY = 16;

export function createCutOffs(deps: CutOffDeps, hooks: CutOffHooks = {}) {
  const { resellers, tokenStore, legacyTokens } = deps;

  /**
   * Every token of the client (and so of its one user: token-store.ts), and the Passport tokens
   * imported for the user. Throws (503) when the token store cannot store or confirm it.
   */
  const revoke = async ({ clientId, userId }: CutOffTarget): Promise<void> => {
    await Promise.all([tokenStore.revokeClientTokens(String(clientId)), userId === null ? null : legacyTokens.revokeUserTokens(userId)]);
  };

  /** The revocation after a committed cut-off; only once it is stored is the cut-off no longer pending. */
  const complete = async (pending: PendingCutOff): Promise<void> => {
    await revoke(pending);
    await hooks.beforeClear?.(pending);
    await resellers.cutOffDone(pending.resellerId, pending.cutOffVersion);
  };

  /** Completes these marks; throws when one cannot be (the others may be done). */
  const completeAll = async (pending: PendingCutOff[]): Promise<void> => {
    for (let i = 0; i < pending.length; i += CONCURRENCY) await Promise.all(pending.slice(i, i + CONCURRENCY).map(complete));
  };

  return {
    revoke,
    complete,
    completeAll,
    /** Completes every cut-off left pending by a call or an import whose revocation failed; returns them. */
    async completePending(): Promise<PendingCutOff[]> {
      const pending = await resellers.pendingCutOffs();
      await hooks.afterRead?.(pending);
      await completeAll(pending);
      return pending;
    },
    /** The pending cut-offs, for a dry run to report without completing them. */
    pending: (): Promise<PendingCutOff[]> => resellers.pendingCutOffs(),
  };
}
