// RFC 6749 §4.3.2: "the authorization server MUST protect the endpoint against brute force
// attacks". Failed logins are limited per (client, user), per (client, user) per day, per
// (client, address) and per address (429 too_many_requests with Retry-After); the
// lock-out policy of src/security/login-limiter.ts (docs/rate-limits.md) is what these cases pin
// down. Both backends; the two-instance case needs Redis.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { DependencyUnavailableError } from '../../src/errors.js';
import type { LimitName } from '../../src/security/login-limiter.js';
import { NO_STORE, type SeededReseller, type TestApp, build, eachBackend, passwordGrantBody, seedReseller } from '../helper.js';

const LIMITS = { user: 5, userDaily: 9, clientIp: 3, ip: 12 };
const WINDOW = 900;
const ENV = {
  LOGIN_MAX_FAILURES_USER: String(LIMITS.user),
  LOGIN_MAX_FAILURES_USER_DAILY: String(LIMITS.userDaily),
  LOGIN_MAX_FAILURES_CLIENT_IP: String(LIMITS.clientIp),
  LOGIN_MAX_FAILURES_IP: String(LIMITS.ip),
  LOGIN_WINDOW: String(WINDOW),
};

/** The 429 body says the wait Retry-After gives (RFC 6585 §4). */
const tooMany = (res: LightMyRequestResponse) => {
  const wait = res.headers['retry-after'];
  const description = `Too many failed attempts. Try again in ${wait} ${wait === '1' ? 'second' : 'seconds'}.`;
  return { error: 'too_many_requests', error_description: description, message: description };
};

function token(app: FastifyInstance, body: unknown, remoteAddress: string, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/oauth/token', payload: body as object, remoteAddress, headers });
}

const wrong = (r: SeededReseller) => passwordGrantBody(r, { password: 'not-the-password' });

async function rateLimited(ctx: TestApp, limit: LimitName): Promise<number> {
  const metric = await ctx.services.metrics.rateLimited.get();
  return metric.values.find((v) => v.labels.limit === limit)?.value ?? 0;
}

