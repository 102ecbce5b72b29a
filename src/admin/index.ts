// The admin service layer, shared by the admin HTTP routes and the ops CLI (one code path).
import type { Services } from '../services.js';
import { type ResellerAccessAdmin, createResellerAccessAdmin } from './reseller-access.js';
import { type ResourceServersAdmin, createResourceServersAdmin } from './resource-servers.js';

export interface Admin {
  resellers: ResellerAccessAdmin;
  resourceServers: ResourceServersAdmin;
}

export function createAdmin(services: Services): Admin {
  return { resellers: createResellerAccessAdmin(services), resourceServers: createResourceServersAdmin(services) };
}

export { type Actor, CLI_ACTOR, adminTokenId } from './audit.js';
