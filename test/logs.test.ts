// Passwords, client secrets, admin tokens and OAuth tokens never reach a log line (docs/deployment.md, "Logs").
// test/helper.ts sends every build's logs to test/.logs/. This test drives a representative
// flow of its own at LOG_LEVEL=trace — secrets in JSON and form bodies, in HTTP Basic and Bearer
// headers and in the query string; refresh, revocation, introspection, the ingress check, the
// admin API; failures of each kind, and a lock-out — then searches its own logs for every secret
// value it used, and every log file of the suite (other test files may still be writing theirs)
// for anything shaped like a secret: an unredacted sensitive field, a 43-character token, a
// 40-character client secret, an argon2 or bcrypt hash.
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { generateClientSecret, generateToken } from '../src/security/secret-box.js';
import { waitFor } from './faults/dedicated-servers.js';
import { basic, registerResourceServer } from './faults/requests.js';
import { adminInject, BACKENDS, type Backend, LOG_DIR, type TestApp, build, eachBackend, passwordGrantBody, seedReseller } from './helper.js';

const SENSITIVE_FIELD =
  /"(password|client_secret|clientSecret|secret|access_token|refresh_token|token|authorization|cookie|passwordHash)":"(?!\[Redacted\]")/;
const SHAPES: [string, RegExp][] = [
  ['43-character base64url token', /(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/],
  ['40-character client secret', /(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{40}(?![A-Za-z0-9])/],
  ['argon2 hash', /\$argon2(id|i|d)\$/],
  ['bcrypt hash', /\$2[aby]\$\d\d\$/],
  ['unredacted sensitive field', SENSITIVE_FIELD],
];

t.test('the shapes recognise what they look for (or this test could never fail)', async (t) => {
  const samples: Record<string, string> = {
    '43-character base64url token': `"x":"${generateToken()}"`,
    '40-character client secret': `Basic id:${generateClientSecret()}`,
    'argon2 hash': '"h":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"',
    'bcrypt hash': '"h":"$2y$10$abcdefghijklmnopqrstuv"',
    'unredacted sensitive field': '{"body":{"password":"hunter22"}}',
  };
  for (const [what, shape] of SHAPES) {
    t.ok(shape.test(samples[what] ?? ''), `${what} is recognised`);
    t.notOk(
      shape.test(
        '{"password":"[Redacted]","jti":"3b241101-e2bb-4255-8caf-4136c566a962","hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}',
      ),
      `${what}: no false alarm`,
    );
  }
});

async function logFiles(): Promise<string[]> {
  return (await readdir(LOG_DIR)).filter((name) => name.endsWith('.log')).map((name) => join(LOG_DIR, name));
}

/** Every secret value the flow below used or was given. */
const secrets = new Set<string>();
const keep = (...values: (string | undefined)[]) => {
  for (const value of values) if (value) secrets.add(value);
};

async function driveFlow(ctx: TestApp): Promise<void> {
  const app = ctx.publicApp;
  const post = (url: string, payload: unknown, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
    app.inject({ method: 'POST', url, payload: payload as string, headers, remoteAddress });
  const admin = adminInject(ctx);

  const r = await seedReseller(ctx.services, { allowedIp: '127.0.0.1,10.9.0.0/24' });
  const rs = await registerResourceServer(ctx);
  keep(r.password, r.clientSecret, rs.secret, ctx.adminToken, basic(r.clientId, r.clientSecret), basic(rs.clientId, rs.secret));

  const pairs: { access_token: string; refresh_token: string }[] = [];
  const issued = async (res: Awaited<ReturnType<typeof post>>) => {
    t.equal(res.statusCode, 200, 'token issued');
    const pair = res.json();
    keep(pair.access_token, pair.refresh_token);
    pairs.push(pair);
    return pair;
  };
  const { client_id: _id, client_secret: _secret, ...userOnly } = passwordGrantBody(r);
  await issued(await post('/oauth/token', passwordGrantBody(r)));
  await issued(
    await post('/oauth/token', new URLSearchParams(passwordGrantBody(r) as Record<string, string>).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
    }),
  );
  const viaBasic = await issued(await post('/oauth/token', userOnly, { authorization: basic(r.clientId, r.clientSecret) }));
  const refreshed = await issued(
    await post('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: viaBasic.refresh_token,
      client_id: r.clientId,
      client_secret: r.clientSecret,
    }),
  );

  // Failures of every kind, each carrying a secret-looking value of its own.
  const wrongPassword = `wrong-${randomBytes(8).toString('hex')}`;
  const wrongSecret = randomBytes(30).toString('base64url').slice(0, 40);
  keep(wrongPassword, wrongSecret);
  t.equal((await post('/oauth/token', passwordGrantBody(r, { password: wrongPassword }))).statusCode, 400);
  t.equal((await post('/oauth/token', passwordGrantBody(r, { client_secret: wrongSecret }))).statusCode, 401);
  t.equal((await post('/oauth/token', userOnly, { authorization: basic(r.clientId, wrongSecret) })).statusCode, 401);
  t.equal((await post(`/oauth/token?client_secret=${r.clientSecret}&password=${r.password}`, passwordGrantBody(r))).statusCode, 400, 'query string');
  t.equal((await post('/oauth/token', passwordGrantBody(r), {}, '203.0.113.7')).statusCode, 403, 'outside the allowed networks');
  t.equal(
    (
      await post('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: viaBasic.refresh_token,
        client_id: r.clientId,
        client_secret: r.clientSecret,
      })
    ).statusCode,
    400,
    'a reused refresh token',
  );
  t.equal((await post('/oauth/token', `{"password":"${r.password}",`, { 'content-type': 'application/json' })).statusCode, 400, 'broken JSON');
  // A secret in the wrong field, where redaction by field name cannot see it (logger.ts `loggable`).
  const misplaced = randomBytes(32).toString('base64url');
  keep(misplaced);
  t.equal(
    (await post('/oauth/token', passwordGrantBody(r, { grant_type: misplaced, client_secret: wrongSecret }))).statusCode,
    401,
    'a token as grant_type',
  );
  t.equal((await post('/oauth/token', passwordGrantBody(r, { client_id: r.clientSecret }))).statusCode, 401, 'a secret as client_id');
  t.equal((await post('/oauth/token', userOnly, { authorization: basic('987654', wrongSecret) })).statusCode, 401, 'an unknown client by Basic');
  for (let i = 0; i < ctx.config.login.maxFailuresClientIp + 1; i++)
    await post('/oauth/token', passwordGrantBody(r, { password: wrongPassword }), {}, '10.9.0.1');
  t.equal((await post('/oauth/token', passwordGrantBody(r), {}, '10.9.0.1')).statusCode, 429, 'locked out, logged');

  // Resource servers and the ingress.
  const first = pairs[0] as { access_token: string; refresh_token: string };
  t.equal((await post('/oauth/introspect', { token: first.access_token }, { authorization: basic(rs.clientId, rs.secret) })).statusCode, 200);
  t.equal((await post('/oauth/introspect', { token: first.access_token }, { authorization: basic(rs.clientId, wrongSecret) })).statusCode, 401);
  t.equal((await post('/oauth/revoke', { token: refreshed.refresh_token, client_id: r.clientId, client_secret: r.clientSecret })).statusCode, 200);
  const verified = await ctx.adminApp.inject({ method: 'GET', url: '/auth/verify', headers: { authorization: `Bearer ${first.access_token}` } });
  t.equal(verified.statusCode, 200, 'ingress check');

  // The admin API: passwords in, secrets out.
  const newPassword = `senha-${randomBytes(8).toString('hex')}`;
  keep(newPassword);
  const configured = await admin('PUT', '/admin/resellers/logs-test/api', {
    name: 'Revenda Logs',
    email: 'logs@revenda.example',
    password: newPassword,
    allowedIp: '10.0.0.1',
  });
  t.equal(configured.statusCode, 201);
  keep(configured.json().clientSecret);
  const rotated = await admin('POST', '/admin/resellers/logs-test/api/secret');
  t.equal(rotated.statusCode, 200);
  keep(rotated.json().clientSecret);
  t.equal(
    (await admin('PUT', '/admin/resellers/logs-test/api', { name: 'Revenda Logs', email: 'logs@revenda.example', password: 'short' })).statusCode,
    400,
  );
  t.equal(
    (await ctx.adminApp.inject({ method: 'GET', url: '/admin/resellers', headers: { authorization: `Bearer ${wrongSecret}` } })).statusCode,
    401,
  );
}

