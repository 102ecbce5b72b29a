// `reseller-auth reseller:configure <resellerId> …`: what the panel's Salvar does (PUT
// /admin/resellers/{resellerId}/api), printing the API-access object with the credentials.
// On an existing access, options left out keep their current value (the password too).
import { CLI_ACTOR } from '../../admin/index.js';
import { PASSWORD_REQUIRED } from '../../admin/reseller-access.js';
import { fieldsFromIssues } from '../../admin/validation.js';
import { ValidationFailedError } from '../../errors.js';
import { resellerApiBody } from '../../schemas/admin.js';
import { resellerIdArgument } from '../arguments.js';
import { type Command, RESELLER_ID, UsageError } from '../command.js';

export const resellerConfigure: Command = {
  name: 'reseller:configure',
  summary: "Create or update a reseller's API access and print it with its client id and secret",
  positionals: [RESELLER_ID],
  examples: [
    `echo "$PASSWORD" | reseller-auth reseller:configure 6 --name 'meu nome aqui' --email meu_nome@aqui.com.br --password-stdin --allowed-ip '203.0.113.7, 198.51.100.0/24'`,
    'reseller-auth reseller:configure 6 --allowed-ip 203.0.113.8   # change one field; the others keep their value',
    'reseller-auth reseller:configure 6   # switch a disabled access on again',
  ],
  // A password read from standard input is reported under the flag that was given.
  optionOf: (field, input) => (field === 'password' && input.values['password-stdin'] === true ? 'password-stdin' : undefined),
  options: {
    name: { type: 'string', placeholder: '<name>', description: 'Nome (required the first time)' },
    email: { type: 'string', placeholder: '<e-mail>', description: 'E-mail, the username of the password grant (required the first time)' },
    password: { type: 'string', placeholder: '<password>', description: 'Senha, at least 8 characters (visible to ps: prefer --password-stdin)' },
    'password-stdin': { type: 'boolean', description: 'Read the password from standard input (one line)' },
    'allowed-ip': {
      type: 'string',
      placeholder: '<list>',
      description: 'IP Liberado: comma-separated addresses or CIDR blocks (required the first time)',
    },
  },
  async run(input, context) {
    const resellerId = resellerIdArgument(input);
    const { values } = input;
    if (values.password !== undefined && values['password-stdin']) throw new UsageError('give either --password or --password-stdin, not both');
    // One line, as `echo "$PASSWORD" |` or a here-string sends it: the line break is not part of it.
    const password = values['password-stdin'] ? (await context.readStdin()).replace(/\r?\n$/, '') : values.password;
    // `echo "$PASSWORD" |` with PASSWORD unset sends an empty line.
    if (values['password-stdin'] && password === '') {
      throw new UsageError('--password-stdin: standard input is empty; is the variable you pipe in (echo "$PASSWORD" | …) set?');
    }
    const existing = await (await context.services()).resellers.find(resellerId);
    const parsed = resellerApiBody.safeParse({
      name: values.name ?? existing?.name,
      email: values.email ?? existing?.email,
      password,
      allowedIp: values['allowed-ip'] ?? existing?.allowedNetworks,
    });
    // Every bad option at once, the first-time password included (as the admin API does).
    const fields = parsed.success ? {} : fieldsFromIssues(parsed.error.issues, 'options');
    if (!existing && password === undefined) fields.password = PASSWORD_REQUIRED;
    if (!parsed.success || Object.keys(fields).length > 0) throw new ValidationFailedError(fields);
    const { access } = await (await context.admin()).resellers.configure(resellerId, parsed.data, CLI_ACTOR);
    return access;
  },
};
