// The admin audit trail (docs/admin-api.md, "Errors, caching and audit"): one structured info line per admin change, naming the admin
// token by its id (never the token), the reseller or resource server, and the changed field
// names; never a secret, a password or the token itself.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import type { ApiAccessView } from '../../src/admin/views.js';
import { TEST_ADMIN_TOKEN, type TestApp, build, eachBackend } from '../helper.js';

const SECOND_TOKEN = 'the-other-admin-token-0123456789';
const tokenId = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 8);

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let adminApp: FastifyInstance;
  const lines: Record<string, unknown>[] = [];

  t.before(async () => {
    ctx = await build(t, backend, { ADMIN_TOKENS: `${TEST_ADMIN_TOKEN},${SECOND_TOKEN}` });
    adminApp = ctx.adminApp;
    // Every line the services' logger writes at info passes here first (pino's level methods are
    // the instance's own properties); the admin layer logs through this logger.
    const log = ctx.services.log;
    const info = log.info.bind(log) as (...args: unknown[]) => void;
    log.info = ((obj: unknown, ...rest: unknown[]) => {
      if (typeof obj === 'object' && obj !== null && (obj as { audit?: unknown }).audit === true) lines.push(obj as Record<string, unknown>);
      info(obj, ...rest);
    }) as typeof log.info;
  });

  const call = (method: 'PUT' | 'POST' | 'DELETE', url: string, token: string, payload?: object) =>
    adminApp.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });

  t.test('each admin change is one line: who (token id), what, which reseller, which fields', async (t) => {
    lines.length = 0;
    const body = { name: 'Revenda Auditada', email: 'auditada@revenda.example', password: 'senha-auditada-1', allowedIp: '10.0.0.0/8' };
    const created = (await call('PUT', '/admin/resellers/aud1/api', TEST_ADMIN_TOKEN, body)).json<ApiAccessView>();
    const clientId = Number(created.clientId);
    await call('PUT', '/admin/resellers/aud1/api', SECOND_TOKEN, { ...body, name: 'Outro Nome', password: 'senha-auditada-2' });
    await call('PUT', '/admin/resellers/aud1/api', SECOND_TOKEN, { ...body, name: 'Outro Nome', password: 'senha-auditada-2' });
    const rotated = (await call('POST', '/admin/resellers/aud1/api/secret', TEST_ADMIN_TOKEN)).json<ApiAccessView>();
    await call('DELETE', '/admin/resellers/aud1/api', TEST_ADMIN_TOKEN);
    await call('PUT', '/admin/resellers/aud1/api', TEST_ADMIN_TOKEN, { ...body, email: 'auditada2@revenda.example', password: undefined });
    const server = (await call('POST', '/admin/resource-servers', SECOND_TOKEN, { name: 'DBS API' })).json<{
      id: string;
      clientSecret: string;
      clientId: string;
    }>();
    await call('DELETE', `/admin/resource-servers/${server.id}`, SECOND_TOKEN);

    const first = tokenId(TEST_ADMIN_TOKEN);
    const second = tokenId(SECOND_TOKEN);
    const reseller = { resellerId: 'aud1', clientId };
    const resourceServer = { resourceServerId: server.id, clientId: Number(server.clientId) };
    t.same(lines, [
      {
        audit: true,
        action: 'reseller.api.create',
        ...reseller,
        adminTokenId: first,
        changed: ['name', 'email', 'password', 'allowedIp', 'clientSecret'],
      },
      { audit: true, action: 'reseller.api.update', ...reseller, adminTokenId: second, changed: ['name', 'password'] },
      // The same save again changed nothing: no line.
      { audit: true, action: 'reseller.api.rotate-secret', ...reseller, adminTokenId: first, changed: ['clientSecret'] },
      { audit: true, action: 'reseller.api.disable', ...reseller, adminTokenId: first, changed: ['active'] },
      { audit: true, action: 'reseller.api.update', ...reseller, adminTokenId: first, changed: ['name', 'email', 'active'] },
      { audit: true, action: 'resource-server.create', ...resourceServer, adminTokenId: second, changed: ['name', 'clientSecret'] },
      { audit: true, action: 'resource-server.remove', ...resourceServer, adminTokenId: second, changed: [] },
    ]);

    const text = JSON.stringify(lines);
    for (const secret of [
      TEST_ADMIN_TOKEN,
      SECOND_TOKEN,
      'senha-auditada-1',
      'senha-auditada-2',
      String(created.clientSecret),
      String(rotated.clientSecret),
      server.clientSecret,
    ]) {
      t.notOk(text.includes(secret), 'no token, password or secret in the audit trail');
    }
  });

  t.test('requests that change nothing write no audit line: reads, refusals, validation errors, no-op saves', async (t) => {
    const body = { name: 'Revenda Auditada', email: 'auditada2@revenda.example', allowedIp: '10.0.0.0/8' };
    await call('PUT', '/admin/resellers/aud3/api', TEST_ADMIN_TOKEN, { ...body, email: 'auditada3@revenda.example', password: 'senha-auditada-3' });
    await call('DELETE', '/admin/resellers/aud3/api', TEST_ADMIN_TOKEN);
    lines.length = 0;
    t.equal((await call('PUT', '/admin/resellers/aud1/api', TEST_ADMIN_TOKEN, body)).statusCode, 200, 'aud1 saved as it is');
    t.equal((await call('DELETE', '/admin/resellers/aud3/api', TEST_ADMIN_TOKEN)).statusCode, 204, 'aud3 switched off again');
    await adminApp.inject({ method: 'GET', url: '/admin/resellers/aud1/api', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    await adminApp.inject({ method: 'GET', url: '/admin/resellers', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    await call('PUT', '/admin/resellers/aud2/api', 'wrong-token-0123456789abcdef', { name: 'x' });
    await call('PUT', '/admin/resellers/aud2/api', TEST_ADMIN_TOKEN, { name: 'x' });
    await call('DELETE', '/admin/resellers/nobody/api', TEST_ADMIN_TOKEN);
    t.same(lines, []);
  });
});
