// `reseller-auth resource-server:remove <id>`: the resource server can no longer introspect.
import { CLI_ACTOR } from '../../admin/index.js';
import type { Command } from '../command.js';

export const resourceServerRemove: Command = {
  name: 'resource-server:remove',
  summary: 'Remove a resource server: it can no longer call /oauth/introspect',
  positionals: ['id'],
  async run(input, context) {
    return (await context.admin()).resourceServers.remove(input.positionals.id ?? '', CLI_ACTOR);
  },
};
