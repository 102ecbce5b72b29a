// A Redis outage seen from the resource servers (issue 4, issue 5): this test runs its own
// redis-server on a free port, builds the service against it, then freezes it (SIGSTOP: the
// connection stays open, nothing answers) and stops it (SIGTERM). Introspection must answer
// 503 temporarily_unavailable with Retry-After — never {"active":false} — within a bounded time,
// and recover by itself, without a restart, once that Redis is back on the same port.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import { BACKENDS, NO_STORE, build, passwordGrantBody, seedReseller } from '../helper.js';
import { freePort } from './dedicated-servers.js';

/** The bound on one answer during an outage: the 2 s Redis command timeout, plus slack. */
const ANSWER_BOUND_MS = 3000;
const RECOVERY_BOUND_MS = 15_000;
const unavailable = {
  error: 'temporarily_unavailable',
  error_description: 'The token store is temporarily unavailable. Try again shortly.',
  message: 'The token store is temporarily unavailable. Try again shortly.',
};

const hasRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** True when a Redis on `port` answers PING within 500 ms. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.on('connect', () => socket.write('PING\r\n'));
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await pings(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port} within 5 s`);
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

t.test('introspection during a Redis outage', { skip: hasRedisServer ? false : 'redis-server is not installed' }, async (t) => {
  const port = await freePort();
  let redis = await startRedis(port);
  t.teardown(async () => {
    redis.kill('SIGCONT');
    await stopRedis(redis);
  });
  // The database does not matter here: the embedded one, so only redis-server is needed.
  const embedded = BACKENDS.find((b) => b.name === 'embedded')!;
  const ctx = await build(t, embedded, { REDIS_URL: `redis://127.0.0.1:${port}` });
  t.equal(ctx.services.redis?.status, 'ready', 'the service uses the test redis-server');
  const reseller = await seedReseller(ctx.services);
  const rsSecret = `rs-${generateToken()}`;
  const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal(rsSecret));
  await ctx.services.events.publish('resource-servers');
  const authorization = `Basic ${Buffer.from(`${rs.clientId}:${rsSecret}`).toString('base64')}`;

  const issue = async () => {
    const res = await ctx.publicApp.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(reseller) });
    t.equal(res.statusCode, 200, 'token issued');
    return res.json().access_token as string;
  };
  const introspect = (token: string) =>
    ctx.publicApp.inject({ method: 'POST', url: '/oauth/introspect', headers: { authorization }, payload: { token } });

  /** During the outage: every answer is a 503 with Retry-After, each within the bound. */
  const assertUnavailable = async (t: Test, what: string, token: string) => {
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      const res = await introspect(token);
      const ms = performance.now() - start;
      t.equal(res.statusCode, 503, `${what} #${i + 1}: 503, not active:false`);
      t.same(res.json(), unavailable, `${what} #${i + 1}: whole body`);
      t.match(res.headers, { ...NO_STORE, 'retry-after': '5' }, `${what} #${i + 1}: Retry-After and no-store`);
      t.ok(ms < ANSWER_BOUND_MS, `${what} #${i + 1}: answered in ${ms.toFixed(0)} ms (bound ${ANSWER_BOUND_MS} ms)`);
    }
    const revoke = await ctx.publicApp.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { token, client_id: reseller.clientId, client_secret: reseller.clientSecret },
    });
    t.equal(revoke.statusCode, 503, `${what}: revocation answers 503 too (RFC 7009 §2.2.1)`);
    const verify = await ctx.adminApp.inject({ method: 'GET', url: '/auth/verify', headers: { authorization: `Bearer ${token}` } });
    t.equal(verify.statusCode, 503, `${what}: /auth/verify answers 503 too`);
  };

  /** Waits, bounded, until introspection answers 200 again; returns how long it took. */
  const recovery = async (token: string) => {
    const start = performance.now();
    for (let i = 0; i < 1000 && performance.now() - start < RECOVERY_BOUND_MS; i++) {
      const res = await introspect(token);
      if (res.statusCode === 200) return { ms: performance.now() - start, body: res.json() };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`introspection did not recover within ${RECOVERY_BOUND_MS} ms`);
  };

  const before = await issue();
  t.same((await introspect(before)).json().active, true, 'active while Redis is up');

  t.test('a frozen Redis (SIGSTOP): 503 within the command timeout, then recovery', async (t) => {
    redis.kill('SIGSTOP');
    await assertUnavailable(t, 'frozen', before);
    redis.kill('SIGCONT');
    const { ms, body } = await recovery(before);
    t.equal(body.active, true, `recovered in ${ms.toFixed(0)} ms; the token (still in Redis) is active again`);
  });

  t.test('a stopped Redis (SIGTERM): 503 at once, then recovery when it is back on the same port', async (t) => {
    await stopRedis(redis);
    await assertUnavailable(t, 'stopped', before);
    redis = await startRedis(port);
    const { ms, body } = await recovery(before);
    // --save '' --appendonly no: the restarted Redis is empty, so the old token is honestly unknown.
    t.same(body, { active: false }, `recovered by itself in ${ms.toFixed(0)} ms; the token died with that Redis's memory`);
    const after = await issue();
    t.equal((await introspect(after)).json().active, true, 'a token issued after the recovery is active');
    t.equal(ctx.services.resourceServerCredentials.size, 1, 'the resource server cache never depended on Redis');
  });
});
