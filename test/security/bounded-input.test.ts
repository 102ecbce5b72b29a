// Bounded everything (docs/security.md): body size (413 over 64 KiB), parameter length (4096 characters,
// checked before any password work: a 2 MB password never reaches argon2), header size (431),
// the time a caller may take to send its headers (slowloris), and the time a token request may
// take at all. HTTP-level behaviour, independent of the storage backend: embedded only.
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { BODY_LIMIT } from '../../src/errors.js';
import { HANDLER_TIMEOUT_MS } from '../../src/routes/oauth/token.js';
import { BACKENDS, NO_STORE, type SeededReseller, type TestApp, build, form, passwordGrantBody, seedReseller } from '../helper.js';

const INVALID_REQUEST =
  'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.';
const TOO_LARGE = {
  error: 'invalid_request',
  error_description: `The request body is larger than ${BODY_LIMIT} bytes.`,
  message: `The request body is larger than ${BODY_LIMIT} bytes.`,
};
// The app's headersTimeout (src/app.ts) plus one connectionsCheckingInterval, plus slack for a busy machine.
const HEADERS_CUT_OFF_WITHIN_MS = 10_000 + 1_000 + 2_000;

interface RawExchange {
  response: string;
  closedAfterMs: number;
}

/**
 * Speaks raw HTTP/1.1 over TCP: writes `head`, then one more header line every 500 ms for as long
 * as `trickle` says, and collects whatever the server answers until it closes the connection.
 */
