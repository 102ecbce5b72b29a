// Graceful drain (docs/deployment.md "Stopping"), on the compiled server as a real process with
// real sockets: after SIGTERM, readiness answers 503 at once, every request is still served for
// SHUTDOWN_DELAY seconds (a steady stream over keep-alive and fresh connections: none fails),
// each response then ends its connection, and only after the delay do the listeners stop
// accepting; a request in flight at that moment is still answered, and the process exits 0 by
// itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { baseEnv, compile } from './cli/cli-process.js';

const DELAY_S = 4;
/**
 * Requests sent up to this long before the delay ends must succeed. The margin absorbs the test
 * process's own lag on a loaded machine (a request is timed when the test sends it, not when the
 * server reads it); later ones may meet the closing listeners, and are not judged.
 */
const MARGIN_MS = 1500;
/** Generous on a loaded 2-core machine: the delay, then closing and the database. */
const EXIT_BOUND_MS = (DELAY_S + 20) * 1000;

t.test('SIGTERM: readiness fails first, requests are served for SHUTDOWN_DELAY, then the process exits', async (t) => {
  const { server } = await compile(t);
  const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-drain-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [server], {
    env: baseEnv({ HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', DATA_DIR: dataDir, SHUTDOWN_DELAY: String(DELAY_S) }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logs = logLines(child);
  const listening = await logs.waitFor((l) => l.msg === 'listening', 120_000);
  const publicUrl = `http://127.0.0.1:${listening.port}`;
  const adminUrl = `http://127.0.0.1:${listening.adminPort}`;
  const port = listening.port as number;

  for (const url of [publicUrl, adminUrl]) t.equal((await fetch(`${url}/health/ready`)).status, 200, `${url} ready before SIGTERM`);

  // An idle keep-alive connection, opened before SIGTERM: it must stay open through the delay.
  const idle = await rawConnection(port);
  const first = await idle.request('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
  t.match(first, /^HTTP\/1\.1 200 /);
  t.match(first, /\r\nconnection: keep-alive\r\n/i, 'kept alive before the drain');

  // The steady stream: keep-alive clients (fetch reuses connections) and fresh connections,
  // on the public routes a resource server and a reseller call.
  const results: { ok: boolean; sent: number; at: number; what: string; connection: string | null }[] = [];
  let streaming = true;
  const stream = async (what: string, call: () => Promise<Response>, expected: number) => {
    while (streaming) {
      const sent = Date.now();
      try {
        const response = await call();
        await response.arrayBuffer();
        results.push({
          ok: response.status === expected,
          sent,
          at: Date.now(),
          what: `${what} ${response.status}`,
          connection: response.headers.get('connection'),
        });
      } catch (err) {
        results.push({ ok: false, sent, at: Date.now(), what: `${what} ${(err as Error).cause ?? err}`, connection: null });
      }
    }
  };
  const introspect = () =>
    fetch(`${publicUrl}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('rs:wrong').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=abc',
    });
  const streams = Promise.all([
    stream('introspect', introspect, 401),
    stream('introspect', introspect, 401),
    stream('live', () => fetch(`${publicUrl}/health/live`), 200),
    stream('live (new connection)', () => fetch(`${publicUrl}/health/live`, { headers: { connection: 'close' } }), 200),
  ]);
  // Wait for the stream to be flowing before the signal.
  while (results.length < 20) await new Promise((resolve) => setTimeout(resolve, 10));

  // A request whose headers arrive during the delay and whose body arrives after the listeners
  // have closed: it is in flight when they close, and must be answered.
  const inFlight = await rawConnection(port);

  const sigterm = Date.now();
  child.kill('SIGTERM');

  const readiness: { at: number; public: number; admin: number; body: unknown }[] = [];
  for (;;) {
    const [p, a] = await Promise.all([fetch(`${publicUrl}/health/ready`), fetch(`${adminUrl}/health/ready`)]);
    readiness.push({ at: Date.now(), public: p.status, admin: a.status, body: await p.json() });
    await a.arrayBuffer();
    if (p.status === 503 && a.status === 503) break;
    if (Date.now() - sigterm > DELAY_S * 1000 - MARGIN_MS) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const failed = readiness.at(-1);
  t.equal(failed?.public, 503, 'public readiness 503 during the delay');
  t.equal(failed?.admin, 503, 'admin readiness 503 during the delay');
  t.same(failed?.body, { status: 'draining' });

  // Stream until shortly before the delay ends; the listeners closing is the next step.
  // Readiness stays 503 for the rest of the delay.
  const streamUntil = sigterm + DELAY_S * 1000 - MARGIN_MS;
  const laterReadiness: number[] = [];
  while (Date.now() < streamUntil) {
    // -1: refused, the listeners closed before the delay ended.
    const status = await fetch(`${adminUrl}/health/ready`).then(
      async (response) => {
        await response.arrayBuffer();
        return response.status;
      },
      () => -1,
    );
    laterReadiness.push(status);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.ok(
    laterReadiness.length > 0 && laterReadiness.every((status) => status === 503),
    `readiness 503 until the end of the delay (${laterReadiness.join(' ')})`,
  );
  const partialBody = 'token=abc';
  inFlight.write(
    `POST /oauth/introspect HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${Buffer.from('rs:wrong').toString('base64')}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${partialBody.length + 1}\r\n\r\n${partialBody}`,
  );
  streaming = false;
  await streams;

  const judged = results.filter((r) => r.sent < streamUntil);
  const drained = judged.filter((r) => r.at > sigterm);
  t.ok(drained.length >= 20, `${drained.length} requests answered after SIGTERM, during the delay`);
  t.same(
    judged.filter((r) => !r.ok).map((r) => r.what),
    [],
    'no request sent before the delay ended failed',
  );
  // Keep-alive clients were told to reconnect (to another instance) after their response: every
  // request sent once readiness had failed (so the drain had begun) was answered so.
  const afterReadinessFailed = drained.filter((r) => failed && r.sent > failed.at);
  t.ok(afterReadinessFailed.length > 10, `${afterReadinessFailed.length} requests sent once readiness had failed`);
  t.same(
    afterReadinessFailed.filter((r) => r.connection !== 'close').map((r) => `${r.what}: connection ${r.connection}`),
    [],
    'each of their responses says Connection: close',
  );

  // After the delay: the listeners stop accepting, the idle connection is closed.
  const refusedAt = await waitUntilRefused(port, sigterm + EXIT_BOUND_MS);
  t.ok(refusedAt - sigterm >= DELAY_S * 1000, `new connections refused only after the delay (${refusedAt - sigterm} ms after SIGTERM)`);
  await idle.waitClosed(5000);
  const idleClosedAt = idle.closedAt() ?? 0;
  t.ok(
    idleClosedAt - sigterm >= DELAY_S * 1000,
    `the idle keep-alive connection stayed open through the delay, closed with the listeners (${idleClosedAt - sigterm} ms after SIGTERM)`,
  );

  // The request that was in flight when the listeners closed is answered, and its connection ends.
  inFlight.write('x');
  const answer = await inFlight.response(5000);
  t.match(answer, /^HTTP\/1\.1 401 /, 'the in-flight request is answered');
  t.match(answer, /\r\nconnection: close\r\n/i);

  const exit = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), EXIT_BOUND_MS).unref())]);
  t.not(exit, 'timeout', `the process exits by itself within ${EXIT_BOUND_MS} ms`);
  if (exit !== 'timeout') {
    t.equal(exit.code, 0, 'exit status 0');
    t.ok(exit.at - sigterm >= DELAY_S * 1000, 'not before the delay');
  }
  t.ok(
    logs.lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM' && l.drainSeconds === DELAY_S),
    'the drain is logged',
  );
});

interface Logs {
  lines: Record<string, unknown>[];
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
}

function logLines(child: ChildProcess): Logs {
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters) wake();
  });
  return {
    lines,
    waitFor(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line in ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          const found = lines.find(match);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        child.once('exit', (code) => reject(new Error(`the server exited (${code}) before logging the line`)));
        check();
      });
    },
  };
}

interface RawConnection {
  write(text: string): void;
  /** Writes a request and resolves with the response head once it has arrived. */
  request(text: string): Promise<string>;
  /** The next complete response head received. */
  response(timeoutMs: number): Promise<string>;
  /** When the server closed the connection (Date.now()), once it has. */
  closedAt(): number | undefined;
  waitClosed(timeoutMs: number): Promise<void>;
}

/** A plain TCP connection speaking HTTP/1.1 by hand, so the test controls when each byte is sent. */
async function rawConnection(port: number): Promise<RawConnection> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  let received = '';
  let isClosed = false;
  let closedAt: number | undefined;
  const wakers = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    for (const wake of wakers) wake();
  });
  socket.on('close', () => {
    isClosed = true;
    closedAt = Date.now();
    for (const wake of wakers) wake();
  });
  const until = (done: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} not within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        wakers.delete(check);
        resolve();
      };
      wakers.add(check);
      check();
    });
  const response = async (timeoutMs: number) => {
    await until(() => received.includes('\r\n\r\n') || isClosed, timeoutMs, 'a response');
    const head = received.slice(0, received.indexOf('\r\n\r\n') + 4);
    received = '';
    return head;
  };
  return {
    write: (text) => socket.write(text),
    async request(text) {
      socket.write(text);
      return response(5000);
    },
    response,
    closedAt: () => closedAt,
    waitClosed: (timeoutMs) => until(() => isClosed, timeoutMs, 'the connection closing'),
  };
}

/** Resolves with the time a new connection to `port` is first refused. */
async function waitUntilRefused(port: number, deadline: number): Promise<number> {
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    if (refused) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the listener still accepts connections');
}
