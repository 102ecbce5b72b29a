// `reseller-auth reseller:rotate-secret <resellerId>`: a new client secret; the old one fails at once.
import { CLI_ACTOR } from '../../admin/index.js';
import { resellerIdArgument } from '../arguments.js';
import { type Command, RESELLER_ID } from '../command.js';

export const resellerRotateSecret: Command = {
  name: 'reseller:rotate-secret',
  summary: 'Issue a new client secret (the old one stops working at once) and print the API access',
  positionals: [RESELLER_ID],
  examples: ['reseller-auth reseller:rotate-secret 6'],
  async run(input, context) {
    // Validated before anything is opened: bad input touches no database.
    const resellerId = resellerIdArgument(input);
    return (await context.admin()).resellers.rotateSecret(resellerId, CLI_ACTOR);
  },
};
