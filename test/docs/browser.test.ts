// Issue 6, as a reseller's developer meets it: Debian's Chromium (driven by playwright-core) opens
// the Swagger UI of a running service, uses "Try it out" on the token operation with real
// credentials and sees a 200 with an access_token; then the Authorize dialog obtains a token with
// the OAuth2 password flow. The page must work under the public port's Content-Security-Policy.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import t from 'tap';
import { BACKENDS, type SeededReseller, type TestApp, build, passwordGrantBody, seedReseller } from '../helper.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'artifacts');
/** Every wait of the page is bounded by this (a cold Chromium start and Swagger UI's first render included). */
const WAIT_MS = 30_000;

// The token endpoint is tested on every backend elsewhere; the page only needs one.
const embedded = BACKENDS[0]!;

t.test(
  'Swagger UI at DOCS_PATH: "Try it out" on the token operation, and the Authorize dialog',
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

    // Swagger UI names each operation block operations-<tag>-<operationId>.
    const operation = page.locator('#operations-oauth-issueToken');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    const body = operation.locator('textarea.body-param__text');
    const example = JSON.parse(await body.inputValue()) as Record<string, unknown>;
    t.same(Object.keys(example).sort(), Object.keys(passwordGrantBody(reseller)).sort(), "the editor starts from the resellers' body of API.md");
    await body.fill(JSON.stringify(passwordGrantBody(reseller), null, 2));

    const [tokenResponse] = await Promise.all([
      page.waitForResponse((res) => res.url() === `${publicUrl}/oauth/token` && res.request().method() === 'POST'),
      operation.getByRole('button', { name: 'Execute' }).click(),
    ]);
    t.equal(tokenResponse.status(), 200, 'the browser got a 200 from POST /oauth/token');

    const shown = operation.locator('.live-responses-table .response');
    await shown.locator('.response-col_status', { hasText: '200' }).waitFor();
    const shownBody = JSON.parse((await shown.locator('.response-col_description pre').first().textContent()) ?? '') as Record<string, unknown>;
    t.match(
      shownBody,
      { token_type: 'Bearer', expires_in: 3600, access_token: /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/, scope: '' },
      'the page shows the token response',
    );
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

    await t.test('the Authorize dialog obtains a token with the OAuth2 password flow', async (t) => {
      await page.locator('.auth-wrapper .authorize').click();
      const flow = page.locator('.auth-container', { hasText: 'passwordFlow' });
      await flow.locator('#oauth_username').fill(reseller.email);
      await flow.locator('#oauth_password').fill(reseller.password);
      await flow.locator('#client_id_password').fill(reseller.clientId);
      await flow.locator('#client_secret_password').fill(reseller.clientSecret);
      // Swagger UI labels this button "Apply given OAuth2 credentials" for assistive technology.
      const [res] = await Promise.all([
        page.waitForResponse((res) => res.url() === `${publicUrl}/oauth/token` && res.request().method() === 'POST'),
        flow.locator('button.authorize', { hasText: 'Authorize' }).click(),
      ]);
      t.equal(res.status(), 200, 'the dialog got a 200 from POST /oauth/token');
      t.match(await res.json(), { token_type: 'Bearer', access_token: /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/ });
      await flow.locator('button', { hasText: 'Logout' }).waitFor();
      t.pass('the dialog shows the scheme as authorized');
      await page.screenshot({ path: join(ARTIFACTS, 'docs-authorize.png') });
    });

    t.same(pageErrors, [], 'no script error and no CSP violation in the console');
    t.same(foreign, [], 'the page loaded nothing from elsewhere');
  },
);
