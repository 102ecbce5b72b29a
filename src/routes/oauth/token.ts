// POST /oauth/token (RFC 6749 §4.3 password grant, §6 refresh), Passport-compatible (docs/resellers.md).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError, TemporarilyUnavailableError, toOAuthError } from '../../errors.js';
import { tokenRouteSchema } from '../../openapi/token-operation.js';
import { claimedClientId, parseClientId } from '../../oauth/client-credentials.js';
import { createTokenEndpoint } from '../../oauth/token-endpoint.js';
import { normaliseParameters, rejectQueryCredentials } from '../../oauth/token-request.js';
import { loggable } from '../../logger.js';
import { SUPPORTED_GRANTS } from '../../oauth/library-errors.js';
import { LoginLimitError } from '../../security/login-limiter.js';

/** Failed-login reasons for metrics and logs, by OAuth error code. */
const FAILURE_REASONS: Record<string, string | undefined> = {
  invalid_client: 'client',
  invalid_grant: 'credentials',
  unauthorized_client: 'network',
};

/** What a log line may carry of the client id and grant type a request names (logger.ts). */
const namesClient = (id: string) => parseClientId(id) !== null;
const supportedGrant = (grant: string) => SUPPORTED_GRANTS.includes(grant);

/** Longest a token request may take before it is answered 503 temporarily_unavailable. */
export const HANDLER_TIMEOUT_MS = 10_000;

/**
 * Answers 503 temporarily_unavailable once HANDLER_TIMEOUT_MS have passed since the request
 * arrived, whatever it is still waiting for (the rest of its body, a hashing thread), and closes
 * the connection with that answer (RFC 9112 §9.6): a body still arriving would otherwise stay
 * half-read on a keep-alive connection, and Node would answer that same request a second time
 * (408) when requestTimeout runs out. Fastify's own handlerTimeout is not used: it is cleared by
 * the request's 'close' event, which Node emits as soon as a body has been read
 * (fastify/fastify#6725), so a handler stuck after that was never answered on a real connection.
 */
function answerWhenTooSlow(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const timer = setTimeout(() => {
    if (reply.sent || reply.raw.headersSent) return;
    reply.header('connection', 'close');
    // An Error is answered through the route's onError hook and error handler (routes/oauth/index.ts).
    reply.send(new TemporarilyUnavailableError('authorization server'));
  }, HANDLER_TIMEOUT_MS);
  // The response's 'close': sent, or the connection gone. Either way nothing is left to answer.
  reply.raw.once('close', () => clearTimeout(timer));
  done();
}

/** The client a request names, before it authenticated. */
const claimedClient = (request: FastifyRequest) => claimedClientId(request.headers.authorization, request.body);

const tokenRoute: FastifyPluginAsyncZod = async (fastify) => {
  const { services } = fastify;
  const guard = services.loginGuard;
  const issueToken = createTokenEndpoint({
    clients: services.clients,
    users: services.users,
    tokenStore: services.tokenStore,
    hasher: services.hasher,
    secretBox: services.secretBox,
    scopes: services.config.scopes,
    accessTokenTtl: services.config.accessTokenTtl,
    refreshTokenTtl: services.config.refreshTokenTtl,
    loginGuard: services.loginGuard,
    legacyRefreshTokens: services.passport?.refreshTokens,
    onPasswordRehashFailed: (err) => fastify.log.warn({ err }, 'password re-hash failed'),
  });

  fastify.post(
    '/oauth/token',
    {
      // The zod schemas of schemas/oauth.ts, with docs/resellers.md's documentation around them.
      schema: tokenRouteSchema,
      // No request may hang: every dependency call has its own timeout, but a body may arrive
      // slowly, and a password grant may queue for the bounded argon2 pool (HASH_CONCURRENCY)
      // behind a storm. Then, RFC 6749 §4.3.2 brute-force protection: an address over its limit
      // is refused before its body is even parsed.
      onRequest: [answerWhenTooSlow, async (request) => guard.assertAddressAllowed(request.ip)],
      // Runs for every error of this route (body parsing and validation included), before the
      // error handler answers: malformed requests count against the address, failed client
      // authentications against the address and the client at it (docs/rate-limits.md).
      onError: async (request, _reply, error) => {
        const code = toOAuthError(error).error;
        if (error instanceof LoginLimitError) {
          request.log.warn(
            { limit: error.limit, clientId: loggable(claimedClient(request), namesClient), ip: request.ip },
            'token request refused: too many failed attempts',
          );
        }
        try {
          if (code === 'invalid_request') await guard.recordMalformed(request.ip);
          else if (code === 'invalid_client') await guard.recordClientFailure(claimedClient(request), request.ip);
        } catch (err) {
          // The token store is down: the answer is an error already; it stays the one the caller gets.
          request.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'failed-attempt counters unavailable');
        }
      },
    },
    async (request, reply) => {
      rejectQueryCredentials(request.query);
      const params = normaliseParameters(request.body);
      const clientId = claimedClient(request);
      // The client's generation is read in the same round trip as the address check (ioredis
      // sends commands of one tick in one write); getClient uses it if that client authenticates.
      const generation =
        clientId !== undefined && parseClientId(clientId) !== null ? { clientId, value: services.tokenStore.clientGeneration(clientId) } : undefined;
      generation?.value.catch(() => {}); // a failure is the check's or getClient's to report
      await guard.assertAddressAllowed(request.ip, clientId);
      try {
        const { response, grantType, saved } = await issueToken({
          params,
          authorization: request.headers.authorization,
          context: { ip: request.ip, generation },
        });
        services.metrics.tokensIssued.inc({ grant: grantType });
        // The request's one log line names the client (request-observer.ts).
        request.clientId = String(saved.client.id);
        return reply.send(response);
      } catch (err) {
        const reason = err instanceof OAuthError ? FAILURE_REASONS[err.error] : undefined;
        // Wrong user credentials or a refused network: the client itself authenticated.
        if (reason === 'credentials' || reason === 'network') request.clientId = loggable(claimedClient(request), namesClient) ?? null;
        if (reason) {
          services.metrics.failedLogins.inc({ reason: reason === 'credentials' && params.grant_type === 'refresh_token' ? 'refresh' : reason });
          // Never the password or secret: the redacting logger would hide them, but they are not even passed.
          request.log.info(
            {
              reason,
              grantType: loggable(params.grant_type, supportedGrant),
              clientId: loggable(claimedClient(request), namesClient),
              ip: request.ip,
            },
            'token request refused',
          );
        }
        throw err;
      }
    },
  );
};

export default tokenRoute;
