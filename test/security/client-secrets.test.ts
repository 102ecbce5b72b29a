// Client authentication (RFC 6749 §2.3.1) wherever a secret is checked, /oauth/token and
// /oauth/revoke (RFC 7009 §2.1): both are limited alike (RFC 6819 §5.1.4.2.3), a secret imported from
// Passport as bcrypt is verified once and then sealed, the attempts against such a client take one
// hashing thread between them, and an unknown client id costs the same work as a known one with a
// wrong secret (no existence oracle by timing). docs/rate-limits.md is the policy. Both backends.
import bcrypt from 'bcrypt';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { waitFor } from '../faults/dedicated-servers.js';
import { NO_STORE, type SeededReseller, type TestApp, build, eachBackend, invalidClient, passwordGrantBody, seedReseller } from '../helper.js';

const LIMITS = { clientIp: 3, ip: 12 };
const ENV = {
  LOGIN_MAX_FAILURES_CLIENT_IP: String(LIMITS.clientIp),
  LOGIN_MAX_FAILURES_IP: String(LIMITS.ip),
  LOGIN_MAX_FAILURES_USER: '5',
  LOGIN_WINDOW: '900',
};
/** The 429 body says the wait Retry-After gives (RFC 6585 §4). */
const tooMany = (res: LightMyRequestResponse) => {
  const wait = res.headers['retry-after'];
  const description = `Too many failed attempts. Try again in ${wait} ${wait === '1' ? 'second' : 'seconds'}.`;
  return { error: 'too_many_requests', error_description: description, message: description };
};

const post = (app: FastifyInstance, url: string, payload: object, remoteAddress: string) =>
  app.inject({ method: 'POST', url, payload, remoteAddress });
const revoke = (app: FastifyInstance, r: { clientId: string; clientSecret: string }, remoteAddress: string, extra: object = {}) =>
  post(app, '/oauth/revoke', { token: 'not-a-token-of-anyone', client_id: r.clientId, client_secret: r.clientSecret, ...extra }, remoteAddress);

function assertTooMany(t: Test, res: LightMyRequestResponse, what: string) {
  t.equal(res.statusCode, 429, `${what}: 429`);
  t.same(res.json(), tooMany(res), `${what}: whole body`);
  t.match(res.headers, NO_STORE, `${what}: no-store headers`);
  t.ok(Number(res.headers['retry-after']) >= 1, `${what}: Retry-After ${res.headers['retry-after']}`);
}

