// Resource servers allowed to call /oauth/introspect (docs/admin-api.md): register, list, remove.
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
        description:
          'Answers 204 only once no instance of the service accepts its credentials any more: every instance holds the ' +
          'credentials in memory and re-checks them every RESOURCE_SERVERS_RELOAD_INTERVAL seconds (5 by default), so the ' +
          'call waits that interval plus 2 s before it answers (docs/revocation.md, "Resource servers"); on the embedded ' +
          'database (one process) it answers at once. 503 when the token store cannot record the change: usually before ' +
          'anything was removed, so ask again (a 404 then means it was removed). CLI: resource-server:remove waits the same.',
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