eachBackend(t, async (t, backend) => {
  const ctx = await build(t, backend, { LOG_LEVEL: 'trace' });
  await driveFlow(ctx);

  // The log stream is asynchronous: a marker logged last, once on disk, means everything before it is.
  const marker = `logs-test-marker-${randomBytes(8).toString('hex')}`;
  ctx.services.log.info({ marker }, 'end of the flow');
  let own: string[] = [];
  await waitFor('the log file to be flushed', async () => {
    own = [];
    for (const file of await logFiles()) if ((await readFile(file, 'utf8')).includes(marker)) own.push(file);
    return own.length > 0;
  });
  const text = (await Promise.all(own.map((file) => readFile(file, 'utf8')))).join('\n');
  t.ok(text.split('\n').length > 50, `the flow was logged (${text.split('\n').length} lines, at trace level)`);
  t.match(text, /"msg":"token request refused"/, 'failures are logged');
  t.match(text, /"msg":"token request refused: too many failed attempts"/, 'the lock-out is logged');
  t.match(text, /"grantType":"\[Malformed\]"/, 'a grant type the service does not know is logged as malformed');
  t.match(text, /"clientId":"\[Malformed\]"/, 'so is a client id that is not an integer');
  t.match(text, /"reason":"client","grantType":"password","clientId":"987654"/, 'a refusal names the client a Basic header claimed');

  const found = [...secrets].filter((secret) => text.includes(secret) || text.includes(encodeURIComponent(secret)));
  t.same(
    found.map((s) => `${s.slice(0, 4)}…`),
    [],
    `none of the ${secrets.size} secrets of the flow is in its log`,
  );
  for (const [what, shape] of SHAPES) t.notOk(shape.test(text), `its log holds no ${what}`);
});

