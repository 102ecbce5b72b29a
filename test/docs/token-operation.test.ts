// What the public document says about POST /oauth/token (docs/resellers.md): one body schema per
// grant in both body types, with the resellers' body as the example, every status of the error
// table with its Passport body and headers, no security scheme where the credentials travel in
// the body; and that what it says is what the server does.
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import type { z } from 'zod';
import { tokenRouteSchema } from '../../src/openapi/token-operation.js';
import { BACKENDS, type SeededReseller, type TestApp, build, passwordGrantBody, seedReseller } from '../helper.js';
import { SUPPORTED_GRANTS } from '../../src/oauth/library-errors.js';
import { type OpenApiDocument, type Operation, fetchDocument, validFor } from './openapi-document.js';

// The document does not depend on the storage backend: the embedded one is enough.
const embedded = BACKENDS[0]!;
const FORM = 'application/x-www-form-urlencoded';

/** The error table of docs/resellers.md: the `error` codes each status answers with. */
const ERROR_TABLE: Record<string, string[]> = {
  400: ['invalid_grant', 'invalid_request', 'unsupported_grant_type', 'invalid_scope'],
  401: ['invalid_client'],
  403: ['unauthorized_client'],
  413: ['invalid_request'],
  429: ['too_many_requests'],
  500: ['server_error'],
  503: ['temporarily_unavailable'],
};

let ctx: TestApp;
let app: FastifyInstance;
let doc: OpenApiDocument;
let token: Operation;
let reseller: SeededReseller;

t.before(async () => {
  ctx = await build(t, embedded, { SCOPES: 'linhas faturas' });
  app = ctx.publicApp;
  reseller = await seedReseller(ctx.services);
  doc = await fetchDocument(app, `${ctx.config.docsPath}/json`);
  token = doc.paths['/oauth/token']?.post as Operation;
});

const examplesOf = (status: string) => Object.values(token.responses[status]?.content?.['application/json']?.examples ?? {}).map((e) => e.value);

t.test('the request: one schema per grant, each with what it requires and nothing else, in JSON and form', async (t) => {
  const content = token.requestBody?.content ?? {};
  t.same(Object.keys(content).sort(), ['application/json', FORM], 'both body types of docs/resellers.md');
  const required: Record<string, string[]> = {
    password: ['grant_type', 'client_id', 'client_secret', 'username', 'password'],
    refresh_token: ['grant_type', 'client_id', 'client_secret', 'refresh_token'],
  };
  t.same(Object.keys(required).sort(), [...SUPPORTED_GRANTS].sort(), 'every grant the service supports');
  for (const [type, media] of Object.entries(content)) {
    const variants = media.schema?.oneOf ?? [];
    t.same(
      variants.map((v) => v.properties?.grant_type?.enum),
      [['password'], ['refresh_token']],
      `${type}: oneOf, one grant_type each`,
    );
    for (const variant of variants) {
      const grant = String(variant.properties?.grant_type?.enum?.[0]);
      t.same(variant.required, required[grant], `${type} ${grant}: required`);
      t.same(Object.keys(variant.properties ?? {}).sort(), [...(required[grant] ?? []), 'scope'].sort(), `${type} ${grant}: its parameters`);
      t.equal(variant.additionalProperties, false, `${type} ${grant}: nothing else`);
    }
    const { password, refresh_token: refresh } = media.examples ?? {};
    const passwordBody = (password?.value ?? {}) as Record<string, unknown>;
    const refreshBody = (refresh?.value ?? {}) as Record<string, unknown>;
    t.same(Object.keys(password?.value ?? {}), Object.keys(passwordGrantBody(reseller)), `${type}: the resellers' body, field for field`);
    t.match(
      password?.value,
      { grant_type: 'password', client_id: '19', client_secret: /^[A-Za-z0-9]{40}$/, username: 'meu_nome@aqui.com.br', scope: '' },
      `${type}: the example values of docs/resellers.md, a 40-character secret`,
    );
    t.notOk('refresh_token' in passwordBody, `${type}: the password example sends no refresh_token`);
    t.match(
      refresh?.value,
      { grant_type: 'refresh_token', client_id: '19', refresh_token: /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/ },
      `${type}: the refresh example`,
    );
    t.notOk('username' in refreshBody || 'password' in refreshBody, `${type}: the refresh example sends no user credentials`);
    const schema = media.schema ?? {};
    for (const [name, example] of Object.entries(media.examples ?? {}))
      t.ok(validFor(schema, example.value), `${type} ${name}: valid for exactly one grant`);
    t.notOk(validFor(schema, { ...passwordBody, refresh_token: 'x' }), `${type}: a password grant with a refresh_token is not`);
    t.notOk(validFor(schema, { ...passwordBody, grant_type: 'client_credentials' }), `${type}: an unsupported grant is not`);
  }
  for (const rule of [
    'Empty-string parameters count as omitted',
    'HTTP Basic (RFC 6749 §2.3.1)',
    'Credentials in the query string',
    'a JSON number `19` is accepted too',
    "only its own reseller's user",
    "must fall inside one of the client's allowed networks",
    'revokes the whole family',
    '{"error":CODE,"error_description":TEXT,"message":TEXT}',
  ]) {
    t.ok(token.description?.includes(rule), `the description states: ${rule}`);
  }
});

