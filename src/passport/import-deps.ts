// The import's dependencies over the service's own (the CLI and the tests build them the same way).
import type { Services } from '../services.js';
import type { ImportDeps } from './importer.js';

export function importDeps(services: Pick<Services, 'db' | 'secretBox' | 'tokenStore' | 'events'>): ImportDeps {
  return {
    prisma: services.db.prisma,
    secretBox: services.secretBox,
    // API.md: a switched-off client, a new password or a new e-mail cuts the tokens off at once.
    async revokeTokens({ clientIds, userIds }) {
      await Promise.all([
        ...clientIds.map((id) => services.tokenStore.revokeClientTokens(String(id))),
        ...userIds.map((id) => services.tokenStore.revokeUserTokens(String(id))),
      ]);
    },
    // Running instances drop what they cached about clients, legacy token revocations included.
    announce: () => services.events.publish('clients'),
  };
}
