// The two OpenAPI documents (issue 6): valid OpenAPI 3.0 by a maintained validator, each served
// only by its own port, and complete: every route a port registers is in its document, except
// the hidden ones listed here, and every operation says what it does and what it answers.
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { ADMIN_DOCS_PATH } from '../../src/openapi/admin-document.js';
import { BACKENDS, type TestApp, build } from '../helper.js';
import { fetchDocument, operations } from './openapi-document.js';
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

/** The routes deliberately left out of the documents (schema.hide), port by port. */
const hidden = (port: string): string[] =>
  port === 'public'
    ? [...docsUiRoutes(docsPath), ...health, 'OPTIONS /*' /* @fastify/cors preflight */]
    : [...docsUiRoutes(ADMIN_DOCS_PATH), ...health, 'GET /metrics', 'HEAD /metrics'];

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
