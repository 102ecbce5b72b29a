// zod schemas of the internal admin API (docs/admin-api.md): they validate requests (over HTTP
// and in the ops CLI, which parses its arguments with the same schemas) and generate the OpenAPI
// document of the admin port. Error messages are written for the panel: each names what is
// wrong with one field, and the route layer names every bad field at once.
import { z } from 'zod';
import { decodeCursor } from '../repositories/resellers-repository.js';
import { MAX_NETWORKS, parseNetworks } from '../security/networks.js';
import { CONTROL_CHARACTERS_FIELD, WITHOUT_CONTROL_CHARACTERS, hasControlCharacter } from './text.js';

/** The name of the bearer security scheme the admin routes declare in the OpenAPI document. */
export const ADMIN_SECURITY_SCHEME = 'adminToken';
export const adminSecurityScheme = {
  type: 'http',
  scheme: 'bearer',
  description: 'One of the comma-separated ADMIN_TOKENS (several are accepted at once so one can be rotated without downtime).',
} as const;

const text = (what = 'a string') => z.string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) });

/**
 * No field may hold a control character (schemas/text.ts): checked first, so that it is the
 * message the field gets; after trim() where a field is trimmed, so surrounding line breaks
 * of a paste are still dropped rather than refused.
 */
const noControlCharacters = z.regex(WITHOUT_CONTROL_CHARACTERS, CONTROL_CHARACTERS_FIELD);

export const resellerIdSchema = text()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"')
  .describe("The DBS's own id of the reseller")
  .meta({ example: '6' });

export const resellerParams = z.object({ resellerId: resellerIdSchema });

const name = text()
  .trim()
  .check(noControlCharacters)
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .describe('Nome: the name of the reseller API user (1 to 200 characters)')
  .meta({ example: 'meu nome aqui' });

const email = text()
  .trim()
  .toLowerCase()
  .check(noControlCharacters)
  .max(254, 'must be at most 254 characters')
  .check(z.email({ error: 'must be an e-mail address' }))
  .describe('E-mail: the username of the password grant; stored lower-cased, unique across resellers')
  .meta({ example: 'meu_nome@aqui.com.br' });

const password = text()
  .check(noControlCharacters)
  .min(8, 'must be at least 8 characters')
  .max(256, 'must be at most 256 characters')
  .describe(
    'Senha: at least 8 characters. Required when the access is first configured; absent = unchanged. ' +
      'A different password revokes every token the user holds; sending the current one again changes nothing.',
  )
  .meta({ example: 'minha-senha-secreta' });

const allowedIp = z
  .union(
    [text().max(8192, 'must be at most 8192 characters'), z.array(text().max(200, 'has an entry longer than 200 characters')).max(MAX_NETWORKS)],
    {
      error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string or an array of strings'),
    },
  )
  .transform((value, ctx) => {
    if ((typeof value === 'string' ? [value] : value).some(hasControlCharacter)) {
      ctx.addIssue({ code: 'custom', message: CONTROL_CHARACTERS_FIELD, input: value });
      return z.NEVER;
    }
    const parsed = parseNetworks(value);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.error, input: value });
      return z.NEVER;
    }
    return parsed.networks;
  })
  .describe(
    'IP Liberado: IPv4/IPv6 addresses or CIDR blocks the reseller may call /oauth/token from, as a comma-separated string or an array. ' +
      'A bare address is one host. Stored and returned normalised (10.0.0.7/24 → 10.0.0.0/24, 127.0.0.1 → 127.0.0.1/32, ::1 → ::1/128).',
  )
  .meta({ example: '192.168.123.0/24' });

// Strict: a field the API does not have is refused by name (admin/validation.ts), never dropped.
export const resellerApiBody = z
  .strictObject({ name, email, password: password.optional(), allowedIp })
  .describe('The fields of the panel\'s "Revendas → API" modal');

export type ResellerApiInput = z.output<typeof resellerApiBody>;

