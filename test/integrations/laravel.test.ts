// integrations/laravel: the PHP guard's own tests (integrations/laravel/tests, TAP from php-cli),
// run against this service listening on 127.0.0.1: introspection with HTTP Basic (RFC 7662),
// revocation at /oauth/revoke, a 503 from the service, and servers that do not answer.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import net from 'node:net';
import t from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import { freePort } from '../faults/dedicated-servers.js';
import { type Backend, build, failTokenStoreReads, passwordGrantBody, seedReseller } from '../helper.js';

const SCRIPT = join(import.meta.dirname, '../../integrations/laravel/tests/guard-test.php');
const EMBEDDED: Backend = { name: 'embedded', skip: false };

function phpMissing(): string | false {
  try {
    execFileSync('php', ['-r', 'exit(PHP_VERSION_ID >= 80100 ? 0 : 1);']);
    return false;
  } catch {
    return 'php-cli 8.1 or later is not installed (Debian package php-cli, scripts/test-services.sh): Laravel guard tests skipped';
  }
}

t.test('the Laravel guard against the running service', { skip: phpMissing() }, async (t) => {
  const ctx = await build(t, EMBEDDED, { SCOPES: 'linhas faturas' });
  const reseller = await seedReseller(ctx.services);
  // What POST /admin/resource-servers does: create, then tell every instance.
  const rsSecret = `rs-${generateToken()}`;
  const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal(rsSecret));
  await ctx.services.events.publish('resource-servers');
  const { publicUrl } = await ctx.listen();

  // Accepts connections and never answers: a hung host, for the guard's timeout.
  const held = new Set<net.Socket>();
  const blackhole = net.createServer((socket) => held.add(socket));
  await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of held) socket.destroy();
    return new Promise<void>((resolve) => blackhole.close(() => resolve()));
  });

  const env = {
    ...process.env,
    RESELLER_AUTH_URL: publicUrl,
    RS_CLIENT_ID: String(rs.clientId),
    RS_SECRET: rsSecret,
    RESELLER_CLIENT_ID: reseller.clientId,
    RESELLER_CLIENT_SECRET: reseller.clientSecret,
    RESELLER_EMAIL: reseller.email,
    RESELLER_PASSWORD: reseller.password,
    RESELLER_ID: reseller.resellerId,
    RESELLER_USER_ID: String(reseller.userId),
    BLACKHOLE_URL: `http://127.0.0.1:${(blackhole.address() as net.AddressInfo).port}/oauth/introspect`,
    CLOSED_URL: `http://127.0.0.1:${await freePort()}/oauth/introspect`,
  };

  await t.spawn('php', [SCRIPT, 'service'], { env }, 'active, inactive and revoked tokens; misconfiguration; the cache; the service provider');
  await t.spawn('php', [SCRIPT, 'unreachable'], { env }, 'nothing listening, or a server that never answers → 503 within the timeout');

  await t.test('the service answers 503 (token store down) → 503 with its Retry-After', async (t) => {
    const issued = await ctx.publicApp.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(reseller) });
    t.equal(issued.statusCode, 200);
    failTokenStoreReads(t, ctx.services);
    const access = (issued.json() as { access_token: string }).access_token;
    const probe = await ctx.publicApp.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { authorization: `Basic ${Buffer.from(`${rs.clientId}:${rsSecret}`).toString('base64')}` },
      payload: { token: access },
    });
    t.equal(probe.statusCode, 503, 'the service itself answers 503');
    await t.spawn('php', [SCRIPT, 'unavailable'], {
      env: { ...env, ACCESS_TOKEN: access, EXPECTED_RETRY_AFTER: String(probe.headers['retry-after']) },
    });
  });
});
