// The two OpenAPI documents: valid OpenAPI 3.0 by a maintained validator, each served only by its
// own port, and complete: every route a port registers is in its document, except the hidden ones
// listed here, and every operation says what it does and what it answers — each status it
// answers, with examples that are valid for their schemas and are what the service sends.
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance, InjectOptions } from 'fastify';
import t from 'tap';
import { ADMIN_DOCS_PATH } from '../../src/openapi/admin-document.js';
import { BACKENDS, TEST_ADMIN_TOKEN, type TestApp, build, seedReseller } from '../helper.js';
import { documentedExamples, fetchDocument, operations, validFor } from './openapi-document.js';
import { openApiPath, registeredRoutes } from './registered-routes.js';

// The documents do not depend on the storage backend: the embedded one is enough.
const embedded = BACKENDS[0]!;

let ctx: TestApp;
let docsPath: string;
const ports: { name: string; app: () => FastifyInstance; json: () => string }[] = [
  { name: 'public', app: () => ctx.publicApp, json: () => `${docsPath}/json` },
  { name: 'admin', app: () => ctx.adminApp, json: () => `${ADMIN_DOCS_PATH}/json` },
];

/** Swagger UI's own routes under `prefix` (schema.hide: they serve the documentation). */
const docsUiRoutes = (prefix: string) =>
  [
    prefix,
    `${prefix}/`,
    `${prefix}/static/index.html`,
    `${prefix}/static/swagger-initializer.js`,
    `${prefix}/static/*`,
    `${prefix}/json`,
    `${prefix}/yaml`,
  ].flatMap((url) => [`GET ${url}`, `HEAD ${url}`]);
const health = ['GET /health/live', 'HEAD /health/live', 'GET /health/ready', 'HEAD /health/ready'];

/** GET /auth/verify takes any method (nginx keeps the original one): one operation, documented under GET. */
const authVerifyOtherMethods = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((method) => `${method} /auth/verify`);

/** The other methods on the POST-only OAuth endpoints: 405 with Allow: POST (routes/oauth/index.ts), not operations. */
const oauthWrongMethods = ['/oauth/token', '/oauth/revoke', '/oauth/introspect'].flatMap((url) =>
  ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'QUERY'].map((method) => `${method} ${url}`),
);

/** The routes deliberately left out of the documents (schema.hide, or documented under another method), port by port. */
const hidden = (port: string): string[] =>
  port === 'public'
    ? [...docsUiRoutes(docsPath), ...health, 'OPTIONS /*' /* @fastify/cors preflight */, ...oauthWrongMethods]
    : [...docsUiRoutes(ADMIN_DOCS_PATH), ...health, 'GET /metrics', 'HEAD /metrics', ...authVerifyOtherMethods];

// Not the default /api/documentation (the browser test uses that): DOCS_PATH must move the UI and
// its document, since the DBS API's own documentation may share the host at the default path.
const DOCS_PATH = '/docs/reseller-auth';

t.before(async () => {
  ctx = await build(t, embedded, { DOCS_PATH });
  docsPath = ctx.config.docsPath;
});

t.test('both documents are valid OpenAPI 3.0 (@seriousme/openapi-schema-validator) and every $ref resolves', async (t) => {
  for (const port of ports) {
    const res = await port.app().inject({ method: 'GET', url: port.json() });
    t.equal(res.statusCode, 200, `${port.name}: GET ${port.json()}`);
    t.match(res.headers['content-type'], /^application\/json/);
    const validator = new Validator();
    const result = await validator.validate(res.json());
    t.same(result.errors, undefined, `${port.name}: no validation errors`);
    t.equal(result.valid, true, `${port.name}: valid`);
    t.equal(validator.version, '3.0', `${port.name}: OpenAPI 3.0`);
    t.doesNotThrow(() => validator.resolveRefs(), `${port.name}: every $ref resolves`);
  }
});

