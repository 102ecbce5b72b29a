// Zod issues → the admin API's `fields` (docs/input-validation.md: a 400 naming every bad field), shared by the
// HTTP routes and the CLI so that both say the same thing about the same input.
import { z } from 'zod';
import { suggestions } from '../cli/suggest.js';
import { ValidationFailedError } from '../errors.js';
import { type IssueFacts, humanIssueMessage } from '../schemas/issues.js';

/**
 * zod 4's per-parse error map: the schemas' own messages stay; an issue that has none gets a
 * sentence about the field ("must be at most 64 characters") instead of zod's wording.
 */
export const parseForPeople = { error: (issue: z.core.$ZodRawIssue) => humanIssueMessage(issue as IssueFacts) };

/** The field names an object schema accepts: what an unknown field is compared with. */
export function fieldNames(schema: z.ZodType): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/**
 * A field the schema does not have is refused, not dropped (`allowed_ip` for `allowedIp` would
 * otherwise leave an admin believing an IP restriction was set): named, with the field it
 * probably meant, or the fields there are.
 */
function unknownField(name: string, known: readonly string[]): string {
  const [closest] = suggestions(name, known);
  if (closest !== undefined) return `is not a known field; did you mean "${closest}"?`;
  return known.length > 0 ? `is not a known field (the fields are ${known.join(', ')})` : 'is not a known field';
}

/** `allowedIp/3` is reported as `allowedIp`: the panel knows fields, not array positions. */
export function fieldsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  root: string,
  into: Record<string, string> = {},
  known: readonly string[] = [],
): Record<string, string> {
  for (const issue of issues) {
    const head = issue.path[0];
    if (issue.code === 'unrecognized_keys' && head === undefined) {
      for (const key of issue.keys) into[key] ??= unknownField(key, known);
      continue;
    }
    const field = head === undefined ? root : String(head);
    const message = head === undefined && issue.code === 'invalid_type' ? 'must be a JSON object' : issue.message;
    into[field] ??= message;
  }
  return into;
}

/** Parses or throws ValidationFailedError naming every bad field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, root = 'body'): z.output<S> {
  const result = schema.safeParse(value, parseForPeople);
  if (!result.success) throw new ValidationFailedError(fieldsFromIssues(result.error.issues, root, {}, fieldNames(schema)));
  return result.data;
}
