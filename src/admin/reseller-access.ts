// A reseller's API access, as the panel's "Revendas → API" modal and the ops CLI manage it
// (docs/admin-api.md): the orchestration of hashing, sealing, token revocation, change events
// and the audit trail over the resellers repository. Knows nothing of HTTP.
//
// Ordering: a change that must cut a reseller off (switching the access off, a new password, a new
// e-mail, a new secret) revokes the client's tokens BEFORE the database update, so that a token
// store outage fails the call (503) before anything changed, and AFTER it: the second cut-off
// bumps the client's generation after the new row is committed, so that a grant that read the old
// row is refused when it saves (docs/revocation.md), and it is only then that the call answers.
// The update records the cut-off as pending in its transaction, and the second revocation clears
// it (src/security/cut-off.ts, shared with the Passport import): if that revocation fails (503
// after the commit), the next change of the access, even the same call repeated and so changing
// nothing, or the next import run completes it.
import { ConflictError, NotFoundError, ValidationFailedError } from '../errors.js';
import type { ResellerAccess, ResellerAccessChanges } from '../repositories/resellers-repository.js';
import type { ResellerApiInput } from '../schemas/admin.js';
import { createCutOffs } from '../security/cut-off.js';
import { generateClientSecret } from '../security/secret-box.js';
import type { Services } from '../services.js';
import { type Actor, audit } from './audit.js';
import { type ApiAccessView, type ResellerSummaryView, toApiAccess, toSummary } from './views.js';

export type ResellerAccessDeps = Pick<Services, 'resellers' | 'users' | 'tokenStore' | 'legacyTokens' | 'hasher' | 'secretBox' | 'events' | 'log'>;

export interface ConfigureResult {
  access: ApiAccessView;
  created: boolean;
}

export interface ResellerPageView {
  items: ResellerSummaryView[];
  nextCursor: string | null;
}

export type ResellerAccessAdmin = ReturnType<typeof createResellerAccessAdmin>;

export const PASSWORD_REQUIRED = 'is required when the API access is first configured';

function emailTaken(): ConflictError {
  return new ConflictError('The e-mail is already used by another reseller.', { email: 'is already used by another reseller' });
}

