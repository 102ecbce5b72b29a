// GET /auth/verify on the internal port: the contract of nginx's `auth_request` and
// ingress-nginx's `auth-url`, so the DBS API can sit behind this service without changing its
// code. 2xx lets the request through (with the X-Auth-* headers for the backend), 401 denies it
// and nginx passes our WWW-Authenticate on to the client. Any other status is an error to nginx
// (it answers 500): so every malformed credential is a 401 here, never a 400, and only an
// unreachable token store is a 503 (the token is not known to be invalid; the client retries).
//
// nginx's subrequest keeps the original request's method unless `proxy_method` says otherwise,
// and drops the body: every method is accepted and any body is ignored unread.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';

const REALM = 'reseller-auth';
/** RFC 6750 §2.1: `Bearer` then a b64token; the scheme is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Header values must be visible ASCII (RFC 9110 §5.5; Node refuses most others). Every value we
 * store is (e-mails as validated by the admin API, scope tokens, ids); one imported from
 * elsewhere that is not is percent-encoded rather than failing the request.
 */
const headerSafe = (value: string) => (/^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value));

const authVerifyRoute: FastifyPluginAsync = async (fastify) => {
  const { tokenStore } = fastify.services;
  // The subrequest carries no body worth reading (nginx: proxy_pass_request_body off).
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null));

  const deny = (reply: FastifyReply, challenge: string, message: string, error = 'invalid_token') =>
    reply.code(401).header('www-authenticate', challenge).send({ error, message });

  fastify.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/auth/verify',
    logLevel: 'warn',
    schema: {
      summary: 'Ingress authentication (nginx auth_request / ingress-nginx auth-url)',
      description:
        '`Authorization: Bearer <access token>` → 200 with X-Auth-User (the reseller API user e-mail), X-Auth-Client-Id, ' +
        'X-Auth-Reseller-Id and X-Auth-Scope. No bearer credentials → 401 `WWW-Authenticate: Bearer realm="reseller-auth"` ' +
        '(RFC 6750 §3.1: no error code). An unknown, malformed, expired or revoked token → 401 with `error="invalid_token"`. ' +
        '503 when the token store cannot be reached. Any method is accepted (nginx keeps the original one); the body is ignored.',
      tags: ['ingress'],
      headers: z.looseObject({ authorization: z.string().optional().describe('Bearer <access token>') }),
      response: {
        200: z.undefined().describe('Access allowed; the X-Auth-* headers describe the caller'),
        401: z.object({ error: z.string(), message: z.string() }).describe('Access denied; see WWW-Authenticate'),
        503: z.object({ error: z.string(), message: z.string() }).describe('Token store unavailable (Retry-After)'),
      },
    },
    // The header schema documents; the handler reads the header itself (every malformed value is a 401).
    validatorCompiler: () => () => true,
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const authorization = request.headers.authorization;
      // RFC 6750 §3.1: a request without authentication information gets no error code.
      if (!authorization || !/^Bearer\b/i.test(authorization)) {
        return deny(reply, `Bearer realm="${REALM}"`, 'A bearer access token is required.', 'unauthorized');
      }
      const token = BEARER.exec(authorization)?.[1];
      const claims = token === undefined || token.length > 4096 ? null : await tokenStore.findAccessToken(token);
      if (claims === null || claims.exp * 1000 <= Date.now()) {
        return deny(
          reply,
          `Bearer realm="${REALM}", error="invalid_token", error_description="The access token is malformed, unknown, expired or revoked"`,
          'The access token is malformed, unknown, expired or revoked.',
        );
      }
      return reply
        .code(200)
        .header('x-auth-user', headerSafe(claims.username))
        .header('x-auth-client-id', claims.clientId)
        .header('x-auth-reseller-id', headerSafe(claims.resellerId))
        .header('x-auth-scope', headerSafe(claims.scope))
        .send();
    },
  });
};

export default authVerifyRoute;
