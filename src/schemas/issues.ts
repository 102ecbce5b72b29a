// zod's own messages ("Invalid input", "Too big: expected string to have <=64 characters") are
// written for developers of the schema, not for the reseller or the panel that sent the request.
// These functions say the same thing in a sentence about the field: what it must be. A schema's
// own message (schemas/admin.ts, schemas/text.ts) is already such a sentence and is kept.
// docs/input-validation.md lists what each surface answers.

/** What this file reads of a zod issue: a finalised one, or the `params` Fastify keeps of it. */
export interface IssueFacts {
  code?: string;
  expected?: string;
  origin?: string;
  format?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  divisor?: number | bigint;
  values?: readonly unknown[];
  keys?: readonly string[];
  errors?: readonly (readonly IssueFacts[])[];
  input?: unknown;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  bigint: 'an integer',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'an array',
  null: 'null',
};

const FORMAT_NAMES: Record<string, string> = {
  email: 'an e-mail address',
  uuid: 'a UUID',
  guid: 'a UUID',
  url: 'a URL',
  datetime: 'an ISO 8601 date and time',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  cidrv4: 'an IPv4 CIDR block',
  cidrv6: 'an IPv6 CIDR block',
};

const typeName = (expected: string | undefined) => TYPE_NAMES[expected ?? ''] ?? `of type ${expected ?? 'unknown'}`;

/** The unit a size limit counts, singular and plural. */
function units(origin: string | undefined): [string, string] {
  if (origin === 'string') return ['character', 'characters'];
  if (origin === 'array' || origin === 'set') return ['entry', 'entries'];
  return ['item', 'items'];
}

function bound(issue: IssueFacts, limit: number | bigint, direction: 'most' | 'least'): string {
  if (issue.origin === 'number' || issue.origin === 'bigint' || issue.origin === 'int') {
    if (issue.inclusive === false) return direction === 'most' ? `less than ${limit}` : `greater than ${limit}`;
    return `at ${direction} ${limit}`;
  }
  const [one, many] = units(issue.origin);
  return `at ${direction} ${limit} ${Number(limit) === 1 ? one : many}`;
}

/** What a union's branches accept, from the first issue of each: "a string or a number". */
function alternatives(branches: readonly (readonly IssueFacts[])[]): string {
  const names = branches.map((issues) => {
    const first = issues[0];
    return first?.code === 'invalid_type' ? typeName(first.expected) : first ? expectationOf(first).replace(/^must be /, '') : 'something else';
  });
  return [...new Set(names)].join(' or ');
}

/**
 * The field's requirement, "must be a string", "must be at most 64 characters", "is required":
 * a predicate that follows the field's name (`client_id` must be …) or a "Check …: it" hint.
 */
export function expectationOf(issue: IssueFacts): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected !== 'undefined' && 'input' in issue && issue.input === undefined) return 'is required';
      return `must be ${typeName(issue.expected)}`;
    case 'invalid_union':
      return issue.errors && issue.errors.length > 0 ? `must be ${alternatives(issue.errors)}` : 'is not a value this field accepts';
    case 'too_big':
      return `must be ${bound(issue, issue.maximum ?? 0, 'most')}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      return `must be ${bound(issue, issue.minimum ?? 0, 'least')}`;
    case 'invalid_format':
      return FORMAT_NAMES[issue.format ?? ''] ? `must be ${FORMAT_NAMES[issue.format ?? '']}` : 'is not in the expected format';
    case 'invalid_value': {
      const values = (issue.values ?? []).map((v) => JSON.stringify(v));
      return values.length === 1 ? `must be ${values[0]}` : `must be one of ${values.join(', ')}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      return 'is not a value this field accepts';
  }
}

/**
 * A per-parse zod error map (zod 4: `schema.safeParse(value, { error })`). zod asks it only for
 * issues whose schema gave no message of its own, so the schemas' sentences are kept.
 */
export const humanIssueMessage = (issue: IssueFacts): string => expectationOf(issue);