function assertTooMany(t: Test, res: LightMyRequestResponse) {
  t.equal(res.statusCode, 429, '429');
  t.same(res.json(), tooMany(res), 'whole body');
  t.match(res.headers, NO_STORE, 'no-store headers');
  const retryAfter = Number(res.headers['retry-after']);
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= WINDOW, `Retry-After is whole seconds within the window (${retryAfter})`);
}

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let app: FastifyInstance;

  t.before(async () => {
    ctx = await build(t, backend, ENV);
    app = ctx.publicApp;
  });

  t.test('N wrong passwords from one address → 429 too_many_requests with Retry-After, refused before argon2', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.1.0.0/24' });
    for (let i = 1; i <= LIMITS.clientIp; i++) {
      t.equal((await token(app, wrong(r), '10.1.0.1')).statusCode, 400, `failure ${i} is invalid_grant`);
    }
    const verifications = ctx.services.hasher.verifications;
    const before = await rateLimited(ctx, 'client_ip');
    const res = await token(app, passwordGrantBody(r), '10.1.0.1');
    assertTooMany(t, res);
    t.equal(ctx.services.hasher.verifications, verifications, 'not even the right password is verified');
    t.equal(await rateLimited(ctx, 'client_ip'), before + 1, 'counted in reseller_auth_rate_limited_total{limit="client_ip"}');
    assertTooMany(t, await token(app, wrong(r), '10.1.0.1'));
  });

  t.test('policy: the right password from another allowed address still works, and a success resets the user counter', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.2.0.0/24' });
    for (let i = 0; i < LIMITS.clientIp; i++) await token(app, wrong(r), '10.2.0.1');
    assertTooMany(t, await token(app, passwordGrantBody(r), '10.2.0.1'));
    t.equal((await token(app, passwordGrantBody(r), '10.2.0.2')).statusCode, 200, 'another allowed address logs in');

    // Without the reset the user counter (3 failures + this success) would pass its limit of 5 here.
    for (let i = 1; i <= 3; i++) t.equal((await token(app, wrong(r), '10.2.0.3')).statusCode, 400, `failure ${i} after the reset`);
    for (let i = 1; i <= 2; i++) t.equal((await token(app, wrong(r), '10.2.0.4')).statusCode, 400, `failure ${3 + i} after the reset`);

    // The user is now locked for addresses that never logged it in...
    const before = await rateLimited(ctx, 'user');
    assertTooMany(t, await token(app, passwordGrantBody(r), '10.2.0.5'));
    t.equal(await rateLimited(ctx, 'user'), before + 1, 'counted as the per-user limit');
    // ...but not for the address that did: an attacker elsewhere cannot lock the reseller out of its own address.
    t.equal((await token(app, passwordGrantBody(r), '10.2.0.2')).statusCode, 200, 'the known address is not locked out');
    t.equal((await token(app, passwordGrantBody(r), '10.2.0.5')).statusCode, 200, 'that success reset the user counter for everyone');
  });

  t.test("another reseller's client cannot push this user's counter", async (t) => {
    const victim = await seedReseller(ctx.services, { allowedIp: '10.3.0.0/24' });
    const rival = await seedReseller(ctx.services, { allowedIp: '10.4.0.0/24' });
    const guess = passwordGrantBody(rival, { username: victim.email, password: 'guess' });
    for (const [i, address] of ['10.4.0.1', '10.4.0.1', '10.4.0.1', '10.4.0.2', '10.4.0.2'].entries()) {
      t.equal((await token(app, guess, address)).statusCode, 400, `guess ${i + 1} through the rival's client`);
    }
    assertTooMany(t, await token(app, guess, '10.4.0.3'));
    t.equal((await token(app, passwordGrantBody(victim), '10.3.0.1')).statusCode, 200, 'the victim logs in from an address it never used');
  });

  t.test('failed client authentications count against the address and the client at it', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.5.0.0/24' });
    const neighbour = await seedReseller(ctx.services, { allowedIp: '10.5.0.0/24' });
    for (let i = 1; i <= LIMITS.clientIp; i++) {
      t.equal((await token(app, passwordGrantBody(r, { client_secret: `guess${i}` }), '10.5.0.1')).statusCode, 401, `secret guess ${i}`);
    }
    const verifications = ctx.services.hasher.verifications;
    assertTooMany(t, await token(app, passwordGrantBody(r), '10.5.0.1'));
    const basic = `Basic ${Buffer.from(`${r.clientId}:${r.clientSecret}`).toString('base64')}`;
    const { client_id: _id, client_secret: _secret, ...rest } = passwordGrantBody(r);
    assertTooMany(t, await token(app, rest, '10.5.0.1', { authorization: basic }));
    t.equal(ctx.services.hasher.verifications, verifications, 'refused before any password work');
    t.equal((await token(app, passwordGrantBody(neighbour), '10.5.0.1')).statusCode, 200, 'another client from that address is not blocked');
    t.equal((await token(app, passwordGrantBody(r), '10.5.0.2')).statusCode, 200, 'the client from another address is not blocked');
  });

  t.test('malformed requests count against the address; over the limit it is refused before its body is read', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.6.0.0/24' });
    const malformed: [unknown, Record<string, string>][] = [
      ['{"grant_type":', { 'content-type': 'application/json' }],
      ['grant_type=password', { 'content-type': 'text/plain' }],
      [{ grant_type: 'password', password: 123 }, {}],
      [{ ...passwordGrantBody(r), username: 'x'.repeat(5000) }, {}],
    ];
    let sent = 0;
    while (sent < LIMITS.ip) {
      const [body, headers] = malformed[sent % malformed.length] as [unknown, Record<string, string>];
      const res = await token(app, body, '10.6.0.1', headers);
      t.equal(res.statusCode, 400, `malformed request ${sent + 1}`);
      t.equal(res.json().error, 'invalid_request');
      sent += 1;
    }
    const before = await rateLimited(ctx, 'ip');
    assertTooMany(t, await token(app, passwordGrantBody(r), '10.6.0.1'));
    assertTooMany(t, await token(app, '{"grant_type":', '10.6.0.1', { 'content-type': 'application/json' }));
    t.equal(await rateLimited(ctx, 'ip'), before + 2, 'counted as the per-address limit');
    t.equal((await token(app, passwordGrantBody(r), '10.6.0.2')).statusCode, 200, 'other addresses are not affected');
  });

  t.test('concurrent guesses cannot overtake the counters: no more are verified at once than the budget has left', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.7.0.0/24' });
    const verifications = ctx.services.hasher.verifications;
    const answers = await Promise.all(Array.from({ length: 30 }, () => token(app, wrong(r), '10.7.0.1')));
    const statuses = answers.map((res) => res.statusCode).sort();
    t.same(statuses, [...Array(LIMITS.clientIp).fill(400), ...Array(30 - LIMITS.clientIp).fill(429)], 'exactly the limit got through');
    t.equal(ctx.services.hasher.verifications - verifications, LIMITS.clientIp, 'exactly the limit was verified');
  });

  t.test('only failures count: parallel correct logins from one fresh address all succeed, and leave the budget whole', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.7.1.0/24' });
    const answers = await Promise.all(Array.from({ length: 15 }, () => token(app, passwordGrantBody(r), '10.7.1.1')));
    t.same(
      answers.map((res) => res.statusCode),
      Array(15).fill(200),
      `15 parallel correct logins (limits ${LIMITS.clientIp} per client+address, ${LIMITS.user} per user): all 200`,
    );
    for (let i = 1; i <= LIMITS.clientIp; i++)
      t.equal((await token(app, wrong(r), '10.7.1.1')).statusCode, 400, `failure ${i}: the whole budget is left`);
    assertTooMany(t, await token(app, wrong(r), '10.7.1.1'));
  });

  t.test('a success clears the window counters, not the daily cap: a guesser gets no fresh budget from legitimate logins', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.10.0.0/24' });
    const home = '10.10.0.9';
    t.equal((await token(app, passwordGrantBody(r), home)).statusCode, 200, 'the reseller logs in from its address');
    let failures = 0;
    const fail = async (address: string) => {
      failures += 1;
      t.equal((await token(app, wrong(r), address)).statusCode, 400, `failure ${failures} of the day, from ${address}`);
    };
    // Up to the window's user limit (5), from two other allowed addresses (3 per client+address).
    for (const address of ['10.10.0.1', '10.10.0.1', '10.10.0.1', '10.10.0.2', '10.10.0.2']) await fail(address);
    assertTooMany(t, await token(app, passwordGrantBody(r), '10.10.0.3'));
    t.equal((await token(app, passwordGrantBody(r), home)).statusCode, 200, 'a legitimate login, which clears the window counter');
    for (const address of ['10.10.0.3', '10.10.0.3', '10.10.0.3', '10.10.0.4']) await fail(address);
    t.equal(failures, LIMITS.userDaily, 'the daily cap is reached while the window counter is at 4 of 5');
    const before = await rateLimited(ctx, 'user');
    const capped = await token(app, passwordGrantBody(r), '10.10.0.5');
    t.equal(capped.statusCode, 429, 'the right password from an address that never logged the user in: 429');
    t.same(capped.json(), tooMany(capped), 'whole body');
    t.ok(
      Number(capped.headers['retry-after']) > WINDOW,
      `Retry-After ${capped.headers['retry-after']} s runs to the end of the day, past the window`,
    );
    t.equal(await rateLimited(ctx, 'user'), before + 1, 'counted as the per-user limit');
    t.equal((await token(app, passwordGrantBody(r), home)).statusCode, 200, 'the address that logged the user in is exempt');
    t.equal((await token(app, passwordGrantBody(r), '10.10.0.5')).statusCode, 429, 'and its success does not clear the daily cap');
  });

  t.test('an attempt the database could not answer is not a failed login: retries during an outage lock nobody out', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.9.0.0/24' });
    const { clients, hasher } = ctx.services;
    const findWithUser = clients.findWithUser;
    const verify = hasher.verify;
    const unavailable = async (): Promise<never> => {
      throw new DependencyUnavailableError('database');
    };
    // The read of the client and user fails (before the attempt holds a slot), then a failure
    // once it holds its slots (given back, nothing counted).
    for (const [what, fail, restore] of [
      [
        'the read of the client and user',
        () => Object.assign(clients, { findWithUser: unavailable }),
        () => Object.assign(clients, { findWithUser }),
      ],
      ['the verification', () => Object.assign(hasher, { verify: unavailable }), () => Object.assign(hasher, { verify })],
    ] as const) {
      fail();
      try {
        for (let i = 1; i <= LIMITS.user + 1; i++) {
          t.equal((await token(app, passwordGrantBody(r), '10.9.0.1')).statusCode, 503, `${what} fails, retry ${i}: 503`);
        }
      } finally {
        restore();
      }
      t.equal((await token(app, passwordGrantBody(r), '10.9.0.1')).statusCode, 200, `${what} works again, and so does the reseller`);
    }
  });

  t.test('an IPv6 caller counts as its /64 (the smallest network a site is given, RFC 7421)', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '2001:db8::/32' });
    for (let i = 1; i <= LIMITS.clientIp; i++) await token(app, wrong(r), `2001:db8:0:7::${i}`);
    assertTooMany(t, await token(app, passwordGrantBody(r), '2001:db8:0:7::ff'));
    t.equal((await token(app, passwordGrantBody(r), '2001:db8:0:8::1')).statusCode, 200, 'another /64 is another address');
  });

  t.test(
    'two instances on one Redis share the counters',
    { skip: backend.name === 'embedded' && 'the in-process counters are per instance by design' },
    async (t) => {
      const second = await build(t, backend, ENV, { share: ctx });
      const one = app;
      const two = second.publicApp;
      const r = await seedReseller(ctx.services, { allowedIp: '10.8.0.0/24' });
      t.equal((await token(two, passwordGrantBody(r), '10.8.0.9')).statusCode, 200, 'instance 2 logs the user in from 10.8.0.9');

      for (const [i, instance] of [one, two, one].entries()) {
        t.equal((await token(instance, wrong(r), '10.8.0.1')).statusCode, 400, `failure ${i + 1}, on instance ${(i % 2) + 1}`);
      }
      assertTooMany(t, await token(two, passwordGrantBody(r), '10.8.0.1'));
      assertTooMany(t, await token(one, passwordGrantBody(r), '10.8.0.1'));

      for (let i = 0; i < 2; i++) t.equal((await token(two, wrong(r), '10.8.0.2')).statusCode, 400, `failure ${4 + i}, on instance 2`);
      assertTooMany(t, await token(one, passwordGrantBody(r), '10.8.0.4'));
      t.equal((await token(one, passwordGrantBody(r), '10.8.0.9')).statusCode, 200, 'instance 1 knows the address instance 2 saw succeed');
      t.equal((await token(two, passwordGrantBody(r), '10.8.0.4')).statusCode, 200, 'instance 2 sees the reset made by instance 1');
    },
  );
});
