// `reseller-auth resource-server:create <name>`: registers a resource server allowed to introspect.
import { CLI_ACTOR } from '../../admin/index.js';
import { validate } from '../../admin/validation.js';
import { resourceServerBody } from '../../schemas/admin.js';
import type { Command } from '../command.js';

export const resourceServerCreate: Command = {
  name: 'resource-server:create',
  summary: 'Register a resource server allowed to call /oauth/introspect; prints its client id and secret (shown only once)',
  positionals: [{ name: 'name', description: 'a name to recognise it by, e.g. "DBS API"' }],
  examples: ["reseller-auth resource-server:create 'DBS API'", "reseller-auth resource-server:create 'DBS API' -o json > dbs-api-credentials.json"],
  async run(input, context) {
    const { name } = validate(resourceServerBody, { name: input.positionals.name });
    const admin = await context.admin();
    // Names need not be unique (the client id is what identifies it), but a second "DBS API" is
    // more often a re-run than a wish: say so, and how to remove the one that is not used.
    const namesake = (await admin.resourceServers.list()).items.filter((s) => s.name.toLowerCase() === name.toLowerCase());
    const registered = await admin.resourceServers.register(name, CLI_ACTOR);
    if (namesake.length > 0) {
      const ids = namesake.map((s) => s.clientId).join(', ');
      context.warn(
        `a resource server named "${namesake[0]?.name}" already exists (client id ${ids}); this one has client id ${registered.clientId}. Remove the one no longer used with: reseller-auth resource-server:remove <clientId>`,
      );
    }
    return registered;
  },
};