const timestamp = z.iso.datetime().meta({ example: '2026-01-01T12:00:00.000Z' });
const clientId = z.string().regex(/^\d+$/).describe('The OAuth client id, the decimal string of an integer').meta({ example: '19' });
const networks = z
  .array(z.string())
  .describe('Normalised CIDR blocks')
  .meta({ example: ['192.168.123.0/24'] });

const summaryFields = {
  resellerId: resellerIdSchema,
  name: z.string().meta({ example: 'meu nome aqui' }),
  email: z.string().meta({ example: 'meu_nome@aqui.com.br' }),
  allowedIp: networks,
  clientId,
};

const stateFields = {
  active: z.boolean().describe('false after DELETE (client and user disabled); the next PUT switches the access on again'),
  createdAt: timestamp,
  updatedAt: timestamp,
};

export const resellerSummary = z.object({ ...summaryFields, ...stateFields });

// Spelled out in the field order docs/admin-api.md shows (the serializer writes keys in schema order).
export const apiAccess = z
  .object({
    ...summaryFields,
    clientSecret: z
      .string()
      .nullable()
      .describe(
        'The 40-character [A-Za-z0-9] client secret, shown again as the panel does (stored AES-256-GCM encrypted). ' +
          'null when the client only has a bcrypt hash imported from Passport: such a secret cannot be shown, ' +
          'and secretRotationRequired is then true (POST …/api/secret issues a new one).',
      )
      .meta({ example: '5PfPsmuAA0li5yvrB24ux88x3XYyq0W7SfpKhgFZ' }),
    secretRotationRequired: z
      .literal(true)
      .optional()
      .describe('Present (true) only when clientSecret is null because the stored secret is an imported hash'),
    ...stateFields,
  })
  .describe("A reseller's API access: what the panel's modal shows");

export type ApiAccess = z.output<typeof apiAccess>;

export const resellerListQuery = z.object({
  cursor: z
    .string()
    .max(512, 'is not a cursor returned by this API')
    .check(noControlCharacters)
    .optional()
    // The panel asks for the first page as ?cursor=&limit= (docs/admin-api.md): an empty cursor is no cursor.
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || decodeCursor(v) !== null, 'is not a cursor returned by this API')
    .describe('Opaque: the nextCursor of the previous page; empty or absent for the first page'),
  limit: z.coerce
    .number({ error: 'must be an integer from 1 to 100' })
    .int('must be an integer from 1 to 100')
    .min(1, 'must be an integer from 1 to 100')
    .max(100, 'must be an integer from 1 to 100')
    .default(20)
    .describe('Page size, 1 to 100 (default 20)'),
});

export const resellerList = z
  .object({
    items: z.array(resellerSummary).describe('Newest createdAt first; no secrets'),
    nextCursor: z.string().nullable().describe('Pass as cursor to get the next page; null on the last page'),
  })
  .describe('One page of configured resellers');

export const resourceServerBody = z.strictObject({
  name: text()
    .trim()
    .check(noControlCharacters)
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .describe('What the resource server is, e.g. the DBS API')
    .meta({ example: 'DBS API' }),
});

export const resourceServerParams = z.object({
  id: z
    .string()
    .max(64)
    .check(noControlCharacters)
    .describe('The resource server id (a UUID)')
    .meta({ example: '3f1c2b9e-8a4d-4c57-9e21-6d0f5b7a1c33' }),
});

const resourceServerId = z.uuid().describe('The resource server id');

export const resourceServerCreated = z
  .object({
    id: resourceServerId,
    name: z.string(),
    clientId,
    clientSecret: z.string().describe('The 40-character secret for HTTP Basic at /oauth/introspect; shown only in this response'),
  })
  .describe('A registered resource server and its credentials');

export const resourceServerList = z
  .object({
    items: z.array(z.object({ id: resourceServerId, name: z.string(), clientId, createdAt: timestamp })).describe('Newest first; no secrets'),
  })
  .describe('Registered resource servers');

export const adminError = z
  .object({
    error: z.string().describe('validation_failed, conflict, not_found, unauthorized, service_unavailable, …'),
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional().describe('For validation_failed and conflict: what is wrong with each field'),
  })
  .describe('Admin API error');
