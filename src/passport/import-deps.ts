// The import's dependencies over the service's own (the CLI and the tests build them the same way).
import { type CutOffHooks, createCutOffs } from '../security/cut-off.js';
import type { Services } from '../services.js';
import type { ImportDeps } from './importer.js';

export function importDeps(
  services: Pick<Services, 'db' | 'secretBox' | 'tokenStore' | 'events' | 'resellers' | 'legacyTokens'>,
  hooks: CutOffHooks = {},
): ImportDeps {
  return {
    prisma: services.db.prisma,
    secretBox: services.secretBox,
    // docs/revocation.md: a switched-off client, a new password or a new e-mail cuts the reseller
    // off at once, the admin API's way: every token of its client, and its imported Passport ones.
    cutOffs: createCutOffs(services, hooks),
    // Running instances drop what they cached about clients, legacy token revocations included.
    announce: () => services.events.publish('clients'),
  };
}
