// Resource servers (the DBS API) allowed to introspect (API.md "Admin API"). Their clients have
// no grants, so /oauth/token refuses them whatever they send; their secret is shown only once.
import { NotFoundError } from '../errors.js';
import { generateClientSecret } from '../security/secret-box.js';
import type { Services } from '../services.js';
import { type Actor, audit } from './audit.js';
import { type ResourceServerView, toResourceServerView } from './views.js';

export type ResourceServersDeps = Pick<Services, 'resourceServers' | 'secretBox' | 'events' | 'log'>;

export interface RegisteredResourceServer {
  id: string;
  name: string;
  clientId: string;
  clientSecret: string;
}

export type ResourceServersAdmin = ReturnType<typeof createResourceServersAdmin>;

export function createResourceServersAdmin(deps: ResourceServersDeps) {
  const { resourceServers, secretBox, events, log } = deps;

  // The introspection endpoint caches who may call it: tell every instance (see reseller-access.ts).
  const announce = () =>
    events.publish('resource-servers').catch((err: unknown) => log.warn({ err: (err as Error).message }, 'change event not published'));

  return {
    async register(name: string, actor: Actor): Promise<RegisteredResourceServer> {
      const clientSecret = generateClientSecret();
      const server = await resourceServers.create(name, secretBox.seal(clientSecret));
      await announce();
      audit(log, actor, 'resource-server.create', { resourceServerId: server.id, clientId: server.clientId }, ['name', 'clientSecret']);
      return { id: server.id, name: server.name, clientId: String(server.clientId), clientSecret };
    },

    async list(): Promise<{ items: ResourceServerView[] }> {
      return { items: (await resourceServers.list()).map(toResourceServerView) };
    },

    async remove(id: string, actor: Actor): Promise<ResourceServerView> {
      const server = await resourceServers.remove(id);
      if (!server) throw new NotFoundError(`No resource server ${id}.`);
      await announce();
      audit(log, actor, 'resource-server.remove', { resourceServerId: server.id, clientId: server.clientId }, []);
      return toResourceServerView(server);
    },
  };
}
