// Client authentication for /oauth/token and /oauth/revoke (RFC 6749 §2.3.1, docs/resellers.md): in the
// body or by HTTP Basic, never both with a secret, never in the query string.
import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidClientError, InvalidRequestError } from '../errors.js';
import type { ClientsRepository, OAuthClientRecord } from '../repositories/clients-repository.js';
import { KeyedGate } from '../security/keyed-gate.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { SecretBox, Sealed } from '../security/secret-box.js';
import type { LoginGuard } from './login-guard.js';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  usedBasic: boolean;
}

/** RFC 7617 Basic credentials, form-urlencoded inside as RFC 6749 §2.3.1 requires. */
export function parseBasic(header: string | undefined): { id: string; secret: string } | null | 'malformed' {
  if (!header) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!match?.[1]) return /^Basic\b/i.test(header) ? 'malformed' : null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return 'malformed';
  }
}

/** Picks the client's credentials out of the request, enforcing the combination rules of docs/resellers.md ("Request"). */
export function extractClientCredentials(authorization: string | undefined, params: Record<string, string>): ClientCredentials {
  const basic = parseBasic(authorization);
  if (basic === 'malformed') throw new InvalidClientError(true);
  if (basic) {
    if (params.client_secret !== undefined) {
      throw new InvalidRequestError('Send the client credentials either with HTTP Basic or in the body, not both');
    }
    if (params.client_id !== undefined && params.client_id !== basic.id) {
      throw new InvalidRequestError('The `client_id` parameter differs from the HTTP Basic client id');
    }
    return { clientId: basic.id, clientSecret: basic.secret, usedBasic: true };
  }
  if (params.client_id === undefined) throw new InvalidRequestError('Check the `client_id` parameter');
  if (params.client_secret === undefined) throw new InvalidRequestError('Check the `client_secret` parameter');
  return { clientId: params.client_id, clientSecret: params.client_secret, usedBasic: false };
}

/** Passport's client ids are integers; anything else cannot name a client. */
export function parseClientId(clientId: string): number | null {
  return /^[1-9]\d{0,9}$/.test(clientId) && Number(clientId) <= 2_147_483_647 ? Number(clientId) : null;
}

/**
 * The client a request names, before it authenticated (HTTP Basic first, as
 * extractClientCredentials reads it), for the per-client counters of a failed attempt.
 */
export function claimedClientId(authorization: string | undefined, body: unknown): string | undefined {
  const basic = parseBasic(authorization);
  if (basic && basic !== 'malformed') return basic.id;
  const id = body && typeof body === 'object' ? (body as Record<string, unknown>).client_id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

export interface ClientSecretDeps {
  secretBox: SecretBox;
  hasher: PasswordHasher;
  clients: Pick<ClientsRepository, 'findById' | 'replaceImportedSecret'>;
  /** Re-checks the caller's budget after it waited for a slow legacy hash (see below). */
  loginGuard?: Pick<LoginGuard, 'assertAddressAllowed'>;
  /** The imported hash could not be replaced: the next check is slow again, nothing worse. */
  onSecretUpgradeFailed?: (err: unknown) => void;
}

/** Attempts that may wait behind the one slow legacy-hash check of a client before 429. */
export const SLOW_HASH_QUEUE = 8;

/** One gate per hashing pool (per service instance). */
const gates = new WeakMap<PasswordHasher, KeyedGate>();
/** A sealed 40-character secret per SecretBox, opened in place of a client that cannot authenticate. */
const dummies = new WeakMap<SecretBox, Sealed>();

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * RFC 6749 §2.3.1 client authentication for /oauth/token and /oauth/revoke: true only for an
 * active reseller client whose secret is `presented`.
 *
 * Constant work whatever the record: an unknown id, a disabled client or a resource server opens
 * a dummy sealed secret and compares it in constant time, exactly as a reseller client with a
 * wrong secret does, so the response time does not tell which client ids exist (OWASP
 * Authentication Cheat Sheet, on enumeration by timing). The caller ran the same query either way.
 *
 * A secret imported from Passport::hashClientSecrets() survives only as bcrypt, which is slow on
 * purpose. It is verified at most once: once it matches, the presented secret is sealed like our
 * own secrets (AES-GCM, secret-box.ts) and the hash dropped, so every later check is the fast
 * comparison. Until then, the attempts against that client take one hashing thread between them
 * (KeyedGate, SLOW_HASH_QUEUE waiting, the rest 429): no unauthenticated caller can queue bcrypt
 * work in front of the other resellers' logins. An attempt that waited re-reads the client (the
 * one before it may have sealed the secret) and re-checks its address budget (the one before it
 * may have spent it).
 */
export async function authenticateClientSecret(
  record: OAuthClientRecord | null,
  presented: string,
  deps: ClientSecretDeps,
  ip: string,
): Promise<boolean> {
  const usable = record?.active === true && record.kind === 'reseller';
  if (usable && record.secret === null && record.secretHash !== null) return verifyImported(record, record.secretHash, presented, deps, ip);
  const sealed = usable && record.secret !== null ? record.secret : dummySealed(deps.secretBox);
  const matches = timingSafeEqual(digest(deps.secretBox.open(sealed)), digest(presented));
  return usable && record.secret !== null && matches;
}

function dummySealed(box: SecretBox): Sealed {
  let sealed = dummies.get(box);
  if (!sealed) {
    // Not a secret: only there so that a client that cannot authenticate costs one decryption too.
    sealed = box.seal('dummy client secret that never matches..');
    dummies.set(box, sealed);
  }
  return sealed;
}

async function verifyImported(record: OAuthClientRecord, hash: string, presented: string, deps: ClientSecretDeps, ip: string): Promise<boolean> {
  let gate = gates.get(deps.hasher);
  if (!gate) {
    gate = new KeyedGate(SLOW_HASH_QUEUE);
    gates.set(deps.hasher, gate);
  }
  return gate.run(String(record.id), async (waited) => {
    let stored = hash;
    if (waited) {
      await deps.loginGuard?.assertAddressAllowed(ip, String(record.id));
      const current = await deps.clients.findById(record.id);
      // Sealed, disabled or gone meanwhile: the fast path decides (it never comes back here).
      if (!current?.active || current.kind !== 'reseller' || current.secret !== null || current.secretHash === null) {
        return authenticateClientSecret(current, presented, deps, ip);
      }
      stored = current.secretHash;
    }
    if (!(await deps.hasher.verify(stored, presented))) return false;
    // Conditional on the hash still being there: an admin's rotation meanwhile is never undone.
    await deps.clients
      .replaceImportedSecret(record.id, stored, deps.secretBox.seal(presented))
      .catch((err: unknown) => deps.onSecretUpgradeFailed?.(err));
    return true;
  });
}
