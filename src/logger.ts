// pino options shared by every listener. Passwords, secrets and tokens never reach a log line:
// known fields are redacted wherever they appear, and request URLs are logged without their
// query string values (credentials sent there are refused, but the refusal must not log them).
import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';

const SENSITIVE = ['password', 'client_secret', 'clientSecret', 'token', 'refresh_token', 'access_token', 'authorization', 'secret', 'passwordHash'];

export const redactPaths = [
  ...SENSITIVE,
  ...SENSITIVE.map((key) => `*.${key}`),
  ...SENSITIVE.map((key) => `*.*.${key}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

/** `/oauth/token?client_secret=abc` → `/oauth/token?client_secret=[Redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => `${pair.split('=')[0]}=[Redacted]`)
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

/**
 * A value the caller chose, as a log line may carry it: only when it is valid for its field (a
 * client id that can name a client, a supported grant type), else `"[Malformed]"`. Any other text
 * may be a secret sent in the wrong field — a token as `grant_type`, a secret as `client_id` —
 * and redaction by field name would not catch it there.
 */
export function loggable(value: string | undefined, valid: (text: string) => boolean): string | undefined {
  if (value === undefined || value === '') return undefined;
  return valid(value) ? value : '[Malformed]';
}

/** The process's root logger; each listener logs through a child of it. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: redactPaths, censor: '[Redacted]' },
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: stdSerializers.err,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
