// `reseller-auth resource-server:list`: the registered resource servers, without secrets.
import type { Command } from '../command.js';

export const resourceServerList: Command = {
  name: 'resource-server:list',
  summary: 'List registered resource servers (without secrets)',
  positionals: [],
  examples: ['reseller-auth resource-server:list', "reseller-auth resource-server:list -o json | jq -r '.items[].clientId'"],
  async run(_input, context) {
    return (await context.admin()).resourceServers.list();
  },
};
