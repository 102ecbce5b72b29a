// fast-check arbitraries for hostile HTTP requests against a list of routes: the parameters of
// docs/resellers.md and docs/admin-api.md with values of every JSON type, strings that are empty, huge, binary or path-like,
// bodies that disagree with their content type, repeated form parameters, prototype-pollution
// keys, broken encodings, credentials that are right, wrong or malformed.
import fc from 'fast-check';

export interface Interesting {
  /** Path ids the storm may act on (never those of the state it must leave intact). */
  resellerIds: string[];
  resourceServerIds: string[];
  clientIds: string[];
  secrets: string[];
  usernames: string[];
  passwords: string[];
  tokens: string[];
  authorizations: string[];
}

export interface GeneratedRequest {
  listener: 'public' | 'admin';
  /** The collected route it was generated from: `listener METHOD url`. */
  route: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'HEAD';
  url: string;
  headers: Record<string, string>;
  payload: string | Buffer | undefined;
  remoteAddress: string;
}

/** encodeURIComponent that accepts lone surrogates too (as U+FFFD, which is what UTF-8 can carry). */
const encode = (s: string) => encodeURIComponent(Buffer.from(s, 'utf8').toString('utf8'));

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;

const ODD_STRINGS = [
  '',
  ' ',
  '*',
  '19',
  '0',
  '-1',
  '1e3',
  '2147483648',
  '00019',
  'null',
  'true',
  '__proto__',
  'constructor',
  '../../etc/passwd',
  '\u0000',
  '\uD800',
  'é',
  '192.168.123.456/32',
  '10.0.0.0/8, ::1, 2001:db8::/129',
  'x'.repeat(5000),
];

function text(known: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: known.length > 0 ? fc.constantFrom(...known) : fc.string(), weight: 3 },
    { arbitrary: fc.string({ maxLength: 40 }), weight: 3 },
    { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 1 },
    { arbitrary: fc.constantFrom(...ODD_STRINGS), weight: 2 },
  );
}

function value(known: string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: text(known), weight: 6 },
    { arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)), weight: 2 },
    { arbitrary: fc.array(text(known), { maxLength: 3 }), weight: 1 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  );
}

const PARAMETER_NAMES = [
  'grant_type',
  'client_id',
  'client_secret',
  'username',
  'password',
  'scope',
  'refresh_token',
  'token',
  'token_type_hint',
  'name',
  'email',
  'allowedIp',
  'active',
];

function body(i: Interesting): fc.Arbitrary<Record<string, unknown>> {
  const known = [...i.clientIds, ...i.secrets, ...i.usernames, ...i.passwords, ...i.tokens, 'password', 'refresh_token', 'client_credentials'];
  const name = fc.oneof({ arbitrary: fc.constantFrom(...PARAMETER_NAMES), weight: 8 }, { arbitrary: fc.string({ maxLength: 10 }), weight: 1 });
  return fc.dictionary(name, value(known), { maxKeys: 8 });
}

/** Form encoding as a browser would send it, arrays as repeated parameters (RFC 6749 §3.1 forbids them). */
function formEncode(params: Record<string, unknown>): string {
  const pairs: string[] = [];
  for (const [key, v] of Object.entries(params)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      pairs.push(`${encode(key)}=${encode(typeof item === 'string' ? item : (JSON.stringify(item) ?? ''))}`);
    }
  }
  return pairs.join('&');
}

const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=utf-16le',
  'application/x-www-form-urlencoded; charset=iso-8859-1',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/vnd.api+json',
  '*/*',
  ';;;',
];

const RAW_BODIES = [
  '{"__proto__":{"polluted":true},"grant_type":"password"}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"grant_type":"password","grant_type":"refresh_token"}',
  '{"grant_type":',
  '[]',
  '"password"',
  '1e999',
  `${'['.repeat(3000)}${']'.repeat(3000)}`,
  'grant_type=password&grant_type=refresh_token',
  'grant_type=%E0%A4%A&password=%',
  '__proto__[polluted]=1&constructor[prototype][polluted]=1',
  'a'.repeat(70 * 1024),
];