function raw(url: string, head: string, options: { trickle?: boolean; body?: string; giveUpAfterMs: number }): Promise<RawExchange> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port: Number(port) });
    const chunks: Buffer[] = [];
    let ticker: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${options.giveUpAfterMs} ms`));
    }, options.giveUpAfterMs);
    socket.on('connect', () => {
      socket.write(head);
      if (options.body) socket.write(options.body);
      let n = 0;
      if (options.trickle) ticker = setInterval(() => socket.write(`x-slow-${n++}: a\r\n`), 500);
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(ticker);
      resolve({ response: Buffer.concat(chunks).toString('latin1'), closedAfterMs: performance.now() - started });
    });
  });
}

let ctx: TestApp;
let app: FastifyInstance;
let reseller: SeededReseller;
let publicUrl: string;

t.before(async () => {
  ctx = await build(t, BACKENDS[0] ?? { name: 'embedded', skip: false });
  app = ctx.publicApp;
  reseller = await seedReseller(ctx.services);
  ({ publicUrl } = await ctx.listen());
});

const token = (payload: string | object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/oauth/token', payload, headers });

t.test('413 invalid_request for a body over 64 KiB, JSON or form, on every /oauth/* endpoint', async (t) => {
  const big = 'x'.repeat(BODY_LIMIT);
  for (const url of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
    for (const [type, payload] of [
      ['application/json', JSON.stringify({ grant_type: 'password', token: big })],
      ['application/x-www-form-urlencoded', form({ grant_type: 'password', token: big })],
    ] as const) {
      const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': type } });
      t.equal(res.statusCode, 413, `${url} ${type}: 413`);
      t.same(res.json(), TOO_LARGE, `${url} ${type}: whole body`);
      t.match(res.headers, NO_STORE, `${url} ${type}: no-store`);
    }
  }
});

t.test('a 2 MB password is refused before it reaches argon2; so is one over 4096 characters', async (t) => {
  const before = ctx.services.hasher.verifications;
  const huge = await token(passwordGrantBody(reseller, { password: 'p'.repeat(2 * 1024 * 1024) }));
  t.equal(huge.statusCode, 413, '2 MB: 413');
  t.same(huge.json(), TOO_LARGE);
  const hugeForm = await token(form(passwordGrantBody(reseller, { password: 'p'.repeat(2 * 1024 * 1024) })), {
    'content-type': 'application/x-www-form-urlencoded',
  });
  t.equal(hugeForm.statusCode, 413, '2 MB form: 413');

  for (const field of ['password', 'username', 'client_secret', 'scope']) {
    const res = await token(passwordGrantBody(reseller, { [field]: 'p'.repeat(4097) }));
    t.equal(res.statusCode, 400, `${field} of 4097 characters: 400`);
    t.match(res.json(), { error: 'invalid_request', error_description: INVALID_REQUEST, message: INVALID_REQUEST });
  }
  t.equal(ctx.services.hasher.verifications, before, 'not one argon2 verification');

  const atLimit = await token(passwordGrantBody(reseller, { password: 'p'.repeat(4096) }));
  t.equal(atLimit.statusCode, 400, 'a 4096-character password is verified (and wrong)');
  t.equal(atLimit.json().error, 'invalid_grant');
  t.equal(ctx.services.hasher.verifications, before + 1, 'exactly one verification');
});

t.test('over a real socket: a declared Content-Length over the limit is refused without reading the body', async (t) => {
  const head = `POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\nConnection: close\r\n\r\n`;
  const { response, closedAfterMs } = await raw(publicUrl, head, { body: '{"grant_type":"pass', giveUpAfterMs: 5000 });
  t.match(response, /^HTTP\/1\.1 413 /, '413');
  t.match(response, /"error":"invalid_request"/);
  t.ok(closedAfterMs < 3000, `answered in ${Math.round(closedAfterMs)} ms, without waiting for 10 MB`);
});

t.test('over a real socket: headers over 16 KiB → 431', async (t) => {
  const head = `GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\nConnection: close\r\n\r\n`;
  const { response } = await raw(publicUrl, head, { giveUpAfterMs: 5000 });
  t.match(response, /^HTTP\/1\.1 431 /, '431 Request Header Fields Too Large');
});

t.test('no request is held for long: a slowloris is cut off, a stuck token request answered 503', async (t) => {
  // Both take about ten seconds by design, so they run side by side.
  const slowloris = raw(publicUrl, 'POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n', { trickle: true, giveUpAfterMs: 30_000 });

  const hasher = ctx.services.hasher;
  const verify = hasher.verify;
  // A verification that never finishes: what a request queued behind a long login storm sees.
  hasher.verify = () => new Promise<boolean>(() => {});
  const started = performance.now();
  let stuck: Awaited<ReturnType<typeof token>>;
  try {
    stuck = await token(passwordGrantBody(reseller));
  } finally {
    hasher.verify = verify;
  }
  const stuckMs = performance.now() - started;
  t.equal(stuck.statusCode, 503, 'a token request stuck in the handler: 503');
  const description = 'The authorization server is temporarily unavailable. Try again shortly.';
  t.same(stuck.json(), { error: 'temporarily_unavailable', error_description: description, message: description });
  t.match(stuck.headers, { ...NO_STORE, 'retry-after': '5' });
  t.ok(stuckMs >= HANDLER_TIMEOUT_MS - 100 && stuckMs < HANDLER_TIMEOUT_MS + 2000, `answered after ${Math.round(stuckMs)} ms`);

  const { response, closedAfterMs } = await slowloris;
  t.ok(closedAfterMs < HEADERS_CUT_OFF_WITHIN_MS, `headers never finished: the connection was closed after ${Math.round(closedAfterMs)} ms`);
  t.match(response, /^(HTTP\/1\.1 408 |$)/, 'with a 408 or nothing at all');
  t.equal((await token(passwordGrantBody(reseller))).statusCode, 200, 'the service is fine afterwards');
});

t.test('the admin port has the same body limit, answered in its own shape', async (t) => {
  const res = await ctx.adminApp.inject({
    method: 'PUT',
    url: '/admin/resellers/big/api',
    headers: { authorization: `Bearer ${ctx.adminToken}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'x'.repeat(BODY_LIMIT) }),
  });
  t.equal(res.statusCode, 413);
  t.same(res.json(), { error: 'payload_too_large', message: `The request body is larger than ${BODY_LIMIT} bytes.` });
});
