// zod's default wording → a sentence about the field (src/schemas/issues.ts), for the issues a
// schema without messages of its own raises. Two paths use it: zod's per-parse error map (the
// admin API and the CLI) and the finalised issue Fastify keeps (the /oauth/* hints).
import t from 'tap';
import { z } from 'zod';
import { parseForPeople } from '../../src/admin/validation.js';
import { type IssueFacts, expectationOf } from '../../src/schemas/issues.js';

const CASES: [string, z.ZodType, unknown, string][] = [
  ['a number for a string', z.string(), 5, 'must be a string'],
  ['an absent string', z.object({ a: z.string() }), {}, 'is required'],
  ['null for an object', z.object({}), null, 'must be a JSON object'],
  ['a string for an integer', z.number().int(), 'x', 'must be a number'],
  ['a fraction for an integer', z.number().int(), 1.5, 'must be an integer'],
  ['a union of string and number', z.union([z.string(), z.number()]), true, 'must be a string or a number'],
  ['a long string', z.string().max(64), 'x'.repeat(65), 'must be at most 64 characters'],
  ['an empty string', z.string().min(1), '', 'must not be empty'],
  ['a short string', z.string().min(8), 'short', 'must be at least 8 characters'],
  ['a long array', z.array(z.string()).max(1), ['a', 'b'], 'must be at most 1 entry'],
  ['zero for a positive number', z.number().positive(), 0, 'must be greater than 0'],
  ['a big number', z.number().max(100), 101, 'must be at most 100'],
  ['not an e-mail', z.email(), 'x', 'must be an e-mail address'],
  ['not a UUID', z.uuid(), 'x', 'must be a UUID'],
  ['not matching a pattern', z.string().regex(/^a+$/), 'b', 'is not in the expected format'],
  ['not one of an enum', z.enum(['password', 'refresh_token']), 'x', 'must be one of "password", "refresh_token"'],
  ['not a literal', z.literal('Bearer'), 'x', 'must be "Bearer"'],
  ['not a multiple', z.number().multipleOf(5), 7, 'must be a multiple of 5'],
];

t.test('the per-parse error map says what the field must be', async (t) => {
  for (const [what, schema, input, expected] of CASES) {
    const result = schema.safeParse(input, parseForPeople);
    t.equal(result.success, false, `${what}: refused`);
    t.equal(result.error?.issues[0]?.message, expected, what);
  }
});

t.test("a schema's own message is kept", async (t) => {
  const result = z.string().max(2, 'is too long for the panel').safeParse('abc', parseForPeople);
  t.equal(result.error?.issues[0]?.message, 'is too long for the panel');
});

t.test('a finalised issue (what Fastify keeps of it, without the input) says the same, but cannot tell "absent"', async (t) => {
  for (const [what, schema, input, expected] of CASES) {
    const issue = schema.safeParse(input).error?.issues[0] as IssueFacts | undefined;
    t.ok(issue, what);
    t.equal(expectationOf(issue ?? {}), expected === 'is required' ? 'must be a string' : expected, what);
  }
});
