// Resource servers allowed to call /oauth/introspect (API.md "Admin API"): register, list, remove.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Admin } from '../../admin/index.js';
import {
  ADMIN_SECURITY_SCHEME,
  adminError,
  resourceServerBody,
  resourceServerCreated,
  resourceServerList,
  resourceServerParams,
} from '../../schemas/admin.js';

const security = [{ [ADMIN_SECURITY_SCHEME]: [] }];
const errors = { '4xx': adminError, '5xx': adminError };

const resourceServerRoutes: FastifyPluginAsyncZod<{ admin: Admin }> = async (fastify, { admin }) => {
  fastify.post(
    '/resource-servers',
    {
      schema: {
        summary: 'Register a resource server allowed to introspect tokens',
        description:
          "Its clientId comes from the same integer sequence as the resellers' clients; it can never obtain tokens. The secret is shown only in this response.",
        tags: ['admin'],
        security,
        body: resourceServerBody,
        response: { 201: resourceServerCreated, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(await admin.resourceServers.register(request.body.name, { adminTokenId: request.adminTokenId })),
  );

  fastify.get(
    '/resource-servers',
    {
      schema: { summary: 'List registered resource servers', tags: ['admin'], security, response: { 200: resourceServerList, ...errors } },
    },
    async () => admin.resourceServers.list(),
  );

  fastify.delete(
    '/resource-servers/:id',
    {
      schema: {
        summary: 'Remove a resource server: it can no longer introspect',
        tags: ['admin'],
        security,
        params: resourceServerParams,
        response: { 204: z.null().describe('Removed'), ...errors },
      },
    },
    async (request, reply) => {
      await admin.resourceServers.remove(request.params.id, { adminTokenId: request.adminTokenId });
      return reply.code(204).send(null);
    },
  );
};

export default resourceServerRoutes;
