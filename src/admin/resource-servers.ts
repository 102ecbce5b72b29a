// Resource servers (the DBS API) allowed to introspect (docs/admin-api.md, docs/resource-servers.md). Their clients have
// no grants, so /oauth/token refuses them whatever they send; their secret is shown only once.
import { NotFoundError } from '../errors.js';
import { generateClientSecret } from '../security/secret-box.js';
import type { Services } from '../services.js';
import { type Actor, audit } from './audit.js';
import { type ResourceServerView, toResourceServerView } from './views.js';

export type ResourceServersDeps = Pick<Services, 'resourceServers' | 'secretBox' | 'resourceServerCredentials' | 'log'>;

export interface RegisteredResourceServer {
  id: string;
  name: string;
  clientId: string;
  clientSecret: string;
}

export type ResourceServersAdmin = ReturnType<typeof createResourceServersAdmin>;

export function createResourceServersAdmin(deps: ResourceServersDeps) {
  const { resourceServers, secretBox, resourceServerCredentials: credentials, log } = deps;

  return {
    async register(name: string, actor: Actor): Promise<RegisteredResourceServer> {
      const clientSecret = generateClientSecret();
      const server = await resourceServers.create(name, secretBox.seal(clientSecret));
      // The introspection endpoint caches who may call it: every instance reloads at once.
      await credentials.announceAddition();
      audit(log, actor, 'resource-server.create', { resourceServerId: server.id, clientId: server.clientId }, ['name', 'clientSecret']);
      return { id: server.id, name: server.name, clientId: String(server.clientId), clientSecret };
    },

    async list(): Promise<{ items: ResourceServerView[] }> {
      return { items: (await resourceServers.list()).map(toResourceServerView) };
    },

    async remove(id: string, actor: Actor): Promise<ResourceServerView> {
      // docs/revocation.md "Resource servers": answered only once no instance accepts its
      // credentials any more, which takes up to RESOURCE_SERVERS_RELOAD_INTERVAL + 2 s.
      const server = await credentials.cutOff(() => resourceServers.remove(id));
      if (!server) throw new NotFoundError(`No resource server ${id}.`);
      audit(log, actor, 'resource-server.remove', { resourceServerId: server.id, clientId: server.clientId }, []);
      return toResourceServerView(server);
    },
  };
}