export function createResellerAccessAdmin(deps: ResellerAccessDeps) {
  const { resellers, users, hasher, secretBox, events, log } = deps;
  const cutOffs = createCutOffs(deps);

  const find = async (resellerId: string): Promise<ResellerAccess> => {
    const access = await resellers.find(resellerId);
    if (!access) throw new NotFoundError(`No API access is configured for reseller ${resellerId}.`);
    return access;
  };

  /**
   * Other instances drop what they cached about clients. A failure is logged, not answered: the
   * change is committed, and a subscriber that lost its connection reloads when it reconnects.
   */
  const announce = async (): Promise<void> => {
    await events.publish('clients').catch((err: unknown) => log.warn({ err: (err as Error).message }, 'change event not published'));
  };

  const assertEmailFree = async (email: string, resellerId: string): Promise<void> => {
    const owner = await users.findByEmail(email);
    if (owner && owner.resellerId !== resellerId) throw emailTaken();
  };

  async function create(resellerId: string, input: ResellerApiInput, actor: Actor): Promise<ConfigureResult | null> {
    if (input.password === undefined) throw new ValidationFailedError({ password: PASSWORD_REQUIRED });
    try {
      const access = await resellers.create({
        resellerId,
        name: input.name,
        email: input.email,
        passwordHash: await hasher.hash(input.password),
        allowedNetworks: input.allowedIp,
        secret: secretBox.seal(generateClientSecret()),
      });
      await announce();
      audit(log, actor, 'reseller.api.create', { resellerId, clientId: access.clientId }, ['name', 'email', 'password', 'allowedIp', 'clientSecret']);
      return { access: toApiAccess(access, secretBox), created: true };
    } catch (err) {
      // Two first saves of one reseller raced and this one lost: it becomes an update.
      if (err instanceof ConflictError && (await resellers.find(resellerId))) return null;
      throw err;
    }
  }

  async function update(existing: ResellerAccess, input: ResellerApiInput, actor: Actor): Promise<ConfigureResult> {
    const changes: ResellerAccessChanges = {};
    if (input.name !== existing.name) changes.name = input.name;
    // An e-mail change cuts the user off too: the username in every introspection answer (and in
    // the resource servers' records) is the e-mail, so tokens must not outlive it.
    if (input.email !== existing.email) changes.email = input.email;
    if (input.password !== undefined && !(await isCurrentPassword(existing, input.password))) {
      changes.passwordHash = await hasher.hash(input.password);
    }
    if (input.allowedIp.join(',') !== existing.allowedNetworks.join(',')) changes.allowedNetworks = input.allowedIp;
    // Configuring a switched-off access switches it on again, same client id and secret, so the
    // reseller's integration works again unchanged (docs/admin-api.md); no revoked token comes back.
    if (!existing.active) changes.active = true;

    const changed = Object.keys(changes).map((key) => FIELD_NAMES[key as keyof ResellerAccessChanges]);
    // A save that changes nothing (the panel saves the form as it was) writes nothing: updatedAt
    // keeps saying when the access last changed, and the audit trail holds changes only.
    if (changed.length === 0) {
      if (existing.cutOffPending) {
        await cutOffs.complete(existing);
        await announce();
      }
      return { access: toApiAccess(existing, secretBox), created: false };
    }
    const cutsOff = changes.email !== undefined || changes.passwordHash !== undefined || existing.cutOffPending;
    if (cutsOff) await cutOffs.revoke(existing);
    const access = await resellers.update(existing.resellerId, changes, cutsOff);
    if (cutsOff) await cutOffs.complete(access);
    await announce();
    audit(log, actor, 'reseller.api.update', { resellerId: existing.resellerId, clientId: existing.clientId }, changed);
    return { access: toApiAccess(access, secretBox), created: false };
  }

  /** Sending the current password again (the panel may resend the field) is no password change. */
  async function isCurrentPassword(access: ResellerAccess, password: string): Promise<boolean> {
    const user = await users.findById(access.userId);
    return user !== null && (await hasher.verify(user.passwordHash, password));
  }

  return {
    /** PUT: creates the access (created = true) or updates it. */
    async configure(resellerId: string, input: ResellerApiInput, actor: Actor): Promise<ConfigureResult> {
      await assertEmailFree(input.email, resellerId);
      const existing = await resellers.find(resellerId);
      if (!existing) {
        const created = await create(resellerId, input, actor);
        if (created) return created;
      }
      return update(existing ?? (await find(resellerId)), input, actor);
    },

    async isConfigured(resellerId: string): Promise<boolean> {
      return (await resellers.find(resellerId)) !== null;
    },

    async show(resellerId: string): Promise<ApiAccessView> {
      return toApiAccess(await find(resellerId), secretBox);
    },

    /**
     * A new secret; the old one fails at once because /oauth/token reads the client on every
     * request. A rotation is a cut-off (the old secret may have leaked together with tokens):
     * every token issued before it is revoked, and a grant that authenticated with the old secret
     * while it ran gets none.
     */
    async rotateSecret(resellerId: string, actor: Actor): Promise<ApiAccessView> {
      const existing = await find(resellerId);
      await cutOffs.revoke(existing);
      const access = await resellers.update(resellerId, { secret: secretBox.seal(generateClientSecret()) }, true);
      await cutOffs.complete(access);
      await announce();
      audit(log, actor, 'reseller.api.rotate-secret', { resellerId, clientId: existing.clientId }, ['clientSecret']);
      return toApiAccess(access, secretBox);
    },

    /**
     * DELETE: client and user disabled, every token revoked. Switching off an access that is off
     * writes nothing and audits nothing (its updatedAt stays the moment it was switched off), but
     * still revokes and announces: a previous call may have committed the row and then answered
     * 503 before its revocation was stored, and repeating the call is how it is completed
     * (docs/revocation.md). A half-disabled access (client or user off, as an import may leave
     * it) is switched off fully.
     */
    async disable(resellerId: string, actor: Actor): Promise<ResellerSummaryView> {
      const existing = await find(resellerId);
      await cutOffs.revoke(existing);
      if (existing.switchedOff) {
        if (existing.cutOffPending) await resellers.cutOffDone(resellerId, existing.cutOffVersion);
        await announce();
        return toSummary(existing);
      }
      const access = await resellers.update(resellerId, { active: false }, true);
      await cutOffs.complete(access);
      await announce();
      audit(log, actor, 'reseller.api.disable', { resellerId, clientId: existing.clientId }, ['active']);
      return toSummary(access);
    },

    async list(limit: number, cursor: string | undefined): Promise<ResellerPageView> {
      const page = await resellers.list(limit, cursor);
      return { items: page.items.map(toSummary), nextCursor: page.nextCursor ?? null };
    },
  };
}

/** Audit field names as the API names them. */
const FIELD_NAMES: Record<keyof ResellerAccessChanges, string> = {
  name: 'name',
  email: 'email',
  passwordHash: 'password',
  allowedNetworks: 'allowedIp',
  active: 'active',
  secret: 'clientSecret',
};
