// What the admin API and the CLI show of a reseller's access (docs/admin-api.md, "PUT body and the API-access object").
import type { ResellerAccess } from '../repositories/resellers-repository.js';
import type { ResourceServer } from '../repositories/resource-servers-repository.js';
import type { SecretBox } from '../security/secret-box.js';

export interface ResellerSummaryView {
  resellerId: string;
  name: string;
  email: string;
  allowedIp: string[];
  clientId: string;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ApiAccessView extends Omit<ResellerSummaryView, 'active' | 'createdAt' | 'updatedAt'> {
  clientSecret: string | null;
  secretRotationRequired?: true;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ResourceServerView {
  id: string;
  name: string;
  clientId: string;
  createdAt: string;
}

/** Without the secret: lists never carry secrets (docs/admin-api.md, `GET /admin/resellers`). */
export function toSummary(access: ResellerAccess): ResellerSummaryView {
  return {
    resellerId: access.resellerId,
    name: access.name,
    email: access.email,
    allowedIp: access.allowedNetworks,
    clientId: String(access.clientId),
    active: access.active,
    createdAt: access.createdAt.toISOString(),
    updatedAt: access.updatedAt.toISOString(),
  };
}

/**
 * With the decrypted secret, in the field order docs/admin-api.md shows. A client imported from Passport with only a
 * bcrypt hash of its secret (Passport::hashClientSecrets) cannot show it: clientSecret is null
 * and secretRotationRequired tells the panel to issue a new one.
 */
export function toApiAccess(access: ResellerAccess, box: SecretBox): ApiAccessView {
  const { active, createdAt, updatedAt, ...rest } = toSummary(access);
  const clientSecret = access.secret ? box.open(access.secret) : null;
  return {
    ...rest,
    clientSecret,
    ...(clientSecret === null ? { secretRotationRequired: true as const } : {}),
    active,
    createdAt,
    updatedAt,
  };
}

export function toResourceServerView(server: ResourceServer): ResourceServerView {
  return { id: server.id, name: server.name, clientId: String(server.clientId), createdAt: server.createdAt.toISOString() };
}
