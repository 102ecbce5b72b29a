// `reseller-auth resource-server:remove <id>`: the resource server can no longer introspect.
// It takes what an operator has at hand: the client id (printed by create, used in the Basic
// credentials) or the id (UUID) the admin API uses.
import { CLI_ACTOR } from '../../admin/index.js';
import { NotFoundError } from '../../errors.js';
import type { Command } from '../command.js';

export const resourceServerRemove: Command = {
  name: 'resource-server:remove',
  summary: 'Remove a resource server: it can no longer call /oauth/introspect',
  positionals: [{ name: 'id', description: 'its client id (e.g. 3) or its id (the UUID resource-server:list shows)' }],
  examples: ['reseller-auth resource-server:remove 3', 'reseller-auth resource-server:remove 0b9e2c1a-6f0e-4d43-9d7b-1c2f3a4b5c6d'],
  async run(input, context) {
    const given = input.positionals.id?.trim() ?? '';
    const admin = await context.admin();
    const { items } = await admin.resourceServers.list();
    const server = items.find((s) => s.id === given.toLowerCase() || s.clientId === given);
    if (!server) throw new NotFoundError(`No resource server has the client id or id "${given}" (reseller-auth resource-server:list shows them).`);
    return admin.resourceServers.remove(server.id, CLI_ACTOR);
  },
};
