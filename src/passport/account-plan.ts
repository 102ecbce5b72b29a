// What the import would do to clients, resellers and users, decided before anything is written
// (a pure function of Passport's rows, the mapping and our rows): creations, field updates (the
// three-way merge of field-merge.ts), every invalid entry and every conflict, all of them at once
// so that one run tells the operator everything to fix. An account with a conflict is left as it
// is here (none of its fields is written) while every other account is imported, and the
// revocation flags of its Passport tokens still arrive: Passport's revocations never wait.
import {
  type FieldDigests,
  type MergeOutcome,
  PASSWORD_REHASH_KEY,
  type Prefer,
  fieldDigest,
  localPasswordDigest,
  mergeField,
  storedDigests,
} from './field-merge.js';
import type { PassportClient, PassportUser } from './passport-rows.js';
import {
  type EntriesSeen,
  type EntrySources,
  type SecretValue,
  consistentEntries,
  entriesSeen,
  resolveEntry,
  secretDigest,
} from './passport-entries.js';
import type { ResellerMapping } from './reseller-mapping.js';

export interface OurClient {
  id: number;
  kind: string;
  name: string;
  active: boolean;
  /** fieldDigest('secret', 'plain:…' | 'hash:…') of our current secret, null when none. */
  secretDigest: string | null;
  passportId: number | null;
  importDigest: unknown;
}

export interface OurUser {
  id: number;
  resellerId: string;
  name: string;
  email: string;
  passwordHash: string;
  passportId: number | null;
  importDigest: unknown;
}

export interface OurState {
  clients: Map<number, OurClient>;
  /** By reseller id, with the reseller's client id. */
  resellers: Map<string, { clientId: number }>;
  usersByPassportId: Map<number, OurUser>;
  usersByResellerId: Map<string, OurUser>;
  usersByEmail: Map<string, OurUser>;
  /** Our user ids among the Passport user ids (an id that cannot be kept). */
  takenUserIds: Set<number>;
}

export interface ClientWrite {
  id: number;
  name?: string;
  active?: boolean;
  secret?: SecretValue;
  digests: FieldDigests;
}

export interface ClientCreate {
  id: number;
  name: string;
  active: boolean;
  secret: SecretValue;
  allowedNetworks: string[];
  digests: FieldDigests;
}

export interface UserWrite {
  /** Our id: on creation Passport's id when free, else null (a new id above those in use). */
  id: number | null;
  passportId: number;
  resellerId: string;
  name?: string;
  email?: string;
  passwordHash?: string;
  digests: FieldDigests;
}

export interface AccountPlan {
  /** Accounts left as they are here: changed on both sides, or ids already used by something else. */
  conflicts: string[];
  /** Mapping entries not imported at all: their Passport rows or mapping cannot be imported as they are. */
  invalid: string[];
  /** Human-readable, one line per created row or changed field. */
  changes: string[];
  createClients: ClientCreate[];
  updateClients: ClientWrite[];
  createResellers: { resellerId: string; clientId: number }[];
  createUsers: (UserWrite & Required<Pick<UserWrite, 'name' | 'email' | 'passwordHash'>>)[];
  updateUsers: (UserWrite & { id: number })[];
  /** The imported (client, Passport user) pairs whose tokens are imported. */
  pairs: { clientId: number; passportUserId: number; resellerId: string }[];
  /** Whose tokens of ours must be revoked after the commit (switched off, new password or e-mail). */
  cutOff: { clientIds: number[]; userIds: number[] };
}

export interface PlanInput extends EntrySources {
  mapping: ResellerMapping[];
  ours: OurState;
  prefer: Prefer;
  /** The entries of the run's earlier batches (planSeen()): a batch is planned as if after them. */
  seen?: PlanSeen;
}

/** What the plans of one run's batches share: the entries and Passport e-mails already taken. */
export interface PlanSeen {
  entries: EntriesSeen;
  /** Lower-cased e-mail → reseller id. */
  emails: Map<string, string>;
}

export function planSeen(): PlanSeen {
  return { entries: entriesSeen(), emails: new Map() };
}

/** A copy to plan with: the run's own is replaced by it only once the plan is the one written. */
export function copySeen(seen: PlanSeen): PlanSeen {
  const { byReseller, resellerOfClient, resellerOfUser } = seen.entries;
  return {
    entries: { byReseller: new Map(byReseller), resellerOfClient: new Map(resellerOfClient), resellerOfUser: new Map(resellerOfUser) },
    emails: new Map(seen.emails),
  };
}

