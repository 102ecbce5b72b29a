// `reseller-auth reseller:disable <resellerId>`: switches the access off (DELETE …/api), then
// prints the API-access object as reseller:show prints it (GET …/api), `"active": false`: every
// reseller command prints the same shape.
import { CLI_ACTOR } from '../../admin/index.js';
import { resellerIdArgument } from '../arguments.js';
import { type Command, RESELLER_ID } from '../command.js';

export const resellerDisable: Command = {
  name: 'reseller:disable',
  summary: 'Disable the client and user and revoke every token they hold; reseller:configure switches it on again',
  positionals: [RESELLER_ID],
  examples: ['reseller-auth reseller:disable 6', 'reseller-auth reseller:configure 6   # on again, same client id and secret'],
  async run(input, context) {
    // Validated before anything is opened: bad input touches no database.
    const resellerId = resellerIdArgument(input);
    const admin = await context.admin();
    await admin.resellers.disable(resellerId, CLI_ACTOR);
    return admin.resellers.show(resellerId);
  },
};
