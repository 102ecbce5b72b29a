// The import's dependencies over the service's own (the CLI and the tests build them the same way).
import type { Services } from '../services.js';
import type { ImportDeps } from './importer.js';

export function importDeps(services: Pick<Services, 'db' | 'secretBox' | 'tokenStore' | 'events'>): ImportDeps {
  return {
    prisma: services.db.prisma,
    secretBox: services.secretBox,
    // docs/revocation.md: a switched-off client, a new password or a new e-mail cuts the tokens off at once.
    // A user's tokens are its reseller's client's (one user per client): a cut-off of either is
    // the client's (token-store.ts).
    async revokeTokens({ clientIds, userIds }) {
      const usersClients = await services.db.prisma.reseller.findMany({ where: { user: { id: { in: userIds } } }, select: { clientId: true } });
      const all = new Set([...clientIds, ...usersClients.map((r) => r.clientId)]);
      await Promise.all([...all].map((id) => services.tokenStore.revokeClientTokens(String(id))));
    },
    // Running instances drop what they cached about clients, legacy token revocations included.
    announce: () => services.events.publish('clients'),
  };
}