/** Digests of the fields the import owns. */
function clientDigests(client: PassportClient, secret: SecretValue): FieldDigests {
  return { name: fieldDigest('name', client.name), active: fieldDigest('active', String(!client.revoked)), secret: secretDigest(secret) };
}

function userDigests(user: PassportUser): FieldDigests {
  return {
    name: fieldDigest('name', user.name),
    email: fieldDigest('email', user.email.toLowerCase()),
    password: fieldDigest('password', user.password),
  };
}

export function planAccounts(input: PlanInput): AccountPlan {
  const plan: AccountPlan = {
    conflicts: [],
    invalid: [],
    changes: [],
    createClients: [],
    updateClients: [],
    createResellers: [],
    createUsers: [],
    updateUsers: [],
    pairs: [],
    cutOff: { clientIds: [], userIds: [] },
  };
  const { ours, prefer } = input;
  const seen = input.seen ?? planSeen();
  const emails = seen.emails;
  const resellerOfClient = new Map([...ours.resellers].map(([id, r]) => [r.clientId, id]));

  for (const entry of consistentEntries(input.mapping, input.clients, plan.invalid, seen.entries)) {
    const resolved = resolveEntry(entry, input, plan.invalid);
    if (!resolved) continue;
    const { client, user, networks, secret } = resolved;
    const { resellerId } = entry;
    const email = user.email.toLowerCase();
    const emailOwner = emails.get(email);
    if (emailOwner !== undefined) {
      plan.invalid.push(`reseller ${resellerId}: e-mail ${email} is also the user of reseller ${emailOwner} in Passport`);
      continue;
    }
    emails.set(email, resellerId);
    const before = plan.conflicts.length;

    // Identity: the client id, the reseller and the user must be Passport's own, or free.
    const ourClient = ours.clients.get(client.id);
    if (ourClient && ourClient.passportId !== client.id) {
      plan.conflicts.push(
        `reseller ${resellerId}: client id ${client.id} is already used here by ${ourClient.kind} client "${ourClient.name}", not imported from Passport`,
      );
    }
    const ourReseller = ours.resellers.get(resellerId);
    if (ourReseller && ourReseller.clientId !== client.id) {
      plan.conflicts.push(`reseller ${resellerId} already has client ${ourReseller.clientId} here; Passport's mapping says client ${client.id}`);
    }
    const clientOwner = resellerOfClient.get(client.id);
    if (clientOwner !== undefined && clientOwner !== resellerId) {
      plan.conflicts.push(`reseller ${resellerId}: client ${client.id} belongs to reseller ${clientOwner} here`);
    }
    const ourUser = ours.usersByPassportId.get(user.id);
    if (ourUser && ourUser.resellerId !== resellerId) {
      plan.conflicts.push(`reseller ${resellerId}: Passport user ${user.id} is already the user of reseller ${ourUser.resellerId} here`);
    }
    const resellersUser = ours.usersByResellerId.get(resellerId);
    if (!ourUser && resellersUser) {
      plan.conflicts.push(`reseller ${resellerId} already has user ${resellersUser.email} here, not Passport user ${user.id}`);
    }
    const emailHolder = ours.usersByEmail.get(email);
    if (emailHolder && emailHolder.resellerId !== resellerId) {
      plan.conflicts.push(`reseller ${resellerId}: e-mail ${email} is already used here by reseller ${emailHolder.resellerId}`);
    }
    if (plan.conflicts.length > before) continue;

    plan.pairs.push({ clientId: client.id, passportUserId: user.id, resellerId });
    const staged = stage(plan);
    planClient(plan, resellerId, client, secret, networks, ourClient, prefer);
    if (!ourReseller) {
      plan.createResellers.push({ resellerId, clientId: client.id });
      plan.changes.push(`reseller ${resellerId}: created with client ${client.id}`);
    }
    planUser(plan, resellerId, user, ourUser, ours.takenUserIds, prefer);
    // A field conflict: this account stays exactly as it is, its token flags are still imported.
    if (plan.conflicts.length > before) staged.undo();
  }
  return plan;
}

