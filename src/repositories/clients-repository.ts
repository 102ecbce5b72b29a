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
}

export function createClientsRepository(prisma: PrismaClient): ClientsRepository {
  return {
    findById: (id) =>
      withDatabase(async () => {
        const row = await prisma.client.findUnique({ where: { id }, include: { reseller: { select: { resellerId: true } } } });
        if (!row) return null;
        return {
          id: row.id,
          kind: row.kind,
          name: row.name,
          grants: row.grants,
          allowedNetworks: row.allowedNetworks,
          active: row.active,
          secret: row.secretCiphertext && row.secretKeyId ? { keyId: row.secretKeyId, ciphertext: row.secretCiphertext } : null,
          secretHash: row.secretHash,
          resellerId: row.reseller?.resellerId ?? null,
        };
      }),
  };
}