t.test('the public port serves its UI at DOCS_PATH; the admin document and UI exist only on the admin port', async (t) => {
  t.equal(docsPath, DOCS_PATH);
  const ui = await ctx.publicApp.inject({ method: 'GET', url: docsPath });
  t.equal(ui.statusCode, 200, `GET ${docsPath}`);
  t.match(ui.headers['content-type'], /^text\/html/);
  t.match(ui.body, /swagger-initializer\.js/);
  for (const url of ['/api/documentation', '/api/documentation/json']) {
    t.equal((await ctx.publicApp.inject({ method: 'GET', url })).statusCode, 404, `GET ${url}: 404 once DOCS_PATH moved the UI`);
  }
  for (const url of [ADMIN_DOCS_PATH, `${ADMIN_DOCS_PATH}/`, `${ADMIN_DOCS_PATH}/json`, `${ADMIN_DOCS_PATH}/yaml`]) {
    const res = await ctx.publicApp.inject({ method: 'GET', url });
    t.equal(res.statusCode, 404, `public port: GET ${url} is 404`);
    t.notMatch(res.body, /openapi|swagger/i, 'and says nothing of the admin API');
  }
  const adminUi = await ctx.adminApp.inject({ method: 'GET', url: ADMIN_DOCS_PATH });
  t.equal(adminUi.statusCode, 200, `admin port: GET ${ADMIN_DOCS_PATH}`);
  t.match(adminUi.headers['content-type'], /^text\/html/);
  t.equal(
    (await ctx.adminApp.inject({ method: 'GET', url: `${docsPath}/json` })).statusCode,
    404,
    'the admin port does not serve the public document',
  );

  const pub = await fetchDocument(ctx.publicApp, `${docsPath}/json`);
  const admin = await fetchDocument(ctx.adminApp, `${ADMIN_DOCS_PATH}/json`);
  t.same(
    Object.keys(pub.paths).filter((p) => !p.startsWith('/oauth/')),
    [],
    'the public document holds /oauth/* only',
  );
  t.same(
    Object.keys(admin.paths).filter((p) => !p.startsWith('/admin/') && p !== '/auth/verify'),
    [],
    'the admin document holds /admin/* and /auth/verify only',
  );
  t.ok(admin.paths['/auth/verify'], 'the admin document has /auth/verify');
});

for (const port of ports) {
  t.test(`${port.name} port: every registered route is documented, except the hidden ones listed in this test`, async (t) => {
    const app = port.app();
    const doc = await fetchDocument(app, port.json());
    const routes = registeredRoutes(app);
    t.ok(routes.length > 5, `the router lists ${routes.length} routes`);
    const expectedHidden = hidden(port.name);
    const registered = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const entry of expectedHidden) t.ok(registered.has(entry), `hidden route ${entry} exists (the list is not stale)`);

    const documented = (method: string, url: string) => doc.paths[openApiPath(url)]?.[method.toLowerCase()] !== undefined;
    for (const { method, url } of routes) {
      const name = `${method} ${url}`;
      if (expectedHidden.includes(name)) {
        t.notOk(documented(method, url), `${name} is hidden`);
      } else if (method === 'HEAD' && !documented('HEAD', url)) {
        // Fastify answers HEAD for every GET by itself; the GET documents it.
        t.ok(documented('GET', url), `${name}: the GET it mirrors is documented`);
      } else {
        t.ok(documented(method, url), `${name} is documented`);
      }
    }
    for (const { path, method } of operations(doc)) {
      const url = path.replace(/\{(\w+)\}/g, ':$1');
      t.ok(registered.has(`${method.toUpperCase()} ${url}`), `documented ${method.toUpperCase()} ${path} is a registered route`);
    }
  });

  t.test(`${port.name} port: every operation says what it does, what it takes and what it answers`, async (t) => {
    const doc = await fetchDocument(port.app(), port.json());
    const tags = new Set((doc.tags ?? []).map((tag) => tag.name));
    const schemes = doc.components?.securitySchemes ?? {};
    const ids = new Set<string>();
    for (const { path, method, op } of operations(doc)) {
      const name = `${method.toUpperCase()} ${path}`;
      t.ok(op.summary?.trim(), `${name}: summary`);
      t.ok(op.tags?.length && op.tags.every((tag) => tags.has(tag)), `${name}: tagged with a tag the document describes`);
      if (op.operationId) {
        t.notOk(ids.has(op.operationId), `${name}: operationId ${op.operationId} is unique`);
        ids.add(op.operationId);
      }
      const statuses = Object.keys(op.responses);
      t.ok(
        statuses.some((s) => s.startsWith('2')),
        `${name}: a success response`,
      );
      for (const [status, response] of Object.entries(op.responses)) {
        t.ok(response.description && response.description !== 'Default Response', `${name} ${status}: described`);
      }
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) t.ok(media.schema, `${name} ${type}: body schema`);
      for (const param of op.parameters ?? []) {
        if (param.in === 'path') t.ok(param.description, `${name}: path parameter ${param.name} described`);
      }
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) t.ok(schemes[scheme], `${name}: security scheme ${scheme} is defined`);
      }
    }
  });
}

