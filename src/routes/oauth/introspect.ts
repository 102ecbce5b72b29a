// POST /oauth/introspect (RFC 7662), the platform's hot path: every request the DBS API serves
// asks it. Registered resource servers only, by HTTP Basic, checked against the in-process
// credential cache; one token-store round trip; no PostgreSQL, no slow hash.
//
// What profiling (bench/introspect, node --cpu-prof) found standing between this route and the
// stack's ceiling, and what replaced it (bench/README.md has the measured costs):
// - helmet's middleware rebuilt on every request, and every hook: this route's headers (the
//   OWASP REST set and no-store) are one constant set by the handler and the error handler;
// - a child logger per request (pino bindings and redaction): one logger for the route, at
//   `warn` (the two request lines at `info` would be the busiest lines of every log);
// - zod validation of the body: checked by hand in readToken (the schema documents it);
// - the zod response serializer: a hand-written one, run once per stored record (oauth/introspection.ts);
// - parsing and hashing the same Basic header on every request of a keep-alive connection:
//   recognised in constant time until the credentials change (credential-cache.ts);
// - prom-client label hashing per request: plain counters read at scrape time (metrics.ts);
// - the latency histogram's onResponse hook: recorded where Fastify already reports each finished
//   response to its log controller (request-observer.ts);
// - CORS: not registered around this route; a browser never holds a resource server's secret.
import type { FastifyPluginAsync, FastifySchemaCompiler } from 'fastify';
import { BODY_SHAPE_HINT, DependencyUnavailableError, InvalidClientError, InvalidRequestError } from '../../errors.js';
import { type IntrospectionAnswer, createIntrospection } from '../../oauth/introspection.js';
import { NO_STORE_HEADERS } from '../../oauth/response-headers.js';
import { rejectQueryCredentials } from '../../oauth/token-request.js';
import { introspectOperation } from '../../openapi/introspect-operation.js';
import { controlCharactersHint, hasControlCharacter } from '../../schemas/text.js';

/** The handler validates the body itself (readToken); the schema is there for the OpenAPI document. */
const documentedOnly: FastifySchemaCompiler<unknown> = () => () => true;

/**
 * The OWASP REST Security Cheat Sheet's headers for a JSON answer (no-store comes with every
 * /oauth/* answer): nothing may run, frame or sniff it, and HTTPS is sticky. Helmet's others
 * concern HTML documents and cross-origin embedding (frame-ancestors supersedes X-Frame-Options).
 */
const API_SECURITY_HEADERS = Object.freeze({
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
});

/** Set by the handler itself: no hook runs for this route. */
const ANSWER_HEADERS = Object.freeze({ ...API_SECURITY_HEADERS, ...NO_STORE_HEADERS });

/** RFC 7662 §2.1 parameters, JSON or form; RFC 6749 §3.1/§3.2 rules as on /oauth/token. */
function readToken(body: unknown): string {
  if (body === undefined || body === null) throw new InvalidRequestError('Check the `token` parameter');
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequestError(BODY_SHAPE_HINT);
  const { token, token_type_hint: hint, client_secret: secret } = body as Record<string, unknown>;
  if (secret !== undefined && secret !== '') {
    // RFC 6749 §2.3: one authentication method per request; resource servers use Basic only.
    throw new InvalidRequestError('Send the client credentials with HTTP Basic only, not in the body');
  }
  if (hint !== undefined && typeof hint !== 'string') throw new InvalidRequestError('Check the `token_type_hint` parameter: it must be a string');
  // The rule of every string parameter (schemas/text.ts), applied by hand as the schema's is not run.
  if (hint !== undefined && hasControlCharacter(hint)) throw new InvalidRequestError(controlCharactersHint('token_type_hint'));
  if (typeof token === 'string' && token !== '') {
    if (hasControlCharacter(token)) throw new InvalidRequestError(controlCharactersHint('token'));
    return token;
  }
  if (Array.isArray(token)) throw new InvalidRequestError('Check the `token` parameter: it is given more than once');
  if (token === undefined || token === null || token === '') throw new InvalidRequestError('Check the `token` parameter');
  throw new InvalidRequestError('Check the `token` parameter: it must be a string');
}

const introspectRoute: FastifyPluginAsync = async (fastify) => {
  const { services } = fastify;
  // One logger for every request of this route (encapsulated: other routes keep theirs). Its
  // warn and error lines carry the route instead of a request id.
  const routeLog = fastify.log.child({ route: '/oauth/introspect' }, { level: 'warn' });
  fastify.setChildLoggerFactory(() => routeLog);
  const credentials = services.resourceServerCredentials;
  const introspection = createIntrospection({
    tokenStore: services.tokenStore,
    issuer: services.config.issuer,
    legacy: services.passport?.accessTokens,
  });
  // Plain numbers, handed to prom-client at scrape time (metrics.ts).
  const counted = services.metrics.introspectionResults;

  fastify.post(
    '/oauth/introspect',
    {
      logLevel: 'warn',
      // Set by the handler and the error handler, not by a hook (plugins/external/helmet.ts).
      config: { securityHeaders: API_SECURITY_HEADERS },
      schema: {
        summary: 'Introspect a token (resource servers only)',
        description:
          'RFC 7662. HTTP Basic with a resource server’s client id and secret (see /admin/resource-servers); anything else is 401 ' +
          '`invalid_client`. Every inactive case — unknown, malformed, expired, revoked, a refresh token, a token of a disabled ' +
          'client or user — is `{"active":false}` and nothing else. 503 when the token store cannot be reached: ask again, the ' +
          'token is not known to be inactive. 503 too when this instance could not confirm within ' +
          'RESOURCE_SERVERS_RELOAD_INTERVAL + 2 s that its resource-server credentials are current (docs/revocation.md).',
        tags: ['oauth'],
        // The zod schemas of schemas/oauth.ts with their documentation: security, examples, each status.
        ...introspectOperation,
      },
      validatorCompiler: documentedOnly,
      serializerCompiler: ({ httpStatus }) => (httpStatus === '200' ? (a: IntrospectionAnswer) => introspection.serialize(a) : JSON.stringify),
    },
    async (request, reply) => {
      // Errors get the same headers from the error handler (routes/oauth/index.ts).
      reply.headers(ANSWER_HEADERS);
      // RFC 7662 §2.1: the endpoint MUST require authorization; §2.3: 401 for bad credentials.
      // 503 when the credential cache could not be proved current (credential-cache.ts): a removed
      // resource server is never let in from a stale cache.
      let authenticated: boolean | Promise<boolean>;
      try {
        authenticated = credentials.verifyAuthorization(request.headers.authorization, request.raw.socket);
        if (typeof authenticated !== 'boolean') authenticated = await authenticated;
      } catch (err) {
        counted.unavailable++;
        throw err;
      }
      if (!authenticated) {
        counted.unauthorized++;
        throw new InvalidClientError(true);
      }
      rejectQueryCredentials(request.query);
      const token = readToken(request.body);
      let answer: IntrospectionAnswer;
      try {
        answer = await introspection.introspect(token);
      } catch (err) {
        if (err instanceof DependencyUnavailableError) counted.unavailable++;
        throw err;
      }
      if (answer.active) counted.active++;
      else counted.inactive++;
      return answer;
    },
  );
};

export default introspectRoute;
