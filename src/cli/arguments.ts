// Positional arguments checked with the same schemas as the admin API's paths and bodies.
import { validate } from '../admin/validation.js';
import { resellerParams } from '../schemas/admin.js';
import type { CommandInput } from './command.js';

export function resellerIdArgument(input: CommandInput): string {
  return validate(resellerParams, { resellerId: input.positionals.resellerId }, 'resellerId').resellerId;
}