/** What each admin operation answers (docs/admin-api.md), independently of how the document is built. */
const ADMIN_STATUSES: Record<string, number[]> = {
  'PUT /admin/resellers/{resellerId}/api': [200, 201, 400, 401, 409, 413, 415, 500, 503],
  'GET /admin/resellers/{resellerId}/api': [200, 400, 401, 404, 500, 503],
  'POST /admin/resellers/{resellerId}/api/secret': [200, 400, 401, 404, 500, 503],
  'DELETE /admin/resellers/{resellerId}/api': [204, 400, 401, 404, 500, 503],
  'GET /admin/resellers': [200, 400, 401, 500, 503],
  'POST /admin/resource-servers': [201, 400, 401, 413, 415, 500, 503],
  'GET /admin/resource-servers': [200, 401, 500, 503],
  'DELETE /admin/resource-servers/{id}': [204, 400, 401, 404, 500, 503],
  'GET /auth/verify': [200, 401, 503],
};

t.test('admin port: each operation declares the statuses it answers, no status class, /auth/verify once', async (t) => {
  const doc = await fetchDocument(ctx.adminApp, `${ADMIN_DOCS_PATH}/json`);
  const declared = Object.fromEntries(
    operations(doc).map(({ path, method, op }) => [`${method.toUpperCase()} ${path}`, Object.keys(op.responses).map(Number)]),
  );
  t.same(declared, ADMIN_STATUSES, 'exactly these operations and statuses');
  t.same(Object.keys(doc.paths['/auth/verify'] ?? {}), ['get'], '/auth/verify is one operation');
  t.match(doc.paths['/auth/verify']?.get?.description, /Any method is accepted/, 'which says that it takes any method');
  const schemes = doc.components?.securitySchemes ?? {};
  for (const { path, method, op } of operations(doc).filter((o) => o.path.startsWith('/admin/'))) {
    t.same(op.security, [{ adminToken: [] }], `${method.toUpperCase()} ${path}: the admin bearer token`);
  }
  t.match(schemes.adminToken, { type: 'http', scheme: 'bearer' });
});

for (const port of ports) {
  t.test(`${port.name} port: every answer with a body has examples, each valid for its schema`, async (t) => {
    const doc = await fetchDocument(port.app(), port.json());
    for (const { path, method, op } of operations(doc)) {
      const statusClasses = Object.keys(op.responses).filter((status) => /^\dXX$/i.test(status));
      t.same(statusClasses, [], `${method.toUpperCase()} ${path}: statuses, not status classes`);
      for (const [status, response] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(response.content ?? {})) {
          t.ok(Object.keys(media.examples ?? {}).length > 0, `${method.toUpperCase()} ${path} ${status} ${type}: examples`);
        }
        if (status === '204') t.notOk(response.content, `${method.toUpperCase()} ${path} 204: no content`);
      }
    }
    const examples = documentedExamples(doc);
    t.ok(examples.length > 20, `${examples.length} examples`);
    for (const { where, schema, value } of examples) t.ok(schema && validFor(schema, value), `${where} is valid for its schema`);
  });
}