/** The lines of this build's log file once `marker` (logged last) is on disk: the stream is asynchronous. */
async function ownLines(ctx: TestApp): Promise<Record<string, unknown>[]> {
  const marker = `logs-test-marker-${randomBytes(8).toString('hex')}`;
  ctx.services.log.info({ marker }, 'end of the requests');
  let text = '';
  await waitFor('the log file to be flushed', async () => {
    for (const file of await logFiles()) {
      const content = await readFile(file, 'utf8');
      if (content.includes(marker)) text = content;
    }
    return text !== '';
  });
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

t.test('one line per request, named by the request id the answer carries', async (t) => {
  // debug: the introspection route's successful requests are written at debug (below).
  const ctx = await build(t, BACKENDS[0] as Backend, { LOG_LEVEL: 'debug', LOGIN_MAX_FAILURES_IP: '2' });
  const r = await seedReseller(ctx.services);
  const rs = await registerResourceServer(ctx);
  const { publicUrl } = await ctx.listen();
  const post = (path: string, body: object, headers: Record<string, string> = {}) =>
    fetch(`${publicUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  // Over real connections (the HTTP server's listener stamps the id).
  const issued = await post('/oauth/token', passwordGrantBody(r), { 'x-request-id': 'ticket-4711.a:b_c' });
  t.equal(issued.status, 200);
  const pair = (await issued.json()) as { access_token: string };
  t.equal(issued.headers.get('x-request-id'), 'ticket-4711.a:b_c', 'a well-formed X-Request-Id is kept and returned');
  const refused = await post('/oauth/token', passwordGrantBody(r, { password: 'not-the-password' }), { 'x-request-id': 'has spaces' });
  t.equal(refused.status, 400);
  const refusedId = refused.headers.get('x-request-id') ?? '';
  t.match(refusedId, UUID, 'a malformed one is replaced by a fresh UUID');
  const tooLong = await post('/oauth/token', {}, { 'x-request-id': 'a'.repeat(129) });
  t.match(tooLong.headers.get('x-request-id'), UUID, 'so is one over 128 characters');
  const introspected = await post('/oauth/introspect', { token: pair.access_token }, { authorization: basic(rs.clientId, rs.secret) });
  t.equal(introspected.status, 200);
  const introspectId = introspected.headers.get('x-request-id') ?? '';
  const unauthorized = await post('/oauth/introspect', { token: pair.access_token }, { authorization: basic(rs.clientId, 'wrong') });
  t.equal(unauthorized.status, 401);
  const unknown = await fetch(`${publicUrl}/no/such/path?client_secret=x`);
  t.equal(unknown.status, 404);
  const badUrl = await fetch(`${publicUrl}/oauth/%zz`);
  t.equal(badUrl.status, 400, 'a URL Fastify cannot decode');
  const ids = [introspectId, unauthorized, unknown, badUrl].map((res) => (typeof res === 'string' ? res : res.headers.get('x-request-id')));
  for (const id of ids) t.match(id, UUID, 'every answer carries an id');
  t.equal(new Set([refusedId, ...ids]).size, 5, 'a different one each time');

  // Injected requests get one too; here a lock-out (LOGIN_MAX_FAILURES_IP malformed requests).
  const inject = (remoteAddress: string) => ctx.publicApp.inject({ method: 'POST', url: '/oauth/token', payload: {}, remoteAddress });
  for (let i = 0; i < 2; i++) t.equal((await inject('10.20.30.40')).statusCode, 400);
  const locked = await inject('10.20.30.40');
  t.equal(locked.statusCode, 429);
  const lockedId = String(locked.headers['x-request-id']);
  t.match(lockedId, UUID, 'a 429 carries the id');

  const lines = await ownLines(ctx);
  t.same(
    lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed').length,
    0,
    "no Fastify request lines: only the service's own",
  );
  const requestLines = lines.filter((l) => l.msg === 'request');
  const lineOf = (id: string) => {
    const found = requestLines.filter((l) => l.reqId === id);
    t.equal(found.length, 1, `exactly one request line for ${id}`);
    const { level: _l, time: _t, pid: _p, hostname: _h, durationMs, ...rest } = found[0] ?? {};
    t.ok(typeof durationMs === 'number' && durationMs >= 0, `${id}: durationMs`);
    return rest;
  };
  t.same(lineOf('ticket-4711.a:b_c'), {
    listener: 'public',
    reqId: 'ticket-4711.a:b_c',
    method: 'POST',
    route: '/oauth/token',
    status: 200,
    ip: '127.0.0.1',
    clientId: r.clientId,
    msg: 'request',
  });
  t.same(lineOf(refusedId), {
    listener: 'public',
    reqId: refusedId,
    method: 'POST',
    route: '/oauth/token',
    status: 400,
    ip: '127.0.0.1',
    clientId: r.clientId,
    error: 'invalid_grant',
    hint: 'The user credentials were incorrect.',
    msg: 'request',
  });
  t.match(
    lines.filter((l) => l.reqId === refusedId && l.msg !== 'request'),
    [{ msg: 'token request refused', reason: 'credentials' }],
    'the security event stays a line of its own, joined by the request id',
  );
  t.same(lineOf(introspectId), {
    listener: 'public',
    reqId: introspectId,
    method: 'POST',
    route: '/oauth/introspect',
    status: 200,
    ip: '127.0.0.1',
    msg: 'request',
  });
  t.equal(requestLines.find((l) => l.reqId === introspectId)?.level, 20, 'a successful introspection is written at debug');
  t.match(lineOf(String(ids[1])), { route: '/oauth/introspect', status: 401, error: 'invalid_client', hint: 'Client authentication failed' });
  t.equal(requestLines.find((l) => l.reqId === ids[1])?.level, 30, 'its errors at info');
  t.same(lineOf(String(ids[2])), {
    listener: 'public',
    reqId: ids[2],
    method: 'GET',
    route: 'unmatched',
    path: '/no/such/path',
    status: 404,
    ip: '127.0.0.1',
    msg: 'request',
  });
  t.match(lineOf(String(ids[3])), { route: 'unmatched', path: '/oauth/%zz', status: 400, error: 'invalid_request' });
  t.match(lineOf(lockedId), { route: '/oauth/token', status: 429, ip: '10.20.30.40', error: 'too_many_requests' });
});

t.test('no log file the suite wrote holds anything shaped like a secret', async (t) => {
  const files = await logFiles();
  t.ok(files.length > 0, `${files.length} log files`);
  const leaks: string[] = [];
  for (const file of files) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    for (const [i, line] of lines.entries()) {
      for (const [what, shape] of SHAPES) if (shape.test(line)) leaks.push(`${file.slice(LOG_DIR.length + 1)}:${i + 1}: ${what}`);
      for (const secret of secrets) if (line.includes(secret)) leaks.push(`${file.slice(LOG_DIR.length + 1)}:${i + 1}: a secret of this test`);
    }
  }
  t.same(leaks, [], 'no leaks');
});
