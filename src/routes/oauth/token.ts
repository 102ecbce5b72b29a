// POST /oauth/token (RFC 6749 §4.3 password grant, §6 refresh), Passport-compatible (API.md).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { OAuthError } from '../../errors.js';
import { oauthErrorResponse, tokenRequestBody, tokenResponse } from '../../schemas/oauth.js';
import { createTokenEndpoint } from '../../oauth/token-endpoint.js';
import { normaliseParameters, rejectQueryCredentials } from '../../oauth/token-request.js';

/** Failed-login reasons for metrics and logs, by OAuth error code. */
const FAILURE_REASONS: Record<string, string | undefined> = {
  invalid_client: 'client',
  invalid_grant: 'credentials',
  unauthorized_client: 'network',
};

const tokenRoute: FastifyPluginAsyncZod = async (fastify) => {
  const { services } = fastify;
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
    onPasswordRehashFailed: (err) => fastify.log.warn({ err }, 'password re-hash failed'),
  });

  fastify.post(
    '/oauth/token',
    {
      schema: {
        summary: 'Obtain or refresh an access token',
        tags: ['oauth'],
        body: tokenRequestBody,
        response: { 200: tokenResponse, '4xx': oauthErrorResponse, '5xx': oauthErrorResponse },
      },
    },
    async (request, reply) => {
      rejectQueryCredentials(request.query);
      const params = normaliseParameters(request.body);
      try {
        const { response, grantType } = await issueToken({ params, authorization: request.headers.authorization, context: { ip: request.ip } });
        services.metrics.tokensIssued.inc({ grant: grantType });
        request.log.info({ grantType, clientId: params.client_id }, 'token issued');
        return reply.send(response);
      } catch (err) {
        const reason = err instanceof OAuthError ? FAILURE_REASONS[err.error] : undefined;
        if (reason) {
          services.metrics.failedLogins.inc({ reason: reason === 'credentials' && params.grant_type === 'refresh_token' ? 'refresh' : reason });
          // Never the password or secret: the redacting logger would hide them, but they are not even passed.
          request.log.info({ reason, grantType: params.grant_type, clientId: params.client_id, ip: request.ip }, 'token request refused');
        }
        throw err;
      }
    },
  );
};

export default tokenRoute;