t.test('the /oauth/revoke and /oauth/introspect bodies: what is required, the hint values, nothing else', async (t) => {
  const doc = await fetchDocument(ctx.publicApp, `${docsPath}/json`);
  const bodies = {
    '/oauth/revoke': { required: ['token', 'client_id', 'client_secret'], optional: ['token_type_hint'] },
    '/oauth/introspect': { required: ['token'], optional: ['token_type_hint'] },
  };
  for (const [path, { required, optional }] of Object.entries(bodies)) {
    const content = doc.paths[path]?.post?.requestBody?.content ?? {};
    t.same(Object.keys(content).sort(), ['application/json', 'application/x-www-form-urlencoded'], `${path}: JSON and form`);
    for (const [type, media] of Object.entries(content)) {
      const schema = media.schema ?? {};
      t.same(schema.required, required, `${path} ${type}: required`);
      t.same(Object.keys(schema.properties ?? {}).sort(), [...required, ...optional].sort(), `${path} ${type}: every parameter`);
      t.equal(schema.additionalProperties, false, `${path} ${type}: nothing else`);
      t.same(schema.properties?.token_type_hint?.enum, ['access_token', 'refresh_token'], `${path} ${type}: the hint's values`);
      t.notOk(
        validFor(schema, { token: 'x', token_type_hint: 'id_token', client_id: '19', client_secret: 's' }),
        `${path}: another hint is not documented`,
      );
    }
  }
  t.same(doc.paths['/oauth/introspect']?.post?.security, [{ resourceServerBasic: [] }], 'introspection: HTTP Basic of a resource server');
  t.equal(doc.paths['/oauth/revoke']?.post?.security, undefined, 'revocation: credentials in the body, no scheme');
});

