// The panel's "Revendas → API" modal (docs/admin-api.md): configure, show, rotate the secret,
// switch off, and list resellers. The service layer (src/admin) does the work.
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Admin } from '../../admin/index.js';
import { PASSWORD_REQUIRED } from '../../admin/reseller-access.js';
import { ValidationFailedError } from '../../errors.js';
import {
  ADMIN_SECURITY_SCHEME,
  adminError,
  apiAccess,
  resellerApiBody,
  resellerList,
  resellerListQuery,
  resellerParams,
} from '../../schemas/admin.js';
import { toValidationFailed } from './validation-errors.js';

const security = [{ [ADMIN_SECURITY_SCHEME]: [] }];
const errors = { '4xx': adminError, '5xx': adminError };

/**
 * Every bad field at once, including the password that only a first save requires (it is
 * optional on updates, so the schema alone cannot say it is missing).
 */
async function invalidConfiguration(request: FastifyRequest, admin: Admin): Promise<Error> {
  const failed = toValidationFailed(request.validationError, request);
  if (!failed) return request.validationError as Error;
  const fields = failed.fields ?? {};
  const body: unknown = request.body ?? {};
  const { resellerId } = request.params as { resellerId: string };
  const passwordAbsent = typeof body === 'object' && body !== null && !Array.isArray(body) && (body as { password?: unknown }).password === undefined;
  if (passwordAbsent && !fields.resellerId && !(await admin.resellers.isConfigured(resellerId))) {
    return new ValidationFailedError({ ...fields, password: PASSWORD_REQUIRED });
  }
  return failed;
}

const resellerRoutes: FastifyPluginAsyncZod<{ admin: Admin }> = async (fastify, { admin }) => {
  fastify.put(
    '/resellers/:resellerId/api',
    {
      schema: {
        summary: "Configure a reseller's API access (the modal's Salvar)",
        description:
          'Creates the access (201) or updates it (200). A new password or e-mail revokes every token the user holds; ' +
          'on a switched-off access it switches it on again with the same client id and secret. An e-mail used by another reseller → 409.',
        tags: ['admin'],
        security,
        params: resellerParams,
        body: resellerApiBody,
        response: { 200: apiAccess, 201: apiAccess, ...errors },
      },
      // Validation failures come to the handler, which adds what only the database can tell.
      attachValidation: true,
    },
    async (request, reply) => {
      if (request.validationError) throw await invalidConfiguration(request, admin);
      const { access, created } = await admin.resellers.configure(request.params.resellerId, request.body, { adminTokenId: request.adminTokenId });
      return reply.code(created ? 201 : 200).send(access);
    },
  );

  fastify.get(
    '/resellers/:resellerId/api',
    {
      schema: {
        summary: "Show a reseller's API access with its credentials (the modal opened again)",
        tags: ['admin'],
        security,
        params: resellerParams,
        response: { 200: apiAccess, ...errors },
      },
    },
    async (request) => admin.resellers.show(request.params.resellerId),
  );

  fastify.post(
    '/resellers/:resellerId/api/secret',
    {
      schema: {
        summary: 'Issue a new client secret; the old one stops working at once',
        tags: ['admin'],
        security,
        params: resellerParams,
        response: { 200: apiAccess, ...errors },
      },
    },
    async (request) => admin.resellers.rotateSecret(request.params.resellerId, { adminTokenId: request.adminTokenId }),
  );

  fastify.delete(
    '/resellers/:resellerId/api',
    {
      schema: {
        summary: "Switch a reseller's API access off",
        description:
          'Disables the client and the user and revokes every token they hold, at once. GET then shows "active": false; ' +
          'the next PUT switches the access on again with the same client id and secret.',
        tags: ['admin'],
        security,
        params: resellerParams,
        response: { 204: z.null().describe('Switched off'), ...errors },
      },
    },
    async (request, reply) => {
      await admin.resellers.disable(request.params.resellerId, { adminTokenId: request.adminTokenId });
      return reply.code(204).send(null);
    },
  );

  fastify.get(
    '/resellers',
    {
      schema: {
        summary: 'List configured resellers, newest first, without secrets',
        tags: ['admin'],
        security,
        querystring: resellerListQuery,
        response: { 200: resellerList, ...errors },
      },
    },
    async (request) => admin.resellers.list(request.query.limit, request.query.cursor),
  );
};

export default resellerRoutes;
