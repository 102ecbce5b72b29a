// `reseller-auth reseller:show <resellerId>`: the API-access object with its credentials.
import { resellerIdArgument } from '../arguments.js';
import { type Command, RESELLER_ID } from '../command.js';

export const resellerShow: Command = {
  name: 'reseller:show',
  summary: "Print a reseller's API access with its client id and secret",
  positionals: [RESELLER_ID],
  examples: ['reseller-auth reseller:show 6', 'reseller-auth reseller:show 6 --output json | jq -r .clientSecret'],
  async run(input, context) {
    // Validated before anything is opened: bad input touches no database.
    const resellerId = resellerIdArgument(input);
    return (await context.admin()).resellers.show(resellerId);
  },
};
