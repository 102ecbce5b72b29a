// POST /oauth/token (RFC 6749 §4.3 password grant, §6 refresh), Passport-compatible (API.md).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { oauthErrorResponse, tokenRequestBody, tokenResponse } from '../../schemas/oauth.js';
import { createTokenEndpoint } from '../../oauth/token-endpoint.js';
import { normaliseParameters, rejectQueryCredentials } from '../../oauth/token-request.js';

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
      const { response, grantType } = await issueToken({
        params,
        authorization: request.headers.authorization,
        context: {
          ip: request.ip,
          onLoginFailure: (reason) => request.log.info({ reason, clientId: params.client_id }, 'password grant failed'),
        },
      });
      request.log.info({ grantType, clientId: params.client_id }, 'token issued');
      return reply.send(response);
    },
  );
};

export default tokenRoute;
