// Control characters in text input: the C0 controls (U+0000–U+001F: NUL, tab, line breaks,
// escape…) and DEL (U+007F). No parameter of the public or the admin API has a use for them — an
// e-mail (RFC 5321 §4.1.2), a scope token (RFC 6749 §3.3), a token (RFC 6750 §2.1) and a client
// id never contain one, and a password or a name with a tab or a line break in it is a paste
// accident that no login form could reproduce — while a NUL is refused by PostgreSQL in any text
// column. One rule for every string the service accepts (docs/input-validation.md), checked by
// the zod schemas before anything reads or writes storage.

/** Matches a text that holds no control character. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this expression's purpose.
export const WITHOUT_CONTROL_CHARACTERS = /^[^\u0000-\u001F\u007F]*$/;

export const hasControlCharacter = (value: string): boolean => !WITHOUT_CONTROL_CHARACTERS.test(value);

/**
 * True when a text holds no control character once its surrounding whitespace is trimmed: for the
 * token request's parameters, which Laravel's TrimStrings middleware trimmed before Passport saw
 * them (oauth/token-request.ts trims them the same way). String.prototype.trim, not a regular
 * expression: linear in the length whatever the text.
 */
export const withoutInnerControlCharacters = (value: string): boolean => WITHOUT_CONTROL_CHARACTERS.test(value.trim());

/** The admin API's `fields` message (ValidationFailedError). */
export const CONTROL_CHARACTERS_FIELD = 'must not contain control characters';

/** The /oauth/* schemas' message; the hint puts `Check the \`name\` parameter: ` before it. */
export const CONTROL_CHARACTERS_PARAMETER = `it ${CONTROL_CHARACTERS_FIELD}`;

/** The hint of the 400 invalid_request for a control character in the parameter `name`. */
export const controlCharactersHint = (name: string): string => `Check the \`${name}\` parameter: ${CONTROL_CHARACTERS_PARAMETER}`;

/**
 * The parameter a Fastify/zod validation error refused for a control character, if that is what
 * it refused (the issue's message is the one this file gives the public schemas).
 */
export function parameterWithControlCharacter(validation: readonly { instancePath?: string; message?: string }[]): string | null {
  const issue = validation.find((i) => i.message === CONTROL_CHARACTERS_PARAMETER);
  return issue ? ((issue.instancePath ?? '').split('/').filter(Boolean)[0] ?? null) : null;
}
