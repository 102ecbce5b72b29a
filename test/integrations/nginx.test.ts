// integrations/nginx: the shipped auth_request files, included verbatim by Debian's nginx (run as
// the current user, its own prefix and configuration, 127.0.0.1 ports) in front of the real
// service's /auth/verify and a stub DBS API that echoes what it received. docs/resource-servers.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import { freePort, waitFor } from '../faults/dedicated-servers.js';
import { type Backend, type SeededReseller, type TestApp, build, failTokenStoreReads, passwordGrantBody, seedReseller } from '../helper.js';

const NGINX = '/usr/sbin/nginx';
const EMBEDDED: Backend = { name: 'embedded', skip: false };
const CONF_DIR = join(import.meta.dirname, '../../integrations/nginx');
const MISSING = 'Bearer realm="reseller-auth"';
const INVALID = 'Bearer realm="reseller-auth", error="invalid_token", error_description="The access token is malformed, unknown, expired or revoked"';
const UNAUTHENTICATED = { message: 'Unauthenticated.' };
const UNAVAILABLE = { message: 'The authorization service is unavailable. Try again shortly.' };

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The DBS API stand-in: answers 200 with what it received, and keeps a copy. */
async function stubUpstream(t: Test): Promise<{ port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      received.push(seen);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, received };
}

/** nginx in the foreground (daemon off) as a child of this test, stopped at teardown. */
async function startNginx(t: Test, verifyPort: number, upstreamPort: number): Promise<number> {
  const prefix = await mkdtemp(join(tmpdir(), 'reseller-auth-nginx-'));
  const port = await freePort();
  const conf = `
daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream reseller_auth_internal { server 127.0.0.1:${verifyPort}; keepalive 4; }
  server {
    listen 127.0.0.1:${port};
    include ${CONF_DIR}/reseller-auth-locations.conf;
    location / {
      include ${CONF_DIR}/reseller-auth-protect.conf;
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
  }
}
`;
  await writeFile(join(prefix, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    // SIGQUIT: graceful shutdown; the master waits for its worker and removes its pid file.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    await exited;
    await rm(prefix, { recursive: true, force: true });
  });
  await waitFor('nginx to accept connections', async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${await readFile(join(prefix, 'error.log'), 'utf8')}`);
    return (await send(port, '/health-probe')).status > 0;
  });
  return port;
}

function send(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const skip = existsSync(NGINX) ? false : `${NGINX} is not installed (Debian package nginx, scripts/test-services.sh): nginx integration skipped`;

t.test('nginx auth_request in front of /auth/verify', { skip }, async (t) => {
  const ctx: TestApp = await build(t, EMBEDDED, { SCOPES: 'linhas faturas' });
  const reseller: SeededReseller = await seedReseller(ctx.services);
  const { adminUrl } = await ctx.listen();
  const upstream = await stubUpstream(t);
  const port = await startNginx(t, Number(new URL(adminUrl).port), upstream.port);

  const issue = async (scope = '') => {
    const res = await ctx.publicApp.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(reseller, { scope }) });
    t.equal(res.statusCode, 200, 'token issued');
    return (res.json() as { access_token: string }).access_token;
  };

  t.test('RFC 6750 §3: no token → 401 with the challenge, the DBS API never reached', async (t) => {
    const before = upstream.received.length;
    const res = await send(port, '/api/linhas');
    t.equal(res.status, 401);
    t.equal(res.headers['www-authenticate'], MISSING);
    t.equal(res.headers['content-type'], 'application/json');
    t.equal(res.headers['cache-control'], 'no-store');
    t.same(JSON.parse(res.body), UNAUTHENTICATED, 'the body auth:api answered');
    const forged = await send(port, '/api/linhas', { 'x-auth-reseller-id': '1', 'x-auth-user': 'admin@dbs.example' });
    t.equal(forged.status, 401, 'forged X-Auth-* headers alone are no credentials');
    t.equal(upstream.received.length, before, 'nothing proxied');
  });

  t.test('RFC 6750 §3.1: an unknown or revoked token → 401 invalid_token', async (t) => {
    const before = upstream.received.length;
    const unknown = await send(port, '/api/linhas', { authorization: `Bearer ${generateToken()}` });
    t.equal(unknown.status, 401);
    t.equal(unknown.headers['www-authenticate'], INVALID);
    t.same(JSON.parse(unknown.body), UNAUTHENTICATED);
    const token = await issue();
    t.equal((await send(port, '/api/linhas', { authorization: `Bearer ${token}` })).status, 200, 'valid before the revocation');
    await ctx.services.tokenStore.revokeAccessToken(token);
    const revoked = await send(port, '/api/linhas', { authorization: `Bearer ${token}` });
    t.equal(revoked.status, 401, 'refused at once after the revocation (no cache in front)');
    t.equal(revoked.headers['www-authenticate'], INVALID);
    t.equal(upstream.received.length, before + 1, 'only the valid request was proxied');
  });

  t.test('a valid token → the request reaches the DBS API with the reseller in X-Auth-* headers', async (t) => {
    const token = await issue('linhas');
    const body = JSON.stringify({ linha: '11999990000' });
    const res = await send(
      port,
      '/api/linhas?page=2',
      {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        // A client's own X-Auth-* headers must never reach the DBS API.
        'x-auth-reseller-id': '1',
        'x-auth-user': 'admin@dbs.example',
      },
      'POST',
      body,
    );
    t.equal(res.status, 200);
    const seen = JSON.parse(res.body) as Received;
    t.equal(seen.method, 'POST');
    t.equal(seen.url, '/api/linhas?page=2');
    t.equal(seen.body, body, 'the request body reaches the DBS API untouched by the subrequest');
    t.match(seen.headers, {
      'x-auth-user': reseller.email,
      'x-auth-client-id': reseller.clientId,
      'x-auth-reseller-id': reseller.resellerId,
      'x-auth-scope': 'linhas',
    });
    const noScope = JSON.parse(
      (await send(port, '/api/linhas', { authorization: `Bearer ${await issue()}`, 'x-auth-scope': 'faturas' })).body,
    ) as Received;
    t.equal(noScope.headers['x-auth-reseller-id'], reseller.resellerId);
    t.notOk('x-auth-scope' in noScope.headers, 'no scope: no X-Auth-Scope, and not the one the client sent');
  });

  t.test('503 from the service (token store down) → 503 with its Retry-After, the DBS API never reached', async (t) => {
    const token = await issue();
    const before = upstream.received.length;
    failTokenStoreReads(t, ctx.services);
    const res = await send(port, '/api/linhas', { authorization: `Bearer ${token}` });
    t.equal(res.status, 503);
    t.equal(res.headers['retry-after'], '5');
    t.equal(res.headers['content-type'], 'application/json');
    t.same(JSON.parse(res.body), UNAVAILABLE);
    t.equal(upstream.received.length, before);
  });

  // Last: it stops the internal listener.
  t.test('the service unreachable → 503 with a default Retry-After, not 401 and not 500', async (t) => {
    const token = await issue();
    await ctx.adminApp.close();
    const res = await send(port, '/api/linhas', { authorization: `Bearer ${token}` });
    t.equal(res.status, 503);
    t.equal(res.headers['retry-after'], '5');
    t.same(JSON.parse(res.body), UNAVAILABLE);
    t.notOk(res.headers['www-authenticate']);
  });
});
