// `reseller-auth resource-server:list`: the registered resource servers, without secrets.
import type { Command } from '../command.js';

export const resourceServerList: Command = {
  name: 'resource-server:list',
  summary: 'List registered resource servers (without secrets)',
  positionals: [],
  async run(_input, context) {
    return (await context.admin()).resourceServers.list();
  },
};
