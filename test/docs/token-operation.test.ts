// What the public document says about POST /oauth/token (issue 6, API.md): both body types with
// the resellers' body as the example, every status of the error table with its Passport body and
// headers, the security schemes Swagger UI needs; and that what it says is what the server does.
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import type { z } from 'zod';
import { tokenRouteSchema } from '../../src/openapi/token-operation.js';
import { BACKENDS, type SeededReseller, type TestApp, build, passwordGrantBody, seedReseller } from '../helper.js';
import { type OpenApiDocument, type Operation, fetchDocument } from './openapi-document.js';

// The document does not depend on the storage backend: the embedded one is enough.
const embedded = BACKENDS[0]!;
const FORM = 'application/x-www-form-urlencoded';

/** API.md's error table: the `error` codes each status answers with. */
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

t.test("the request: JSON and form bodies, every parameter, the resellers' body as the example", async (t) => {
  const content = token.requestBody?.content ?? {};
  t.same(Object.keys(content).sort(), ['application/json', FORM], 'both body types of API.md');
  for (const [type, media] of Object.entries(content)) {
    t.same(
      Object.keys(media.schema?.properties ?? {}).sort(),
      ['client_id', 'client_secret', 'grant_type', 'password', 'refresh_token', 'scope', 'username'],
      `${type}: every parameter`,
    );
    const password = media.examples?.password?.value as Record<string, unknown>;
    t.same(Object.keys(password).sort(), Object.keys(passwordGrantBody(reseller)).sort(), `${type}: the resellers' body, field for field`);
    t.match(password, { grant_type: 'password', client_id: '19', username: 'meu_nome@aqui.com.br', scope: '' }, "API.md's example values");
    t.match(media.examples?.refresh_token?.value, { grant_type: 'refresh_token', refresh_token: String });
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

t.test('the security schemes: HTTP Basic for clients, and the OAuth2 password flow of the Authorize dialog', async (t) => {
  t.same(token.security, [{}, { clientBasic: [] }], 'credentials in the body, or HTTP Basic');
  const schemes = doc.components?.securitySchemes ?? {};
  t.match(schemes.clientBasic, { type: 'http', scheme: 'basic' });
  t.match(schemes.resourceServerBasic, { type: 'http', scheme: 'basic' });
  t.same((schemes.passwordFlow as { flows: unknown }).flows, {
    password: {
      tokenUrl: '/oauth/token',
      refreshUrl: '/oauth/token',
      scopes: { linhas: 'The `linhas` scope (configured in SCOPES)', faturas: 'The `faturas` scope (configured in SCOPES)' },
    },
  });
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

  const wrongPassword = await app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: { ...body, password: 'not-the-password' },
    remoteAddress: '127.0.0.1',
  });
  t.equal(wrongPassword.statusCode, 400);
  t.same(
    wrongPassword.json(),
    token.responses['400']?.content?.['application/json']?.examples?.invalid_grant?.value,
    'the documented invalid_grant body',
  );

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
