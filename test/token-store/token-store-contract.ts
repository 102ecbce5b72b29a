// The contract every TokenStore implementation passes (STYLE.md: one interface, two
// implementations, the same tests).
import { randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import type { TokenClaims, TokenPair, TokenStore } from '../../src/token-store/token-store.js';

const now = () => Math.floor(Date.now() / 1000);

export function claims(overrides: Partial<TokenClaims> = {}): TokenClaims {
  return {
    jti: randomUUID(),
    clientId: '19',
    userId: '7',
    username: 'meu_nome@aqui.com.br',
    resellerId: '6',
    scope: '',
    iat: now(),
    exp: now() + 3600,
    familyId: randomUUID(),
    ...overrides,
  };
}

export function pair(overrides: Partial<TokenClaims> = {}, refreshTtl = 86400): TokenPair {
  const access = claims(overrides);
  return {
    access: { token: generateToken(), claims: access },
    refresh: { token: generateToken(), claims: { ...access, jti: randomUUID(), exp: now() + refreshTtl } },
  };
}

export function tokenStoreContract(t: Test, open: () => Promise<TokenStore>): void {
  let store: TokenStore;
  t.before(async () => {
    store = await open();
  });
  t.teardown(() => store.close());

  t.test('a saved pair is found by its tokens, with its claims', async (t) => {
    const p = pair();
    await store.savePair(p);
    t.same(await store.findAccessToken(p.access.token), p.access.claims);
    t.same(await store.findRefreshToken(p.refresh!.token), p.refresh!.claims);
    t.equal(await store.findAccessToken(p.refresh!.token), null, 'a refresh token is not an access token');
    t.equal(await store.findRefreshToken(p.access.token), null, 'an access token is not a refresh token');
    t.equal(await store.findAccessToken(generateToken()), null, 'unknown token');
  });

  t.test('expired tokens are gone', async (t) => {
    const p = pair({ exp: now() + 1 }, 1);
    await store.savePair(p);
    const deadline = Date.now() + 5000;
    while ((await store.findAccessToken(p.access.token)) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    t.equal(await store.findAccessToken(p.access.token), null);
    t.equal(await store.findRefreshToken(p.refresh!.token), null);
  });

  t.test('consuming a refresh token revokes it and its access token; a second use revokes the family', async (t) => {
    const first = pair();
    await store.savePair(first);
    const consumed = await store.consumeRefreshToken(first.refresh!.token);
    t.equal(consumed.status, 'consumed');
    t.equal(await store.findAccessToken(first.access.token), null, 'old access token stops working at once');
    t.equal(await store.findRefreshToken(first.refresh!.token), null);

    const second = pair({ familyId: first.access.claims.familyId });
    await store.savePair(second);
    t.ok(await store.findAccessToken(second.access.token), 'rotated pair works');

    t.same(await store.consumeRefreshToken(first.refresh!.token), { status: 'reused', familyId: first.access.claims.familyId });
    t.equal(await store.findAccessToken(second.access.token), null, 'reuse revoked the rotated access token');
    t.equal(await store.findRefreshToken(second.refresh!.token), null, 'reuse revoked the rotated refresh token');
    t.same(await store.consumeRefreshToken(generateToken()), { status: 'unknown' });
  });

  t.test('concurrent consumption: exactly one caller wins', async (t) => {
    const p = pair();
    await store.savePair(p);
    const results = await Promise.all(Array.from({ length: 5 }, () => store.consumeRefreshToken(p.refresh!.token)));
    t.equal(results.filter((r) => r.status === 'consumed').length, 1);
  });

  t.test('RFC 7009: revoking an access token leaves its refresh token usable', async (t) => {
    const p = pair();
    await store.savePair(p);
    t.same(await store.revokeAccessToken(p.access.token), p.access.claims);
    t.equal(await store.findAccessToken(p.access.token), null);
    t.ok(await store.findRefreshToken(p.refresh!.token));
    t.equal(await store.revokeAccessToken(p.access.token), null, 'second revocation finds nothing');
  });

  t.test('RFC 7009 §2.1: revoking a refresh token revokes its access token', async (t) => {
    const p = pair();
    await store.savePair(p);
    t.same(await store.revokeRefreshToken(p.refresh!.token), p.refresh!.claims);
    t.equal(await store.findAccessToken(p.access.token), null);
    t.equal(await store.findRefreshToken(p.refresh!.token), null);
    t.same(await store.consumeRefreshToken(p.refresh!.token), { status: 'unknown' }, 'a revoked token is not "reused"');
  });

  t.test('revocation cascades per user and per client, leaving others alone', async (t) => {
    const userId = randomUUID();
    const clientId = randomUUID();
    const mine = [pair({ userId, clientId }), pair({ userId, clientId })];
    const other = pair({ userId: randomUUID(), clientId: randomUUID() });
    for (const p of [...mine, other]) await store.savePair(p);
    t.equal(await store.revokeUserTokens(userId), 2);
    for (const p of mine) {
      t.equal(await store.findAccessToken(p.access.token), null);
      t.equal(await store.findRefreshToken(p.refresh!.token), null);
    }
    t.ok(await store.findAccessToken(other.access.token), 'another user keeps its tokens');

    const byClient = pair({ clientId });
    await store.savePair(byClient);
    t.equal(await store.revokeClientTokens(clientId), 1);
    t.equal(await store.findAccessToken(byClient.access.token), null);
    t.equal(await store.revokeClientTokens(clientId), 0);
  });

  t.test('revokeFamily removes the live pair of that family only', async (t) => {
    const a = pair();
    const b = pair();
    await store.savePair(a);
    await store.savePair(b);
    await store.revokeFamily(a.access.claims.familyId);
    t.equal(await store.findAccessToken(a.access.token), null);
    t.ok(await store.findAccessToken(b.access.token));
  });

  t.test('ping answers', async (t) => {
    await t.resolves(store.ping());
  });
}
