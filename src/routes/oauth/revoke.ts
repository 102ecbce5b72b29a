// POST /oauth/revoke (RFC 7009): the client that owns a token revokes it. 200 with an empty body
// whether the token was known, unknown, or another client's (§2.2), so the endpoint is no oracle.
// It checks a client secret, so it is limited like /oauth/token (RFC 6819 §5.1.4.2.3, docs/rate-limits.md):
// failed client authentications count per (client, address) and per address, malformed requests
// per address, and an address or client over its limit is refused with 429 before any secret work.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { claimedClientId, extractClientCredentials, parseClientId } from '../../oauth/client-credentials.js';
import { authenticateRevokingClient, revokeToken } from '../../oauth/revocation.js';
import { normaliseParameters, rejectQueryCredentials } from '../../oauth/token-request.js';
import { InvalidRequestError, toOAuthError } from '../../errors.js';
import { loggable } from '../../logger.js';
import { revokeOperation } from '../../openapi/revoke-operation.js';
import { LoginLimitError } from '../../security/login-limiter.js';

/** What a log line may carry of the client id a request names (logger.ts). */
const namesClient = (id: string) => parseClientId(id) !== null;

const revokeRoute: FastifyPluginAsyncZod = async (fastify) => {
  const { services } = fastify;
  const guard = services.loginGuard;
  const deps = { clients: services.clients, tokenStore: services.tokenStore, secretBox: services.secretBox, hasher: services.hasher };
  const onSecretUpgradeFailed = (err: unknown) =>
    fastify.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'imported client secret not sealed');

  fastify.post(
    '/oauth/revoke',
    {
      schema: {
        summary: 'Revoke an access or refresh token',
        description:
          'RFC 7009. Client authentication as on /oauth/token (body or HTTP Basic; the IP allow-list does not apply). ' +
          'Always 200 with an empty body for a token the client may revoke, an unknown token, or a token of another client ' +
          '(which stays valid). Revoking a refresh token also revokes the access token issued with it; revoking an access ' +
          'token leaves its refresh token usable. 503 when the token store cannot be reached: the token may still be valid, retry.',
        tags: ['oauth'],
        // The zod schemas of schemas/oauth.ts with their documentation: security, examples, each status.
        ...revokeOperation,
      },
      // An address over its limit is refused before its body is even parsed.
      onRequest: async (request) => guard.assertAddressAllowed(request.ip),
      // Every error of this route, body parsing and validation included, before the error handler
      // answers: the same accounting as /oauth/token.
      onError: async (request, _reply, error) => {
        const code = toOAuthError(error).error;
        const claimed = claimedClientId(request.headers.authorization, request.body);
        if (error instanceof LoginLimitError) {
          request.log.warn(
            { limit: error.limit, clientId: loggable(claimed, namesClient), ip: request.ip },
            'revocation refused: too many failed attempts',
          );
        }
        try {
          if (code === 'invalid_request') await guard.recordMalformed(request.ip);
          else if (code === 'invalid_client') await guard.recordClientFailure(claimed, request.ip);
        } catch (err) {
          // The token store is down: the answer is an error already; it stays the one the caller gets.
          request.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'failed-attempt counters unavailable');
        }
      },
    },
    async (request, reply) => {
      rejectQueryCredentials(request.query);
      const params = normaliseParameters(request.body);
      await guard.assertAddressAllowed(request.ip, claimedClientId(request.headers.authorization, request.body));
      const credentials = extractClientCredentials(request.headers.authorization, params);
      const clientId = await authenticateRevokingClient(deps, credentials, { ip: request.ip, loginGuard: guard, onSecretUpgradeFailed });
      request.clientId = clientId;
      // §2.1: `token` is REQUIRED; §2.2.1 invalid_request for a malformed request.
      if (params.token === undefined) throw new InvalidRequestError('Check the `token` parameter');
      const outcome = await revokeToken(deps, clientId, params.token, params.token_type_hint);
      request.log.info({ outcome }, 'revocation');
      return reply.code(200).send();
    },
  );
};

export default revokeRoute;
