// `reseller-auth resource-server:create <name>`: registers a resource server allowed to introspect.
import { CLI_ACTOR } from '../../admin/index.js';
import { validate } from '../../admin/validation.js';
import { resourceServerBody } from '../../schemas/admin.js';
import type { Command } from '../command.js';

export const resourceServerCreate: Command = {
  name: 'resource-server:create',
  summary: 'Register a resource server allowed to call /oauth/introspect; prints its client id and secret (shown only once)',
  positionals: ['name'],
  async run(input, context) {
    const { name } = validate(resourceServerBody, { name: input.positionals.name });
    return (await context.admin()).resourceServers.register(name, CLI_ACTOR);
  },
};
