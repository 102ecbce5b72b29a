// POST /oauth/revoke (RFC 7009): the client that owns a token revokes it. 200 with an empty body
// whether the token was known, unknown, or another client's (§2.2), so the endpoint is no oracle.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { extractClientCredentials } from '../../oauth/client-credentials.js';
import { authenticateRevokingClient, revokeToken } from '../../oauth/revocation.js';
import { normaliseParameters, rejectQueryCredentials } from '../../oauth/token-request.js';
import { InvalidRequestError } from '../../errors.js';
import { revokeOperation } from '../../openapi/revoke-operation.js';

const revokeRoute: FastifyPluginAsyncZod = async (fastify) => {
  const { services } = fastify;
  const deps = { clients: services.clients, tokenStore: services.tokenStore, secretBox: services.secretBox, hasher: services.hasher };

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
    },
    async (request, reply) => {
      rejectQueryCredentials(request.query);
      const params = normaliseParameters(request.body);
      const credentials = extractClientCredentials(request.headers.authorization, params);
      const clientId = await authenticateRevokingClient(deps, credentials);
      // §2.1: `token` is REQUIRED; §2.2.1 invalid_request for a malformed request.
      if (params.token === undefined) throw new InvalidRequestError('Check the `token` parameter');
      const outcome = await revokeToken(deps, clientId, params.token, params.token_type_hint);
      request.log.info({ clientId, outcome }, 'revocation');
      return reply.code(200).send();
    },
  );
};

export default revokeRoute;
