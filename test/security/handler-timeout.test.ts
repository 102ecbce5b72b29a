// A token request that outlives its handler timeout is answered 503 temporarily_unavailable with
// `Connection: close`, and the connection really ends after that one response: a body still
// arriving or a handler still running must not leave a half-read request on a keep-alive
// connection, where Node would later answer it a second time (an unsolicited 408 once
// requestTimeout runs out). RFC 9112 §9.6: "close" means the connection ends after this response.
// HTTP-level behaviour over real sockets, independent of the storage backend: embedded only.
import net from 'node:net';
import t, { type Test } from 'tap';
import { HANDLER_TIMEOUT_MS } from '../../src/routes/oauth/token.js';
import { BACKENDS, type SeededReseller, type TestApp, build, passwordGrantBody, seedReseller } from '../helper.js';

const DESCRIPTION = 'The authorization server is temporarily unavailable. Try again shortly.';
// The app's requestTimeout (src/app.ts) plus its connectionsCheckingInterval: when Node would
// send its own 408 for a request still unread. The connection must have ended well before.
const NODE_408_AFTER_MS = 15_000 + 1_000;

interface Exchange {
  /** Everything the server sent on the connection, until it closed it. */
  received: string;
  /** Milliseconds from the request's first byte to the connection's end; null if it never ended. */
  closedAfterMs: number | null;
}

/** Writes `chunks` on a fresh connection (nothing more: a body it leaves short stays short) and collects the answer. */
function exchange(port: number, chunks: string[], giveUpAfterMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let started = 0;
    const done = (closedAfterMs: number | null) => {
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ received: Buffer.concat(received).toString('latin1'), closedAfterMs });
    };
    const giveUp = setTimeout(() => done(null), giveUpAfterMs);
    socket.on('connect', () => {
      started = performance.now();
      for (const chunk of chunks) socket.write(chunk);
    });
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => done(performance.now() - started));
  });
}

/** Status lines in a raw HTTP/1.1 byte stream: one per response. */
const statusLines = (raw: string) => raw.match(/HTTP\/1\.1 \d{3} [^\r\n]*/g) ?? [];

let ctx: TestApp;
let reseller: SeededReseller;
let port: number;

t.before(async () => {
  ctx = await build(t, BACKENDS[0] ?? { name: 'embedded', skip: false });
  reseller = await seedReseller(ctx.services);
  port = Number(new URL((await ctx.listen()).publicUrl).port);
});

function assertOneClosingAnswer(t: Test, { received, closedAfterMs }: Exchange) {
  t.same(statusLines(received), ['HTTP/1.1 503 Service Unavailable'], 'exactly one response, the 503');
  const [head = '', body = ''] = received.split('\r\n\r\n');
  t.match(head, /\r\nconnection: close\r\n/i, 'Connection: close');
  t.match(head, /\r\nretry-after: 5\r\n/i, 'Retry-After');
  t.match(head, /\r\ncache-control: no-store\r\n/i, 'no-store');
  t.same(JSON.parse(body), { error: 'temporarily_unavailable', error_description: DESCRIPTION, message: DESCRIPTION });
  t.ok(closedAfterMs !== null, 'the server closed the connection');
  t.ok(
    closedAfterMs !== null && closedAfterMs >= HANDLER_TIMEOUT_MS - 100 && closedAfterMs < NODE_408_AFTER_MS - 1_000,
    `closed after ${closedAfterMs === null ? 'never' : Math.round(closedAfterMs)} ms: right after the 503, long before a 408 could come`,
  );
}

t.test('a handler timeout answers once and ends the connection', async (t) => {
  // Both take HANDLER_TIMEOUT_MS by design, so they run side by side.
  const json = JSON.stringify(passwordGrantBody(reseller));
  const head = (length: number) =>
    `POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: keep-alive\r\n\r\n`;
  // A body that stops arriving half-way (a slow or stalled client).
  const slowBody = exchange(port, [head(json.length), json.slice(0, 20)], NODE_408_AFTER_MS + 5_000);

  // A whole request whose handler never finishes (a verification queued behind a long login storm).
  const hasher = ctx.services.hasher;
  const verify = hasher.verify;
  hasher.verify = () => new Promise<boolean>(() => {});
  let stuckHandler: Exchange;
  try {
    stuckHandler = await exchange(port, [head(json.length), json], HANDLER_TIMEOUT_MS + 5_000);
  } finally {
    hasher.verify = verify;
  }

  t.test('a request body that stops arriving', async (t) => assertOneClosingAnswer(t, await slowBody));
  t.test('a handler that never finishes, on a keep-alive connection', async (t) => assertOneClosingAnswer(t, stuckHandler));
});

t.test('the service is fine afterwards, and keeps ordinary connections alive', async (t) => {
  const json = JSON.stringify(passwordGrantBody(reseller));
  const request = `POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n${json}`;
  // Two requests on one connection: both answered 200, and the connection stays open afterwards.
  const { received, closedAfterMs } = await exchange(port, [request, request], 3_000);
  t.same(statusLines(received), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  t.notMatch(received, /connection: close/i);
  t.equal(closedAfterMs, null, 'still open');
});
