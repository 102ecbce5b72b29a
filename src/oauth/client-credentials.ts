// Client authentication for /oauth/token and /oauth/revoke (RFC 6749 §2.3.1, API.md): in the
// body or by HTTP Basic, never both with a secret, never in the query string.
import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidClientError, InvalidRequestError } from '../errors.js';
import type { OAuthClientRecord } from '../repositories/clients-repository.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { SecretBox } from '../security/secret-box.js';

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

/** Picks the client's credentials out of the request, enforcing API.md's combination rules. */
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

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison of a presented secret with the stored (encrypted or hashed) one. */
export async function verifyClientSecret(client: OAuthClientRecord, presented: string, box: SecretBox, hasher: PasswordHasher): Promise<boolean> {
  if (client.secret) return timingSafeEqual(digest(box.open(client.secret)), digest(presented));
  // A secret imported from Passport::hashClientSecrets() (issue 8) survives only as bcrypt: it is
  // checked by the hasher, whose bounded concurrency keeps unauthenticated callers from filling
  // the thread pool with bcrypt work.
  if (client.secretHash) return hasher.verify(client.secretHash, presented);
  return false;
}