/** Remembers how long the plan's lists are, to drop what one account added to them. */
function stage(plan: AccountPlan): { undo(): void } {
  const lists = [
    plan.changes,
    plan.createClients,
    plan.updateClients,
    plan.createResellers,
    plan.createUsers,
    plan.updateUsers,
    plan.cutOff.clientIds,
    plan.cutOff.userIds,
  ] as unknown[][];
  const lengths = lists.map((l) => l.length);
  return {
    undo: () => {
      for (const [i, list] of lists.entries()) list.length = lengths[i] as number;
    },
  };
}

function planClient(
  plan: AccountPlan,
  resellerId: string,
  client: PassportClient,
  secret: SecretValue,
  networks: string[],
  ours: OurClient | undefined,
  prefer: Prefer,
): void {
  const digests = clientDigests(client, secret);
  if (!ours) {
    plan.createClients.push({ id: client.id, name: client.name, active: !client.revoked, secret, allowedNetworks: networks, digests });
    plan.changes.push(`client ${client.id}: created for reseller ${resellerId}${'hash' in secret ? ' (secret known only as a bcrypt hash)' : ''}`);
    return;
  }
  const last = storedDigests(ours.importDigest);
  const write: ClientWrite = { id: client.id, digests: { ...last } };
  const outcome = (field: string, local: string): MergeOutcome => mergeField(digests[field] as string, last[field], local, prefer);
  const fields: [string, MergeOutcome, () => void][] = [
    ['name', outcome('name', fieldDigest('name', ours.name)), () => (write.name = client.name)],
    ['active', outcome('active', fieldDigest('active', String(ours.active))), () => (write.active = !client.revoked)],
    ['secret', outcome('secret', ours.secretDigest ?? ''), () => (write.secret = secret)],
  ];
  const written = applyOutcomes(plan, `client ${client.id}`, fields, digests, write.digests);
  if (write.active === false) plan.cutOff.clientIds.push(client.id);
  if (written || JSON.stringify(write.digests) !== JSON.stringify(last)) plan.updateClients.push(write);
}

function planUser(plan: AccountPlan, resellerId: string, user: PassportUser, ours: OurUser | undefined, taken: Set<number>, prefer: Prefer): void {
  const digests = userDigests(user);
  const email = user.email.toLowerCase();
  if (!ours) {
    const id = taken.has(user.id) ? null : user.id;
    plan.createUsers.push({ id, passportId: user.id, resellerId, name: user.name, email, passwordHash: user.password, digests });
    plan.changes.push(
      `user ${email}: created for reseller ${resellerId}${id === null ? ` (Passport id ${user.id} is taken here: a new id is assigned)` : ''}`,
    );
    return;
  }
  const last = storedDigests(ours.importDigest);
  const write: UserWrite & { id: number } = { id: ours.id, passportId: user.id, resellerId, digests: { ...last } };
  const outcome = (field: string, local: string): MergeOutcome => mergeField(digests[field] as string, last[field], local, prefer);
  const fields: [string, MergeOutcome, () => void][] = [
    ['name', outcome('name', fieldDigest('name', ours.name)), () => (write.name = user.name)],
    ['email', outcome('email', fieldDigest('email', ours.email)), () => (write.email = email)],
    ['password', outcome('password', localPasswordDigest(ours.passwordHash, last)), () => (write.passwordHash = user.password)],
  ];
  const written = applyOutcomes(plan, `user ${ours.email}`, fields, digests, write.digests);
  // Passport's hash replaces ours: the re-hash marker no longer describes it.
  if (write.passwordHash !== undefined) delete write.digests[PASSWORD_REHASH_KEY];
  // docs/revocation.md: a new password or e-mail cuts the user's tokens off.
  if (write.email !== undefined || write.passwordHash !== undefined) plan.cutOff.userIds.push(ours.id);
  if (written || JSON.stringify(write.digests) !== JSON.stringify(last)) plan.updateUsers.push(write);
}

/** Records each field's outcome; true when a value is to be written. */
function applyOutcomes(
  plan: AccountPlan,
  what: string,
  fields: [string, MergeOutcome, () => void][],
  digests: FieldDigests,
  next: FieldDigests,
): boolean {
  let written = false;
  for (const [field, outcome, take] of fields) {
    if (outcome === 'conflict') {
      plan.conflicts.push(`${what}: ${field} changed both in Passport and here since the last import (use --prefer passport or --prefer local)`);
    } else if (outcome === 'update') {
      take();
      written = true;
      next[field] = digests[field] as string;
      plan.changes.push(`${what}: ${field} updated from Passport`);
    } else if (outcome === 'record') {
      next[field] = digests[field] as string;
    }
  }
  return written;
}
