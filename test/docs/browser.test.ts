// The documentation page as a reseller's developer meets it: Debian's Chromium (driven by
// playwright-core) opens the Swagger UI of a running service — named after the service, with a
// <noscript> pointing at the JSON document for a browser without JavaScript — uses "Try it out"
// on the token operation with real credentials, in JSON and as a form, and sees a 200 with an
// access_token; then a resource server's credentials in the Authorize dialog make "Try it out"
// on introspection answer that token as active. The page must work under the public port's
// Content-Security-Policy.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import t from 'tap';
import { SERVICE_NAME } from '../../src/openapi/document-base.js';
import { BACKENDS, type SeededReseller, TEST_ADMIN_TOKEN, type TestApp, build, passwordGrantBody, seedReseller } from '../helper.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'artifacts');
/** Every wait of the page is bounded by this (a cold Chromium start and Swagger UI's first render included). */
const WAIT_MS = 30_000;
const FORM = 'application/x-www-form-urlencoded';
const TOKEN = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

// The token endpoint is tested on every backend elsewhere; the page only needs one.
const embedded = BACKENDS[0]!;

t.test(
  'Swagger UI at DOCS_PATH: the service named, a <noscript>, "Try it out" on the token operation, and the Authorize dialog',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (scripts/test-services.sh installs Debian's chromium): browser test skipped` },
  async (t) => {
    const ctx: TestApp = await build(t, embedded);
    // The listener is on 127.0.0.1: the client's allow-list must include it, or the token is a 403.
    const reseller: SeededReseller = await seedReseller(ctx.services, { allowedIp: '127.0.0.1' });
    const { publicUrl } = await ctx.listen();

    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: WAIT_MS,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    t.teardown(() => browser.close());
    const page: Page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    // Script errors and CSP violations ("Refused to …") surface as console errors.
    const pageErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Every request the page makes stays on this service: no CDN, no validator.swagger.io.
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(publicUrl) && !request.url().startsWith('data:')) foreign.push(request.url());
    });

    const docsUrl = `${publicUrl}${ctx.config.docsPath}`;
    const loaded = await page.goto(docsUrl, { waitUntil: 'load' });
    t.equal(loaded?.status(), 200, `GET ${docsUrl}`);
    t.match(loaded?.headers()['content-security-policy'], /script-src 'self'/, 'served under the CSP');
    const jsonUrl = `${ctx.config.docsPath}/json`;
    t.match(await loaded?.text(), new RegExp(`<noscript>.*<a href="${jsonUrl}">`, 's'), 'the HTML holds a <noscript> linking the JSON document');
    t.match(await page.title(), SERVICE_NAME, "the page's title names the service");
    // @fastify/swagger-ui puts its logo (Fastify's by default) in the top bar once Swagger UI has rendered it.
    const logo = page.locator('.topbar-wrapper a img');
    await logo.waitFor();
    const src = String(await logo.getAttribute('src'));
    t.match(src, /^data:image\/svg\+xml;base64,/, 'the top bar shows an image of our own');
    t.match(Buffer.from(src.split(',')[1] ?? '', 'base64').toString(), `>${SERVICE_NAME}</text>`, "that reads the service's name");
    t.equal(await page.locator('.topbar-wrapper a svg').count(), 0, 'and no other logo');

    // Swagger UI names each operation block operations-<tag>-<operationId>.
    const operation = page.locator('#operations-oauth-issueToken');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    const body = operation.locator('textarea.body-param__text');
    const example = JSON.parse(await body.inputValue()) as Record<string, unknown>;
    t.same(
      Object.keys(example),
      Object.keys(passwordGrantBody(reseller)),
      "the editor starts from the resellers' body of docs/resellers.md, and nothing else",
    );
    await body.fill(JSON.stringify(passwordGrantBody(reseller), null, 2));

    const [tokenResponse] = await Promise.all([
      page.waitForResponse((res) => res.url() === `${publicUrl}/oauth/token` && res.request().method() === 'POST'),
      operation.getByRole('button', { name: 'Execute' }).click(),
    ]);
    t.equal(tokenResponse.status(), 200, 'the browser got a 200 from POST /oauth/token');

    const shown = operation.locator('.live-responses-table .response');
    await shown.locator('.response-col_status', { hasText: '200' }).waitFor();
    const shownBody = JSON.parse((await shown.locator('.response-col_description pre').first().textContent()) ?? '') as Record<string, unknown>;
    t.match(shownBody, { token_type: 'Bearer', expires_in: 3600, access_token: TOKEN, scope: '' }, 'the page shows the token response');
    const claims = await ctx.services.tokenStore.findAccessToken(String(shownBody.access_token));
    t.match(claims, { clientId: reseller.clientId, username: reseller.email }, 'the access_token on the page is a real one');

    // The artifact: from the edited body to the server's response, as the developer saw them.
    mkdirSync(ARTIFACTS, { recursive: true });
    const from = await operation.locator('.opblock-section-request-body').boundingBox();
    const to = await shown.boundingBox();
    t.ok(from && to, 'the request body and the response are on the page');
    if (from && to) {
      // boundingBox() is relative to the viewport, a full-page clip to the page.
      const scrollY = Number(await page.evaluate('window.scrollY'));
      const clip = { x: 0, y: from.y + scrollY, width: page.viewportSize()?.width ?? 1280, height: to.y + to.height - from.y + 16 };
      await page.screenshot({ path: join(ARTIFACTS, 'docs-try-it-out.png'), fullPage: true, clip });
    }

    await t.test("the form body sends the password grant's parameters, and nothing else", async (t) => {
      await operation.locator('select.content-type').first().selectOption(FORM);
      const form = operation.locator('textarea.body-param__text');
      t.same(Object.keys(JSON.parse(await form.inputValue()) as object), Object.keys(passwordGrantBody(reseller)), 'the same example, as a form');
      await form.fill(JSON.stringify(passwordGrantBody(reseller), null, 2));
      const [res] = await Promise.all([
        page.waitForResponse((res) => res.url() === `${publicUrl}/oauth/token` && res.request().method() === 'POST'),
        operation.getByRole('button', { name: 'Execute' }).click(),
      ]);
      t.match(res.request().headers()['content-type'], /^application\/x-www-form-urlencoded/);
      const sent = new URLSearchParams(res.request().postData() ?? '');
      t.same([...sent.keys()], Object.keys(passwordGrantBody(reseller)), 'the parameters of the password grant, no refresh_token');
      t.equal(res.status(), 200, 'the browser got a 200 from POST /oauth/token');
      t.match(await res.json(), { token_type: 'Bearer', access_token: TOKEN });
    });

    await t.test("Authorize holds a resource server's credentials; introspection's Try it out answers the token", async (t) => {
      const registered = await ctx.adminApp.inject({
        method: 'POST',
        url: '/admin/resource-servers',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        payload: { name: 'DBS API' },
      });
      t.equal(registered.statusCode, 201, 'a resource server is registered');
      const server = registered.json() as { clientId: string; clientSecret: string };

      await page.locator('.auth-wrapper .authorize').click();
      const schemes = await page.locator('.auth-container h4 code').allTextContents();
      t.same(schemes, ['resourceServerBasic'], "the dialog offers the resource servers' HTTP Basic only");
      await page.locator('#auth-basic-username').fill(server.clientId);
      await page.locator('#auth-basic-password').fill(server.clientSecret);
      await page.locator('.auth-container button.authorize').click();
      await page.locator('.auth-container button', { hasText: 'Logout' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'docs-authorize.png') });
      await page.locator('.auth-container button.btn-done').click();

      const introspect = page.locator('#operations-oauth-introspectToken');
      await introspect.locator('.opblock-summary').click();
      await introspect.getByRole('button', { name: 'Try it out' }).click();
      await introspect.locator('textarea.body-param__text').fill(JSON.stringify({ token: shownBody.access_token }));
      const [res] = await Promise.all([
        page.waitForResponse((res) => res.url() === `${publicUrl}/oauth/introspect` && res.request().method() === 'POST'),
        introspect.getByRole('button', { name: 'Execute' }).click(),
      ]);
      t.equal(
        res.request().headers().authorization,
        `Basic ${Buffer.from(`${server.clientId}:${server.clientSecret}`).toString('base64')}`,
        'the page sent the credentials of the dialog',
      );
      t.equal(res.status(), 200, 'the browser got a 200 from POST /oauth/introspect');
      t.match(await res.json(), { active: true, client_id: reseller.clientId, username: reseller.email }, 'the token is active');
    });

    await t.test('without JavaScript, the page says where the document is', async (t) => {
      const context = await browser.newContext({ javaScriptEnabled: false });
      t.teardown(() => context.close());
      const bare = await context.newPage();
      bare.setDefaultTimeout(WAIT_MS);
      await bare.goto(docsUrl, { waitUntil: 'load' });
      const link = bare.getByRole('link', { name: jsonUrl });
      t.ok(await link.isVisible(), 'the <noscript> text and its link are shown');
      const [document] = await Promise.all([bare.waitForResponse(`${publicUrl}${jsonUrl}`), link.click()]);
      t.equal(document.status(), 200, 'the link leads to the OpenAPI document');
      t.match(await document.json(), { openapi: '3.0.3' });
    });

    t.same(pageErrors, [], 'no script error and no CSP violation in the console');
    t.same(foreign, [], 'the page loaded nothing from elsewhere');
  },
);
