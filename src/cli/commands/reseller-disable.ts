// `reseller-auth reseller:disable <resellerId>`: switches the access off (DELETE …/api).
import { CLI_ACTOR } from '../../admin/index.js';
import { resellerIdArgument } from '../arguments.js';
import type { Command } from '../command.js';

export const resellerDisable: Command = {
  name: 'reseller:disable',
  summary: 'Disable the client and user and revoke every token they hold; reseller:configure switches it on again',
  positionals: ['resellerId'],
  async run(input, context) {
    // Validated before anything is opened: bad input touches no database.
    const resellerId = resellerIdArgument(input);
    return (await context.admin()).resellers.disable(resellerId, CLI_ACTOR);
  },
};
