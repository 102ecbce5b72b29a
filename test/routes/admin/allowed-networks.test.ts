// The IP allow-list of /oauth/token behind a trusted proxy (docs/resellers.md, "Request"), over real
// connections to a dual-stack listener: sockets there carry IPv4-mapped IPv6 addresses
// (::ffff:127.0.0.1), IPv6 callers come from ::1, and X-Forwarded-For is believed only from a
// TRUSTED_PROXIES peer, where the right-most entry that is not a trusted proxy is the caller.
import t from 'tap';
import type { ApiAccessView } from '../../../src/admin/views.js';
import { TEST_ADMIN_TOKEN, type TestApp, build, eachBackend } from '../../helper.js';
import { type AdminClient, type Credentials, adminClient, requestToken, unauthorizedClient } from './real-http.js';

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let admin: AdminClient;
  let v4Url: string;
  let v6Url: string;
  let seq = 0;

  t.before(async () => {
    ctx = await build(t, backend, { TRUSTED_PROXIES: '127.0.0.1' });
    // '::' is dual-stack on Linux: IPv4 peers appear as ::ffff:a.b.c.d, as in many deployments.
    await ctx.publicApp.listen({ host: '::', port: 0 });
    const { port } = ctx.publicApp.server.address() as { port: number };
    v4Url = `http://127.0.0.1:${port}`;
    v6Url = `http://[::1]:${port}`;
    admin = adminClient(await ctx.adminApp.listen({ host: '127.0.0.1', port: 0 }), TEST_ADMIN_TOKEN);
  });

  /** Configures a reseller over the admin API with the given IP Liberado. */
  async function reseller(allowedIp: string): Promise<Credentials> {
    seq += 1;
    const body = { name: `rede ${seq}`, email: `rede${seq}@revenda.example`, password: 'senha-da-revenda', allowedIp };
    const res = await admin.put(`/admin/resellers/net${seq}/api`, body);
    if (res.status !== 201) throw new Error(res.text);
    const access = res.json<ApiAccessView>();
    return { clientId: access.clientId, clientSecret: String(access.clientSecret), email: body.email, password: body.password };
  }

  t.test('IPv4-mapped socket addresses are matched (and named) as IPv4', async (t) => {
    const c = await reseller('127.0.0.1');
    t.equal((await requestToken(v4Url, c, { localAddress: '127.0.0.1' })).status, 200, '::ffff:127.0.0.1 is 127.0.0.1');
    const other = await requestToken(v4Url, c, { localAddress: '127.0.0.2' });
    t.equal(other.status, 403);
    t.same(other.json(), unauthorizedClient('127.0.0.2'), 'named as IPv4, not ::ffff:127.0.0.2');
  });

  t.test('IPv6 callers: ::1 inside ::1/128, outside 2001:db8::/32', async (t) => {
    const inside = await reseller('::1');
    t.equal((await requestToken(v6Url, inside, { localAddress: '::1' })).status, 200);
    const outside = await reseller('2001:db8::/32, 10.0.0.0/8');
    const res = await requestToken(v6Url, outside, { localAddress: '::1' });
    t.equal(res.status, 403);
    t.same(res.json(), unauthorizedClient('::1'));
  });

  t.test('X-Forwarded-For from a trusted proxy is honoured: the right-most untrusted entry', async (t) => {
    const c = await reseller('198.51.100.0/24, 2001:db8::/32');
    const via = (xff: string) => requestToken(v4Url, c, { localAddress: '127.0.0.1', headers: { 'x-forwarded-for': xff } });

    t.equal((await via('198.51.100.4')).status, 200, 'the proxy (127.0.0.1) is not allowed itself: the forwarded address was used');
    t.equal((await via('203.0.113.7, 198.51.100.4')).status, 200, 'the right-most entry is the one the proxy saw');
    t.equal((await via('198.51.100.4, 127.0.0.1')).status, 200, 'trusted proxies in the chain are skipped');
    t.equal((await via('2001:db8::5')).status, 200, 'an IPv6 caller behind the proxy');
    t.equal((await via('::ffff:198.51.100.9')).status, 200, 'an IPv4-mapped entry is the IPv4 address');

    const spoofed = await via('198.51.100.4, 203.0.113.7');
    t.equal(spoofed.status, 403, 'a client-written left-most entry cannot help');
    t.same(spoofed.json(), unauthorizedClient('203.0.113.7'));
  });

  t.test('X-Forwarded-For from a peer that is not a trusted proxy is ignored', async (t) => {
    const c = await reseller('198.51.100.0/24');
    const res = await requestToken(v4Url, c, { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '198.51.100.4' } });
    t.equal(res.status, 403);
    t.same(res.json(), unauthorizedClient('127.0.0.2'));
  });
});
