// Read access to OAuth clients, as the token, revoke and introspect endpoints need them.
import { withDatabase } from '../db/errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Sealed } from '../security/secret-box.js';

export interface OAuthClientRecord {
  id: number;
  kind: 'reseller' | 'resource_server';
  name: string;
  grants: string[];
  allowedNetworks: string[];
  active: boolean;
  /** Encrypted secret (shown again to admins), or null when only a hash was imported. */
  secret: Sealed | null;
  /** bcrypt hash of an imported Passport secret. */
  secretHash: string | null;
  resellerId: string | null;
}

export interface ClientsRepository {
  findById(id: number): Promise<OAuthClientRecord | null>;
  /**
   * Replaces an imported bcrypt secret, once it was presented and verified, by its sealed form:
   * later checks are a fast constant-time comparison. Only while `importedHash` is still the
   * stored one, so a rotation made meanwhile stands. True when it was replaced.
   */
  replaceImportedSecret(id: number, importedHash: string, sealed: Sealed): Promise<boolean>;
}

interface ClientRow {
  /** Null when no client has the id (the other columns are placeholders then). */
  id: number | null;
  kind: OAuthClientRecord['kind'];
  name: string;
  grants: string[];
  allowedNetworks: string[];
  active: boolean;
  secretCiphertext: string | null;
  secretKeyId: string | null;
  secretHash: string | null;
  resellerId: string | null;
}

export function createClientsRepository(prisma: PrismaClient): ClientsRepository {
  return {
    // One statement and one row whatever the outcome: Prisma's `include` runs a second query for
    // the reseller only when the client exists, which made a known client id measurably slower to
    // refuse than an unknown one (an existence oracle on /oauth/token and /oauth/revoke).
    findById: (id) =>
      withDatabase(async () => {
        // Always one row of the same shape: an unknown id reads placeholders of a reseller client
        // (the sizes of real values: a sealed 40-character secret is 92 base64 characters).
        const rows = await prisma.$queryRaw<ClientRow[]>`
          SELECT c.id, COALESCE(c.kind::text, 'reseller') AS kind, COALESCE(c.name, 'Revenda placeholder') AS name,
                 COALESCE(c.grants, ARRAY['password', 'refresh_token']) AS grants,
                 COALESCE(c.allowed_networks, ARRAY['127.0.0.1/32']) AS "allowedNetworks", COALESCE(c.active, false) AS active,
                 CASE WHEN c.id IS NULL THEN repeat('A', 92) ELSE c.secret_ciphertext END AS "secretCiphertext",
                 CASE WHEN c.id IS NULL THEN repeat('0', 16) ELSE c.secret_key_id END AS "secretKeyId",
                 c.secret_hash AS "secretHash", CASE WHEN c.id IS NULL THEN 'placeholder' ELSE r.reseller_id END AS "resellerId"
          FROM (SELECT 1) AS one
          LEFT JOIN clients c ON c.id = ${id}
          LEFT JOIN resellers r ON r.client_id = c.id`;
        const row = rows[0];
        if (!row || row.id === null) return null;
        return {
          id: row.id,
          kind: row.kind,
          name: row.name,
          grants: row.grants,
          allowedNetworks: row.allowedNetworks,
          active: row.active,
          secret: row.secretCiphertext && row.secretKeyId ? { keyId: row.secretKeyId, ciphertext: row.secretCiphertext } : null,
          secretHash: row.secretHash,
          resellerId: row.resellerId,
        };
      }),
    replaceImportedSecret: (id, importedHash, sealed) =>
      withDatabase(async () => {
        const { count } = await prisma.client.updateMany({
          where: { id, secretHash: importedHash, secretCiphertext: null },
          data: { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId, secretHash: null },
        });
        return count === 1;
      }),
  };
}