/** The client's secret as Passport::hashClientSecrets() left it: bcrypt, $2y$ as Laravel writes it. */
async function importAsBcrypt(ctx: TestApp, r: SeededReseller, cost: number): Promise<void> {
  const hash = (await bcrypt.hash(r.clientSecret, cost)).replace(/^\$2b\$/, '$2y$');
  await ctx.services.db.prisma.client.update({
    where: { id: Number(r.clientId) },
    data: { secretCiphertext: null, secretKeyId: null, secretHash: hash },
  });
}

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let app: FastifyInstance;
  t.before(async () => {
    ctx = await build(t, backend, ENV);
    app = ctx.publicApp;
  });

  t.test('RFC 7009 §2.1: wrong secrets on /oauth/revoke count per client and address, as on /oauth/token', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.30.0.0/24' });
    for (let i = 1; i <= LIMITS.clientIp; i++) {
      const res = await revoke(app, { ...r, clientSecret: `guess${i}` }, '10.30.0.1');
      t.equal(res.statusCode, 401, `guess ${i}: 401`);
      t.same(res.json(), invalidClient, `guess ${i}: invalid_client`);
    }
    const verifications = ctx.services.hasher.verifications;
    assertTooMany(t, await revoke(app, r, '10.30.0.1'), 'the right secret from that address');
    assertTooMany(t, await post(app, '/oauth/token', passwordGrantBody(r), '10.30.0.1'), 'a token request of that client from that address');
    t.equal(ctx.services.hasher.verifications, verifications, 'refused before any password work');
    t.equal((await revoke(app, r, '10.30.0.2')).statusCode, 200, 'the client from another address is not blocked');
  });

  t.test('malformed revocation requests count against the address', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.31.0.0/24' });
    for (let i = 1; i <= LIMITS.ip; i++) {
      const res = await post(app, '/oauth/revoke', { token: 'x', client_secret: r.clientSecret }, '10.31.0.1');
      t.equal(res.json().error, 'invalid_request', `malformed request ${i}: invalid_request`);
    }
    assertTooMany(t, await revoke(app, r, '10.31.0.1'), 'a good request from that address');
    t.equal((await revoke(app, r, '10.31.0.2')).statusCode, 200, 'other addresses are not affected');
  });

  t.test('an imported bcrypt secret is verified once, then sealed like our own: every later check is a fast comparison', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.32.0.0/24' });
    await importAsBcrypt(ctx, r, 4);
    const hasher = ctx.services.hasher;
    let before = hasher.verifications;
    t.equal((await revoke(app, r, '10.32.0.1')).statusCode, 200, 'the imported secret authenticates');
    t.equal(hasher.verifications - before, 1, 'one bcrypt verification');
    const row = await ctx.services.db.prisma.client.findUniqueOrThrow({ where: { id: Number(r.clientId) } });
    t.equal(row.secretHash, null, 'the bcrypt hash is gone');
    t.ok(row.secretCiphertext && row.secretKeyId, 'the secret is sealed (AES-GCM under SECRET_KEY)');
    t.equal(ctx.services.secretBox.open({ keyId: row.secretKeyId as string, ciphertext: row.secretCiphertext as string }), r.clientSecret);

    before = hasher.verifications;
    t.equal((await revoke(app, r, '10.32.0.1')).statusCode, 200, 'the secret still authenticates');
    t.equal((await revoke(app, { ...r, clientSecret: 'wrong' }, '10.32.0.1')).statusCode, 401, 'a wrong one still does not');
    t.equal(hasher.verifications, before, 'neither ran a hash');
    t.equal((await post(app, '/oauth/token', passwordGrantBody(r), '10.32.0.1')).statusCode, 200, 'the password grant works with it');
    t.equal(hasher.verifications - before, 1, "only the user's password was hashed");
  });

  t.test('30 concurrent wrong-secret revocations against a bcrypt client: 429s, one bcrypt at a time, other resellers keep logging in', async (t) => {
    const victim = await seedReseller(ctx.services, { allowedIp: '10.33.0.0/24' });
    const other = await seedReseller(ctx.services, { allowedIp: '10.34.0.0/24' });
    // Passport's default cost is 10; 12 makes a queue of them obvious next to one argon2id.
    await importAsBcrypt(ctx, victim, 12);
    const hasher = ctx.services.hasher;
    // What one bcrypt check and one login cost on this machine right now (it may be loaded).
    let started = performance.now();
    await hasher.verify((await bcrypt.hash('x', 12)).replace(/^\$2b\$/, '$2y$'), 'y');
    const oneBcrypt = performance.now() - started;
    started = performance.now();
    t.equal((await post(app, '/oauth/token', passwordGrantBody(other), '10.34.0.1')).statusCode, 200, 'a login before the storm');
    const quietLogin = performance.now() - started;

    // The hashing threads' view: how many bcrypt checks are queued or running at once.
    let bcryptInFlight = 0;
    let mostBcryptInFlight = 0;
    const verify = hasher.verify;
    hasher.verify = async (hash, password) => {
      const slow = hash?.startsWith('$2') ?? false;
      if (slow) mostBcryptInFlight = Math.max(mostBcryptInFlight, ++bcryptInFlight);
      try {
        return await verify(hash, password);
      } finally {
        if (slow) bcryptInFlight -= 1;
      }
    };
    t.teardown(() => {
      hasher.verify = verify;
    });

    const before = hasher.verifications;
    const storm = Promise.all(Array.from({ length: 30 }, (_, i) => revoke(app, { ...victim, clientSecret: `wrong-${i}` }, '10.33.0.1')));
    await waitFor('the storm to reach the hashing threads', async () => hasher.verifications > before, 10_000);
    started = performance.now();
    const login = await post(app, '/oauth/token', passwordGrantBody(other), '10.34.0.1');
    const latency = performance.now() - started;
    const answers = await storm;

    t.equal(login.statusCode, 200, "another reseller's password grant during the storm");
    t.equal(mostBcryptInFlight, 1, 'never more than one bcrypt check of that client queued or running');
    // Unbounded, the 30 bcrypt checks all queue ahead of it: ~30 of them.
    const bound = quietLogin + 8 * oneBcrypt;
    t.ok(
      latency < bound,
      `its latency stays bounded: ${Math.round(latency)} ms (quiet ${Math.round(quietLogin)} ms, one bcrypt ${Math.round(oneBcrypt)} ms)`,
    );
    const refused = answers.filter((res) => res.statusCode === 429);
    const denied = answers.filter((res) => res.statusCode === 401);
    t.equal(refused.length + denied.length, 30, 'every attempt is a 401 or a 429');
    t.ok(refused.length > 0, `${refused.length} refused with 429`);
    for (const res of refused.slice(0, 3)) assertTooMany(t, res, 'a refused attempt');
    // The budget is re-checked before each bcrypt; the failure of the one just before may still be in flight.
    t.ok(denied.length <= LIMITS.clientIp + 1, `${denied.length} wrong secrets verified, budget ${LIMITS.clientIp}`);
    t.equal(hasher.verifications - before - 1, denied.length, 'one bcrypt per verified attempt, none for the refused');
  });

  t.test('unknown, disabled and wrong-secret clients cost the same work: one lookup, one decryption, no hash', async (t) => {
    const r = await seedReseller(ctx.services, { allowedIp: '10.35.0.0/24' });
    const disabled = await seedReseller(ctx.services, { allowedIp: '10.35.0.0/24' });
    await ctx.services.db.prisma.client.update({ where: { id: Number(disabled.clientId) }, data: { active: false } });
    const { clients, secretBox, hasher } = ctx.services;
    // A lookup: the client alone (revocation) or with the user (the password grant); one statement either way.
    const counts = { lookups: 0, open: 0 };
    const { findById, findWithUser } = clients;
    const open = secretBox.open;
    clients.findById = (id) => {
      counts.lookups += 1;
      return findById(id);
    };
    clients.findWithUser = (id, email) => {
      counts.lookups += 1;
      return findWithUser(id, email);
    };
    secretBox.open = (sealed) => {
      counts.open += 1;
      return open.call(secretBox, sealed);
    };
    t.teardown(() => {
      Object.assign(clients, { findById, findWithUser });
      secretBox.open = open;
    });
    const work = async (send: () => Promise<LightMyRequestResponse>) => {
      counts.lookups = 0;
      counts.open = 0;
      const verifications = hasher.verifications;
      const res = await send();
      t.equal(res.statusCode, 401, 'invalid_client');
      return { ...counts, hashes: hasher.verifications - verifications };
    };
    const expected = { lookups: 1, open: 1, hashes: 0 };
    const unknown = { clientId: '2000000000', clientSecret: r.clientSecret };
    for (const [endpoint, send] of [
      ['/oauth/revoke', (c: { clientId: string; clientSecret: string }, ip: string) => revoke(app, c, ip)],
      [
        '/oauth/token',
        (c: { clientId: string; clientSecret: string }, ip: string) => post(app, '/oauth/token', passwordGrantBody({ ...r, ...c }), ip),
      ],
    ] as const) {
      t.same(await work(() => send(unknown, '10.35.0.1')), expected, `${endpoint}: an unknown client id`);
      t.same(await work(() => send({ ...r, clientSecret: 'wrong' }, '10.35.0.2')), expected, `${endpoint}: a wrong secret`);
      t.same(await work(() => send(disabled, '10.35.0.3')), expected, `${endpoint}: a disabled client`);
    }
  });
});
