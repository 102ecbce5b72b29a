// Zod issues → the admin API's `fields` (API.md: a 400 naming every bad field), shared by the
// HTTP routes and the CLI so that both say the same thing about the same input.
import type { z } from 'zod';
import { ValidationFailedError } from '../errors.js';

/** `allowedIp/3` is reported as `allowedIp`: the panel knows fields, not array positions. */
export function fieldsFromIssues(issues: readonly z.core.$ZodIssue[], root: string, into: Record<string, string> = {}): Record<string, string> {
  for (const issue of issues) {
    const head = issue.path[0];
    const field = head === undefined ? root : String(head);
    const message = head === undefined && issue.code === 'invalid_type' ? 'must be a JSON object' : issue.message;
    into[field] ??= message;
  }
  return into;
}

/** Parses or throws ValidationFailedError naming every bad field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, root = 'body'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationFailedError(fieldsFromIssues(result.error.issues, root));
  return result.data;
}