t.test("the panel's words next to the API's", async (t) => {
  const words = { 'Client ID': 'client_id', 'Client Secret': 'client_secret', 'IP Liberado': 'CIDR' };
  for (const [panel, api] of Object.entries(words)) {
    const near = new RegExp(`\\*\\*${panel}\\*\\*[^.]*${api}|${api}[^.]*\\*\\*${panel}\\*\\*`);
    t.match(doc.info.description, near, `the page's description: ${panel} next to ${api}`);
    t.match(token.description, new RegExp(panel), `the token operation names ${panel}`);
  }
  const fields = (token.requestBody?.content['application/json']?.schema?.oneOf ?? [])[0]?.properties ?? {};
  t.match(fields.client_id?.description, /\*\*Client ID\*\*/, 'client_id says it is the Client ID of the panel');
  t.match(fields.client_secret?.description, /\*\*Client Secret\*\*/, 'client_secret says it is the Client Secret of the panel');
});

t.test('the responses: 200 and every status of the error table, Passport-shaped, with their headers', async (t) => {
  t.same(Object.keys(token.responses).sort(), ['200', ...Object.keys(ERROR_TABLE)].sort(), 'exactly these statuses');
  t.same(
    token.responses['200']?.content?.['application/json']?.schema?.required,
    ['token_type', 'expires_in', 'access_token', 'refresh_token', 'scope'],
    '200: the Passport token response',
  );
  for (const [status, codes] of Object.entries(ERROR_TABLE)) {
    const response = token.responses[status];
    t.same(response?.content?.['application/json']?.schema?.required, ['error', 'error_description', 'message'], `${status}: Passport's error body`);
    const examples = examplesOf(status) as { error: string; error_description: string; message: string }[];
    t.same([...new Set(examples.map((e) => e.error))].sort(), [...codes].sort(), `${status}: an example of each error code`);
    for (const example of examples)
      t.equal(example.message, example.error_description, `${status} ${example.error}: message repeats the description`);
  }
  for (const [status, response] of Object.entries(token.responses)) {
    t.match(
      response.headers,
      { 'Cache-Control': { schema: { example: 'no-store' } }, Pragma: { schema: { example: 'no-cache' } } },
      `${status}: no-store headers`,
    );
  }
  t.match(
    token.responses['401']?.headers?.['WWW-Authenticate'],
    { schema: { type: 'string', example: 'Basic realm="oauth"' } },
    '401: WWW-Authenticate',
  );
  for (const status of ['429', '503']) {
    t.match(token.responses[status]?.headers?.['Retry-After'], { schema: { type: 'integer', example: Number } }, `${status}: Retry-After`);
  }
  t.notOk(token.responses['400']?.headers?.['Retry-After'], 'no Retry-After where the server sends none');
});

t.test('every example is valid for the zod schema that validates or serialises it', async (t) => {
  for (const [type, media] of Object.entries(token.requestBody?.content ?? {})) {
    for (const [name, example] of Object.entries(media.examples ?? {})) {
      t.ok(tokenRouteSchema.body.safeParse(example.value).success, `request ${type} ${name}`);
    }
  }
  for (const [status, schema] of Object.entries(tokenRouteSchema.response)) {
    const examples = examplesOf(status);
    t.ok(examples.length > 0, `${status}: has examples`);
    for (const example of examples) t.ok((schema as z.ZodType).safeParse(example).success, `${status}: ${JSON.stringify(example)}`);
  }
});