function payload(i: Interesting): fc.Arbitrary<string | Buffer | undefined> {
  return fc.oneof(
    { arbitrary: body(i).map((b) => JSON.stringify(b)), weight: 4 },
    { arbitrary: body(i).map(formEncode), weight: 4 },
    { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? ''), weight: 1 },
    { arbitrary: fc.constantFrom(...RAW_BODIES), weight: 2 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
}

function headers(i: Interesting): fc.Arbitrary<Record<string, string>> {
  const authorization = fc.oneof(
    { arbitrary: fc.constantFrom(...i.authorizations), weight: 4 },
    { arbitrary: fc.string({ maxLength: 30 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`), weight: 2 },
    { arbitrary: text(i.tokens).map((s) => `Bearer ${s}`), weight: 2 },
    { arbitrary: fc.constantFrom('Basic', 'Basic !!!', 'Bearer', 'Basic Og==', 'Digest x', `Basic ${'A'.repeat(6000)}`), weight: 1 },
  );
  const asciiHeaderValue = fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, ''));
  return fc
    .record(
      {
        'content-type': fc.constantFrom(...CONTENT_TYPES),
        authorization,
        origin: fc.constantFrom('https://evil.example', 'null'),
        'x-forwarded-for': fc.constantFrom('203.0.113.9', '127.0.0.1, 10.0.0.1', 'garbage'),
        accept: asciiHeaderValue,
        'x-random': asciiHeaderValue,
      },
      { requiredKeys: [] },
    )
    .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>);
}

function query(i: Interesting): fc.Arbitrary<string> {
  const key = fc.constantFrom('client_secret', 'token', 'password', 'cursor', 'limit', 'grant_type', 'x');
  return fc.oneof(
    { arbitrary: fc.constant(''), weight: 4 },
    { arbitrary: fc.dictionary(key, text([...i.secrets, '0', '101', '20']), { maxKeys: 3 }).map((q) => `?${new URLSearchParams(q)}`), weight: 2 },
    { arbitrary: fc.constantFrom('?%%%&&==', '?limit=1&limit=2', '?cursor=%E0%A4%A', `?x=${'y'.repeat(3000)}`), weight: 1 },
  );
}

/** A concrete path for a route pattern: every `:param` and `*` filled in, encoded or deliberately not. */
function path(pattern: string, i: Interesting): fc.Arbitrary<string> {
  const segments = pattern.split('/');
  const known = [...i.resellerIds, ...i.resourceServerIds];
  const filler = fc.oneof(
    { arbitrary: text(known).map(encode), weight: 5 },
    { arbitrary: fc.constantFrom('%', '%E0%A4%A', '%00', '..%2F..%2Fpackage.json', 'index.html', 'swagger-initializer.js'), weight: 1 },
  );
  return fc.tuple(...segments.map((segment) => (segment.startsWith(':') || segment === '*' ? filler : fc.constant(segment)))).map((s) => {
    // A root wildcard is registered as `*`, without the leading slash every request path has.
    const joined = s.join('/');
    return joined.startsWith('/') ? joined : `/${joined}`;
  });
}

export function requestArbitrary(
  routes: { listener: 'public' | 'admin'; method: string; url: string }[],
  interesting: () => Interesting,
): fc.Arbitrary<GeneratedRequest> {
  return fc.constantFrom(...routes).chain((route) => {
    const i = interesting();
    const method = fc.oneof(
      { arbitrary: fc.constant(route.method as GeneratedRequest['method']), weight: 6 },
      { arbitrary: fc.constantFrom(...METHODS), weight: 1 },
    );
    return fc
      .record({
        method,
        path: path(route.url, i),
        query: query(i),
        headers: headers(i),
        payload: payload(i),
        remoteAddress: fc.constantFrom('127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.1', '203.0.113.9', '2001:db8::1'),
      })
      .map(({ method, path, query, headers, payload, remoteAddress }) => ({
        listener: route.listener,
        route: `${route.listener} ${route.method} ${route.url}`,
        method,
        url: `${path}${query}`,
        headers,
        // HEAD and GET requests with a body are legal HTTP but rare; HEAD must not carry one.
        payload: method === 'HEAD' ? undefined : payload,
        remoteAddress,
      }));
  });
}
