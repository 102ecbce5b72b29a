// Resource servers (the DBS API) allowed to introspect: clients of kind resource_server, with no
// grants, so they can never obtain tokens (docs/admin-api.md).
import { withDatabase } from '../db/errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Sealed } from '../security/secret-box.js';

export interface ResourceServer {
  id: string;
  name: string;
  clientId: number;
  secret: Sealed | null;
  createdAt: Date;
}

export interface ResourceServersRepository {
  create(name: string, secret: Sealed): Promise<ResourceServer>;
  list(): Promise<ResourceServer[]>;
  /** Returns the removed server, or null when there was none. */
  remove(id: string): Promise<ResourceServer | null>;
}

type Row = { id: string; createdAt: Date; client: { id: number; name: string; secretCiphertext: string | null; secretKeyId: string | null } };

function toServer(row: Row): ResourceServer {
  const { client } = row;
  return {
    id: row.id,
    name: client.name,
    clientId: client.id,
    secret: client.secretCiphertext && client.secretKeyId ? { keyId: client.secretKeyId, ciphertext: client.secretCiphertext } : null,
    createdAt: row.createdAt,
  };
}

export function createResourceServersRepository(prisma: PrismaClient): ResourceServersRepository {
  return {
    create: (name, secret) =>
      withDatabase(async () => {
        const row = await prisma.resourceServer.create({
          data: {
            client: {
              create: {
                kind: 'resource_server',
                name,
                secretCiphertext: secret.ciphertext,
                secretKeyId: secret.keyId,
                allowedNetworks: [],
                grants: [],
              },
            },
          },
          include: { client: true },
        });
        return toServer(row);
      }),
    list: () =>
      withDatabase(async () => {
        const rows = await prisma.resourceServer.findMany({ include: { client: true }, orderBy: { createdAt: 'desc' } });
        return rows.map(toServer);
      }),
    remove: (id) =>
      withDatabase(async () => {
        if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
        const row = await prisma.resourceServer.findUnique({ where: { id }, include: { client: true } });
        if (!row) return null;
        // Deleting the client cascades to the resource_servers row.
        await prisma.client.delete({ where: { id: row.clientId } });
        return toServer(row);
      }),
  };
}