t.test('security: the reseller operations take their credentials in the body; only introspection has a scheme', async (t) => {
  t.equal(token.security, undefined, '/oauth/token declares no scheme: Swagger UI adds no Basic next to the body secret');
  t.equal(doc.paths['/oauth/revoke']?.post?.security, undefined, '/oauth/revoke neither');
  t.same(doc.paths['/oauth/introspect']?.post?.security, [{ resourceServerBasic: [] }], '/oauth/introspect: a resource server, by HTTP Basic');
  const schemes = doc.components?.securitySchemes ?? {};
  t.same(Object.keys(schemes), ['resourceServerBasic'], 'the Authorize dialog offers that one scheme, no OAuth2 flow');
  t.match(schemes.resourceServerBasic, { type: 'http', scheme: 'basic', description: /Resellers leave this empty/ });
  t.match(doc.info.description, /Scopes this service knows: `linhas`, `faturas`/, 'the configured scopes are listed');
});

t.test('what the document says is what the server does', async (t) => {
  const example = token.requestBody?.content['application/json']?.examples?.password?.value as Record<string, string>;
  const body = { ...example, ...passwordGrantBody(reseller) };
  const json = await app.inject({ method: 'POST', url: '/oauth/token', payload: body, remoteAddress: '127.0.0.1' });
  t.equal(json.statusCode, 200, 'the JSON example with real credentials gets a 200');
  t.same(
    Object.keys(json.json()).sort(),
    [...(token.responses['200']?.content?.['application/json']?.schema?.required ?? [])].sort(),
    'shaped as documented',
  );
  const form = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: new URLSearchParams(body as Record<string, string>).toString(),
    headers: { 'content-type': FORM },
    remoteAddress: '127.0.0.1',
  });
  t.equal(form.statusCode, 200, 'so does the form body');
  const refreshExample = token.requestBody?.content[FORM]?.examples?.refresh_token?.value as Record<string, string>;
  const refreshed = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: new URLSearchParams({
      ...refreshExample,
      client_id: reseller.clientId,
      client_secret: reseller.clientSecret,
      refresh_token: String(form.json().refresh_token),
    }).toString(),
    headers: { 'content-type': FORM },
    remoteAddress: '127.0.0.1',
  });
  t.equal(refreshed.statusCode, 200, 'the refresh example with a real refresh token gets a 200');

  const refusals: [string, Record<string, unknown>][] = [
    ['unsupported_grant_type', { ...body, grant_type: 'client_credentials' }],
    ['invalid_grant', { ...body, password: 'not-the-password' }],
  ];
  for (const [example, payload] of refusals) {
    const refused = await app.inject({ method: 'POST', url: '/oauth/token', payload, remoteAddress: '127.0.0.1' });
    t.equal(refused.statusCode, 400);
    t.same(refused.json(), token.responses['400']?.content?.['application/json']?.examples?.[example]?.value, `the documented ${example} body`);
  }

  const basic = `Basic ${Buffer.from(`${reseller.clientId}:wrong-secret`).toString('base64')}`;
  const { client_secret: _secret, ...withoutSecret } = body;
  const wrongSecret = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: withoutSecret,
    headers: { authorization: basic },
    remoteAddress: '127.0.0.1',
  });
  t.equal(wrongSecret.statusCode, 401);
  t.same(wrongSecret.json(), examplesOf('401')[0], 'the documented invalid_client body');
  t.equal(
    wrongSecret.headers['www-authenticate'],
    token.responses['401']?.headers?.['WWW-Authenticate']?.schema.example,
    'the documented WWW-Authenticate',
  );

  const outside = await app.inject({ method: 'POST', url: '/oauth/token', payload: body, remoteAddress: '203.0.113.7' });
  t.equal(outside.statusCode, 403);
  t.same(outside.json(), examplesOf('403')[0], 'the documented unauthorized_client body, naming the address');
});
