// Control characters (C0, U+0000–U+001F, and DEL, U+007F) in any string parameter are refused
// before anything reads or writes storage: 400 invalid_request naming the parameter on /oauth/*,
// 400 validation_failed naming the field on the admin API (docs/input-validation.md). PostgreSQL
// refuses NUL in text columns, so without the check a NUL reached the database as a 500.
// Every case runs on the embedded defaults and on PostgreSQL + Redis.
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import {
  NO_STORE,
  type SeededReseller,
  type TestApp,
  basic,
  build,
  eachBackend,
  form,
  invalidRequest,
  passwordGrantBody,
  seedReseller,
} from '../helper.js';

/** One of each kind: NUL, another C0 control, the line breaks and tab a paste may carry, DEL. */
const CONTROLS = ['\u0000', '\u0001', '\u001b', '\t', '\n', '\r', '\u007f'];
/** The whitespace among them, trimmed from the ends of the token request's parameters (not the password's). */
const TRIMMED = ['\t', '\n', '\r'];
const hex = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

const refusedParameter = (name: string) => invalidRequest(`Check the \`${name}\` parameter: it must not contain control characters`);
const refusedFields = (fields: Record<string, string>) => ({
  error: 'validation_failed',
  message: `Invalid ${Object.keys(fields).length === 1 ? 'field' : 'fields'}: ${Object.keys(fields).join(', ')}`,
  fields,
});
const CONTROL_MESSAGE = 'must not contain control characters';

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let app: FastifyInstance;
  let admin: FastifyInstance;
  let reseller: SeededReseller;
  let rsAuth: string;

  t.before(async () => {
    // Every refused request counts against the address as a malformed one (docs/rate-limits.md): this file sends hundreds.
    ctx = await build(t, backend, { LOGIN_MAX_FAILURES_IP: '100000' });
    app = ctx.publicApp;
    admin = ctx.adminApp;
    reseller = await seedReseller(ctx.services);
    const secret = `rs-${generateToken()}`;
    const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal(secret));
    await ctx.services.events.publish('resource-servers');
    rsAuth = basic(String(rs.clientId), secret);
    // The credential cache learns of the resource server by a change event (asynchronous on Redis).
    for (let i = 0; i < 200 && (await introspect({ token: 'x' })).statusCode !== 200; i++) await new Promise((r) => setTimeout(r, 25));
  });

  const token = (payload: object | string) =>
    app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload,
      headers: typeof payload === 'string' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
    });
  const introspect = (payload: object) => app.inject({ method: 'POST', url: '/oauth/introspect', payload, headers: { authorization: rsAuth } });
  const revoke = (payload: object) => app.inject({ method: 'POST', url: '/oauth/revoke', payload });
  const adminCall = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object) =>
    admin.inject({ method, url, payload, headers: { authorization: `Bearer ${ctx.adminToken}` } });

  async function issue(t: Test) {
    const res = await token(passwordGrantBody(reseller));
    t.equal(res.statusCode, 200, 'a clean token request is answered 200');
    return res.json() as { access_token: string; refresh_token: string };
  }

  t.test('POST /oauth/token: a control character in any parameter → 400 invalid_request naming it, before any lookup', async (t) => {
    const verifications = ctx.services.hasher.verifications;
    const { refresh_token: refreshToken } = await issue(t);
    const after = ctx.services.hasher.verifications;
    const grants: Record<string, Record<string, string>> = {
      password: passwordGrantBody(reseller) as Record<string, string>,
      refresh_token: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: reseller.clientId, client_secret: reseller.clientSecret },
    };
    for (const [grant, body] of Object.entries(grants)) {
      for (const name of Object.keys(body)) {
        for (const control of CONTROLS) {
          // Trailing whitespace is trimmed from every parameter but the password (next test).
          if (name !== 'password' && TRIMMED.includes(control)) continue;
          const bad = { ...body, [name]: `${body[name]}${control}` };
          for (const [kind, payload] of [
            ['JSON', bad],
            ['form', form(bad)],
          ] as const) {
            const res = await token(payload);
            t.equal(res.statusCode, 400, `${grant} grant, ${name} with ${hex(control)} (${kind}): 400`);
            t.same(res.json(), refusedParameter(name), `${grant} grant, ${name} with ${hex(control)} (${kind}): names the parameter`);
            t.match(res.headers, NO_STORE);
          }
        }
      }
    }
    // A control character in the middle, and a whole value of them.
    t.same((await token(passwordGrantBody(reseller, { username: `api\u0000${reseller.email}` }))).json(), refusedParameter('username'));
    t.same((await token(passwordGrantBody(reseller, { username: `api\n${reseller.email}` }))).json(), refusedParameter('username'));
    t.same((await token(passwordGrantBody(reseller, { scope: '\u0000' }))).json(), refusedParameter('scope'));
    t.equal(ctx.services.hasher.verifications, after, 'no password was checked for a refused request');
    t.ok(after > verifications);
    const rotated = await token(grants.refresh_token as Record<string, string>);
    t.equal(rotated.statusCode, 200, 'the refresh token was not consumed by any refused request');
  });

  t.test(
    "POST /oauth/token: surrounding whitespace, line breaks included, is trimmed from every parameter but the password, as Laravel's TrimStrings did",
    async (t) => {
      const body = passwordGrantBody(reseller) as Record<string, string>;
      const padded = {
        ...body,
        grant_type: `${body.grant_type}\n`,
        client_id: ` ${body.client_id}\r\n`,
        client_secret: `${body.client_secret}\n`,
        username: `\t${body.username} `,
        scope: ' ',
      };
      for (const [kind, payload] of [
        ['JSON', padded],
        ['form', form(padded)],
      ] as const) {
        const res = await token(payload);
        t.equal(res.statusCode, 200, `${kind}: a secret pasted with its line break logs in (${res.body})`);
      }
      const password = await token({ ...body, password: `${body.password}\n` });
      t.same([password.statusCode, password.json()], [400, refusedParameter('password')], 'the password is never trimmed: refused');
    },
  );

  t.test('POST /oauth/revoke: 400 invalid_request naming the parameter; the token stays valid', async (t) => {
    const { access_token: access } = await issue(t);
    const body = { token: access, token_type_hint: 'access_token', client_id: reseller.clientId, client_secret: reseller.clientSecret };
    for (const name of Object.keys(body) as (keyof typeof body)[]) {
      for (const control of ['\u0000', '\n', '\u007f']) {
        const res = await revoke({ ...body, [name]: `${body[name]}${control}` });
        t.equal(res.statusCode, 400, `${name} with ${hex(control)}: 400`);
        t.same(res.json(), refusedParameter(name));
        t.match(res.headers, NO_STORE);
      }
    }
    t.match((await introspect({ token: access })).json(), { active: true }, 'nothing was revoked');
  });

  t.test('POST /oauth/introspect: 400 invalid_request naming the parameter, for an authenticated resource server', async (t) => {
    const { access_token: access } = await issue(t);
    for (const control of ['\u0000', '\u0008', '\n', '\u007f']) {
      const res = await introspect({ token: `${access}${control}` });
      t.equal(res.statusCode, 400, `token with ${hex(control)}: 400`);
      t.same(res.json(), refusedParameter('token'));
      t.match(res.headers, NO_STORE);
      const hint = await introspect({ token: access, token_type_hint: `access_token${control}` });
      t.same([hint.statusCode, hint.json()], [400, refusedParameter('token_type_hint')], `token_type_hint with ${hex(control)}: 400`);
    }
    t.match((await introspect({ token: access })).json(), { active: true }, 'the clean token is still active');
  });

  t.test('GET /auth/verify: a bearer token with a control character is a 401 invalid_token (nginx takes any other 4xx as an error)', async (t) => {
    const { access_token: access } = await issue(t);
    // Node's HTTP parser refuses most control characters in header values before any route runs;
    // a horizontal tab is legal there (RFC 9110 §5.5) and must still not pass.
    const res = await admin.inject({ method: 'GET', url: '/auth/verify', headers: { authorization: `Bearer ${access}\tx` } });
    t.equal(res.statusCode, 401);
    t.match(res.json(), { error: 'invalid_token' });
    t.equal((await admin.inject({ method: 'GET', url: '/auth/verify', headers: { authorization: `Bearer ${access}` } })).statusCode, 200);
  });

  t.test('PUT /admin/resellers/{id}/api: 400 validation_failed naming each field; nothing is created', async (t) => {
    const modal = { name: 'meu nome aqui', email: 'novo.api@revenda.example', password: 'minha-senha-secreta', allowedIp: '127.0.0.1' };
    for (const field of ['name', 'email', 'password', 'allowedIp'] as const) {
      for (const control of ['\u0000', '\u001f', '\t', '\u007f']) {
        const id = `cc${field}${control.charCodeAt(0)}`;
        const res = await adminCall('PUT', `/admin/resellers/${id}/api`, {
          ...modal,
          [field]: `${modal[field].slice(0, 5)}${control}${modal[field].slice(5)}`,
        });
        t.equal(res.statusCode, 400, `${field} with ${hex(control)}: 400`);
        t.same(res.json(), refusedFields({ [field]: CONTROL_MESSAGE }), `${field} with ${hex(control)}: names the field`);
        t.equal((await adminCall('GET', `/admin/resellers/${id}/api`)).statusCode, 404, 'nothing was created');
      }
    }
    const all = await adminCall('PUT', '/admin/resellers/ccall/api', {
      name: 'a\u0000',
      email: 'b\u0000@x.example',
      password: 'c\u0000cccccccc',
      allowedIp: '127.0.0.1',
    });
    t.same(all.json(), refusedFields({ name: CONTROL_MESSAGE, email: CONTROL_MESSAGE, password: CONTROL_MESSAGE }), 'every bad field at once');
    t.same(
      (await adminCall('PUT', '/admin/resellers/ccarray/api', { ...modal, allowedIp: ['127.0.0.1', '10.0.0.0/8\u0000'] })).json(),
      refusedFields({ allowedIp: CONTROL_MESSAGE }),
      'an allowedIp array entry',
    );
    // Surrounding whitespace is trimmed from the name and the e-mail, as before: not refused.
    const trimmed = await adminCall('PUT', '/admin/resellers/cctrim/api', { ...modal, name: ' meu nome\n', email: `${modal.email}\n` });
    t.equal(trimmed.statusCode, 201, trimmed.body);
    t.match(trimmed.json(), { name: 'meu nome', email: modal.email });
  });

  t.test('PUT /admin/resellers/{id}/api on a configured reseller: refused, and nothing changes', async (t) => {
    const before = (await adminCall('GET', `/admin/resellers/${reseller.resellerId}/api`)).json();
    const { access_token: access } = await issue(t);
    const base = { name: 'outro nome', email: reseller.email, allowedIp: '127.0.0.0/8' };
    for (const change of [{ name: 'outro\u0000nome' }, { password: 'nova-senha\u0000' }, { email: `x\u0000${reseller.email}` }]) {
      const res = await adminCall('PUT', `/admin/resellers/${reseller.resellerId}/api`, { ...base, ...change });
      t.equal(res.statusCode, 400, `${Object.keys(change)[0]}: 400`);
      t.same(res.json(), refusedFields({ [Object.keys(change)[0] as string]: CONTROL_MESSAGE }));
    }
    t.same((await adminCall('GET', `/admin/resellers/${reseller.resellerId}/api`)).json(), before, 'the access is unchanged');
    t.match((await introspect({ token: access })).json(), { active: true }, 'no token was revoked');
    t.equal((await token(passwordGrantBody(reseller))).statusCode, 200, 'the old password still works');
  });

  t.test('POST /admin/resource-servers: 400 naming the name; nothing is registered', async (t) => {
    const before = (await adminCall('GET', '/admin/resource-servers')).json();
    for (const control of ['\u0000', '\n', '\u007f']) {
      const res = await adminCall('POST', '/admin/resource-servers', { name: `DBS${control}API` });
      t.equal(res.statusCode, 400, `name with ${hex(control)}: 400`);
      t.same(res.json(), refusedFields({ name: CONTROL_MESSAGE }));
    }
    t.same((await adminCall('GET', '/admin/resource-servers')).json(), before, 'the list is unchanged');
  });

  t.test('admin path and query parameters with a NUL: 400 validation_failed naming them, never 500', async (t) => {
    const id = await adminCall('DELETE', '/admin/resource-servers/%00');
    t.same([id.statusCode, id.json()], [400, refusedFields({ id: CONTROL_MESSAGE })], 'a resource-server id');
    const reseller = await adminCall('GET', '/admin/resellers/a%00b/api');
    t.equal(reseller.statusCode, 400, 'a reseller id');
    t.match(reseller.json(), { error: 'validation_failed', fields: { resellerId: String } });
    const cursor = await adminCall('GET', '/admin/resellers?cursor=%00');
    t.same([cursor.statusCode, cursor.json()], [400, refusedFields({ cursor: CONTROL_MESSAGE })], 'a list cursor');
  });
});