t.test('admin port: the documented examples are what the service answers', async (t) => {
  const doc = await fetchDocument(ctx.adminApp, `${ADMIN_DOCS_PATH}/json`);
  const example = (operation: string, status: number, name: string) => {
    const [method, path] = operation.split(' ') as [string, string];
    return doc.paths[path]?.[method.toLowerCase()]?.responses[status]?.content?.['application/json']?.examples?.[name]?.value;
  };
  const header = (operation: string, status: number, name: string) => {
    const [method, path] = operation.split(' ') as [string, string];
    return doc.paths[path]?.[method.toLowerCase()]?.responses[status]?.headers?.[name]?.schema.example;
  };
  const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const taken = await seedReseller(ctx.services, { email: 'api@revenda-documentada.example' });
  const cases: { operation: string; status: number; example: string; request: InjectOptions }[] = [
    { operation: 'GET /admin/resellers', status: 401, example: 'unauthorized', request: { method: 'GET', url: '/admin/resellers' } },
    {
      operation: 'GET /admin/resellers/{resellerId}/api',
      status: 404,
      example: 'not_found',
      request: { method: 'GET', url: '/admin/resellers/6/api', headers: auth },
    },
    {
      operation: 'GET /admin/resellers/{resellerId}/api',
      status: 400,
      example: 'validation_failed',
      request: { method: 'GET', url: '/admin/resellers/revenda%206/api', headers: auth },
    },
    {
      operation: 'PUT /admin/resellers/{resellerId}/api',
      status: 400,
      example: 'validation_failed',
      request: {
        method: 'PUT',
        url: '/admin/resellers/6/api',
        headers: auth,
        payload: { name: 'meu nome aqui', email: 'meu_nome@aqui', password: 'minha-senha-secreta', allowedIp: '192.168.123.456/32' },
      },
    },
    {
      operation: 'PUT /admin/resellers/{resellerId}/api',
      status: 400,
      example: 'password_required',
      request: {
        method: 'PUT',
        url: '/admin/resellers/6/api',
        headers: auth,
        payload: { name: 'meu nome aqui', email: 'meu_nome@aqui.com.br', allowedIp: '192.168.123.0/24' },
      },
    },
    {
      operation: 'PUT /admin/resellers/{resellerId}/api',
      status: 400,
      example: 'bad_request',
      request: { method: 'PUT', url: '/admin/resellers/6/api', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":' },
    },
    {
      operation: 'PUT /admin/resellers/{resellerId}/api',
      status: 415,
      example: 'unsupported_media_type',
      request: { method: 'PUT', url: '/admin/resellers/6/api', headers: { ...auth, 'content-type': 'application/xml' }, payload: '<name/>' },
    },
    {
      operation: 'PUT /admin/resellers/{resellerId}/api',
      status: 409,
      example: 'conflict',
      request: {
        method: 'PUT',
        url: '/admin/resellers/6/api',
        headers: auth,
        payload: { name: 'meu nome aqui', email: taken.email, password: 'minha-senha-secreta', allowedIp: '192.168.123.0/24' },
      },
    },
    {
      operation: 'PUT /admin/resellers/{resellerId}/api',
      status: 400,
      example: 'unknown_field',
      request: {
        method: 'PUT',
        url: '/admin/resellers/6/api',
        headers: auth,
        payload: {
          name: 'meu nome aqui',
          email: 'meu_nome@aqui.com.br',
          password: 'minha-senha-secreta',
          allowedIp: '192.168.123.0/24',
          allowed_ip: '10.0.0.0/8',
        },
      },
    },
    {
      operation: 'GET /admin/resellers',
      status: 400,
      example: 'validation_failed',
      request: { method: 'GET', url: '/admin/resellers?limit=500', headers: auth },
    },
    {
      operation: 'POST /admin/resource-servers',
      status: 400,
      example: 'unknown_field',
      request: { method: 'POST', url: '/admin/resource-servers', headers: auth, payload: { name: 'DBS API', nome: 'DBS API' } },
    },
    {
      operation: 'POST /admin/resource-servers',
      status: 400,
      example: 'validation_failed',
      request: { method: 'POST', url: '/admin/resource-servers', headers: auth, payload: { name: '  ' } },
    },
    {
      operation: 'DELETE /admin/resource-servers/{id}',
      status: 404,
      example: 'not_found',
      request: { method: 'DELETE', url: '/admin/resource-servers/3f1c2b9e-8a4d-4c57-9e21-6d0f5b7a1c33', headers: auth },
    },
    { operation: 'GET /auth/verify', status: 401, example: 'no_token', request: { method: 'GET', url: '/auth/verify' } },
    {
      operation: 'GET /auth/verify',
      status: 401,
      example: 'invalid_token',
      request: { method: 'GET', url: '/auth/verify', headers: { authorization: 'Bearer unknown-token' } },
    },
  ];
  for (const { operation, status, example: name, request } of cases) {
    const res = await ctx.adminApp.inject(request);
    t.equal(res.statusCode, status, `${request.method} ${request.url}: ${status}`);
    t.same(res.json(), example(operation, status, name), `${operation} ${status}: the documented ${name} body`);
    if (operation.includes(' /admin/')) {
      t.equal(res.headers['cache-control'], header(operation, status, 'Cache-Control'), `${operation} ${status}: the documented Cache-Control`);
    }
  }
  const noToken = await ctx.adminApp.inject({ method: 'GET', url: '/admin/resellers' });
  t.equal(noToken.headers['www-authenticate'], header('GET /admin/resellers', 401, 'WWW-Authenticate'), 'the documented bearer challenge');
  const badToken = await ctx.adminApp.inject({ method: 'GET', url: '/auth/verify', headers: { authorization: 'Bearer unknown-token' } });
  t.equal(badToken.headers['www-authenticate'], header('GET /auth/verify', 401, 'WWW-Authenticate'), 'the documented invalid_token challenge');

  // Success examples: shaped as a real answer, and only the imported client's shows secretRotationRequired.
  const shown = await ctx.adminApp.inject({ method: 'GET', url: `/admin/resellers/${taken.resellerId}/api`, headers: auth });
  t.equal(shown.statusCode, 200);
  t.equal(header('GET /admin/resellers/{resellerId}/api', 200, 'Cache-Control'), 'no-store', 'the secret is documented as not to be cached');
  t.equal(shown.headers['cache-control'], 'no-store', 'and is not');
  const active = example('GET /admin/resellers/{resellerId}/api', 200, 'active') as Record<string, unknown>;
  t.same(Object.keys(active), Object.keys(shown.json()), 'the 200 example has the fields of a real answer, in order');
  t.notOk('secretRotationRequired' in active, 'an active access shows no secretRotationRequired');
  t.match(example('GET /admin/resellers/{resellerId}/api', 200, 'imported'), { clientSecret: null, secretRotationRequired: true });
});
