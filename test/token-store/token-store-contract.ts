// The contract every TokenStore implementation passes (one interface, two implementations, the
// same tests, so that choosing Redis or the in-process store is configuration), including the revocation invariant's two mechanisms: family
// tombstones and client generations (docs/revocation.md).
import { randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import { type TokenClaims, type TokenPair, type TokenStore, familyToken, newFamilyId } from '../../src/token-store/token-store.js';

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
    familyId: newFamilyId(),
    ...overrides,
  };
}

export function pair(overrides: Partial<TokenClaims> = {}, refreshTtl = 86400): TokenPair {
  const access = claims(overrides);
  return {
    access: { token: familyToken(access.familyId), claims: access },
    refresh: { token: familyToken(access.familyId), claims: { ...access, jti: randomUUID(), exp: now() + refreshTtl } },
  };
}

/** Saves with the client's current generation, as a grant with nothing in its way does. */
export async function save(store: TokenStore, p: TokenPair): Promise<boolean> {
  return store.savePair(p, await store.clientGeneration(p.access.claims.clientId));
}

export function tokenStoreContract(t: Test, open: () => Promise<TokenStore>): void {
  let store: TokenStore;
  t.before(async () => {
    store = await open();
  });
  t.teardown(() => store.close());

  t.test('a saved pair is found by its tokens, with its claims', async (t) => {
    const p = pair();
    t.equal(await save(store, p), true);
    t.same(await store.findAccessToken(p.access.token), p.access.claims);
    t.same(await store.findRefreshToken(p.refresh!.token), p.refresh!.claims);
    t.equal(await store.findAccessToken(p.refresh!.token), null, 'a refresh token is not an access token');
    t.equal(await store.findRefreshToken(p.access.token), null, 'an access token is not a refresh token');
    t.equal(await store.findAccessToken(familyToken(p.access.claims.familyId)), null, 'unknown token of the same family');
    t.equal(await store.findAccessToken(generateToken()), null, 'a token without a family is unknown');
    t.equal(await store.findAccessToken(`${p.access.token}x`), null, 'a longer token is unknown');
    t.equal(await store.findAccessToken(`${newFamilyId()}.${p.access.token.split('.')[1]}`), null, 'the secret part under another family is unknown');
  });

  t.test('expired tokens are gone', async (t) => {
    const p = pair({ exp: now() + 1 }, 1);
    await save(store, p);
    const deadline = Date.now() + 5000;
    while ((await store.findAccessToken(p.access.token)) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    t.equal(await store.findAccessToken(p.access.token), null);
    t.equal(await store.findRefreshToken(p.refresh!.token), null);
  });

  t.test('consuming a refresh token revokes it and its access token; a second use revokes the family', async (t) => {
    const first = pair();
    await save(store, first);
    const consumed = await store.consumeRefreshToken(first.refresh!.token);
    t.equal(consumed.status, 'consumed');
    t.equal(await store.findAccessToken(first.access.token), null, 'old access token stops working at once');
    t.equal(await store.findRefreshToken(first.refresh!.token), null);

    const familyId = first.access.claims.familyId;
    const second = pair({ familyId });
    t.equal(await save(store, second), true, 'the rotated pair is saved into the same family');
    t.ok(await store.findAccessToken(second.access.token), 'rotated pair works');

    t.same(await store.consumeRefreshToken(first.refresh!.token), { status: 'reused', familyId });
    t.equal(await store.findAccessToken(second.access.token), null, 'reuse revoked the rotated access token');
    t.equal(await store.findRefreshToken(second.refresh!.token), null, 'reuse revoked the rotated refresh token');
    t.equal(await save(store, pair({ familyId })), false, 'nothing can be saved into the dead family');
    t.same(await store.consumeRefreshToken(familyToken(newFamilyId())), { status: 'unknown' });
    t.same(await store.consumeRefreshToken(generateToken()), { status: 'unknown' }, 'a token without a family');
  });

  t.test('concurrent consumption: exactly one caller wins', async (t) => {
    const p = pair();
    await save(store, p);
    const results = await Promise.all(Array.from({ length: 5 }, () => store.consumeRefreshToken(p.refresh!.token)));
    t.equal(results.filter((r) => r.status === 'consumed').length, 1);
  });

  t.test('RFC 9700 §4.14.2: parallel rotations of one refresh token leave the whole family dead, in any order', async (t) => {
    // The winner consumes, a loser sees reuse and revokes the family, and the winner's save comes
    // last: the tombstone refuses it. Every order of save and reuse ends the same way.
    for (const saveFirst of [false, true]) {
      const p = pair();
      await save(store, p);
      const familyId = p.access.claims.familyId;
      const generation = await store.clientGeneration(p.access.claims.clientId);
      t.equal((await store.consumeRefreshToken(p.refresh!.token)).status, 'consumed');
      const next = pair({ familyId });
      let saved: boolean;
      if (saveFirst) {
        saved = await store.savePair(next, generation);
        t.equal((await store.consumeRefreshToken(p.refresh!.token)).status, 'reused');
      } else {
        t.equal((await store.consumeRefreshToken(p.refresh!.token)).status, 'reused');
        saved = await store.savePair(next, generation);
      }
      t.equal(saved, saveFirst, saveFirst ? 'saved before the reuse' : 'refused after the reuse');
      t.equal(await store.findAccessToken(next.access.token), null, `save ${saveFirst ? 'first' : 'last'}: the new access token is dead`);
      t.equal(await store.findRefreshToken(next.refresh!.token), null, `save ${saveFirst ? 'first' : 'last'}: the new refresh token is dead`);
    }
  });

  t.test('a cut-off refuses a save whose generation was read before it, and leaves nothing usable', async (t) => {
    const clientId = randomUUID();
    const generation = await store.clientGeneration(clientId);
    t.equal(await store.revokeClientTokens(clientId), 0);
    const late = pair({ clientId });
    t.equal(await store.savePair(late, generation), false);
    t.equal(await store.findAccessToken(late.access.token), null);
    t.equal(await store.findRefreshToken(late.refresh!.token), null);
    t.not(await store.clientGeneration(clientId), generation, 'the generation moved');
    const fresh = pair({ clientId });
    t.equal(await save(store, fresh), true, 'a grant that starts after the cut-off is not affected');
    t.ok(await store.findAccessToken(fresh.access.token));
  });

  t.test('RFC 7009: revoking an access token leaves its refresh token usable', async (t) => {
    const p = pair();
    await save(store, p);
    t.same(await store.revokeAccessToken(p.access.token), p.access.claims);
    t.equal(await store.findAccessToken(p.access.token), null);
    t.ok(await store.findRefreshToken(p.refresh!.token));
    t.equal(await store.revokeAccessToken(p.access.token), null, 'second revocation finds nothing');
    t.equal(await store.revokeAccessToken(generateToken()), null, 'a token without a family');
  });

  t.test('RFC 7009 §2.1: revoking a refresh token revokes its family, also right after a rotation', async (t) => {
    const p = pair();
    await save(store, p);
    t.equal(await store.revokeRefreshToken(p.refresh!.token, '20'), 'other_client', "another client's token is left alone");
    t.ok(await store.findAccessToken(p.access.token));
    t.equal(await store.revokeRefreshToken(p.refresh!.token, '19'), 'revoked');
    t.equal(await store.findAccessToken(p.access.token), null);
    t.equal(await store.findRefreshToken(p.refresh!.token), null);
    t.same(await store.consumeRefreshToken(p.refresh!.token), { status: 'unknown' }, 'a revoked token is not "reused"');
    t.equal(await store.revokeRefreshToken(p.refresh!.token, '19'), 'unknown', 'second revocation finds nothing');
    t.equal(await store.revokeRefreshToken(generateToken(), '19'), 'unknown', 'a token without a family');

    const rotated = pair();
    await save(store, rotated);
    const familyId = rotated.access.claims.familyId;
    await store.consumeRefreshToken(rotated.refresh!.token);
    const successor = pair({ familyId });
    await save(store, successor);
    t.equal(await store.revokeRefreshToken(rotated.refresh!.token, '19'), 'revoked', 'the rotated token still names its family');
    t.equal(await store.findAccessToken(successor.access.token), null, 'the pair its rotation issued is revoked');
  });

  t.test('a cut-off revokes every family of the client, leaving others alone', async (t) => {
    const clientId = randomUUID();
    const mine = [pair({ clientId }), pair({ clientId })];
    const other = pair({ clientId: randomUUID() });
    for (const p of [...mine, other]) await save(store, p);
    t.equal(await store.revokeClientTokens(clientId), 2);
    for (const p of mine) {
      t.equal(await store.findAccessToken(p.access.token), null);
      t.equal(await store.findRefreshToken(p.refresh!.token), null);
    }
    t.ok(await store.findAccessToken(other.access.token), 'another client keeps its tokens');
    t.equal(await store.revokeClientTokens(clientId), 0, 'nothing left to revoke');
  });

  t.test('revokeFamily removes the live pair of that family only, and for good', async (t) => {
    const a = pair();
    const b = pair();
    await save(store, a);
    await save(store, b);
    await store.revokeFamily(a.access.claims.familyId);
    t.equal(await store.findAccessToken(a.access.token), null);
    t.ok(await store.findAccessToken(b.access.token));
    t.equal(await save(store, pair({ familyId: a.access.claims.familyId })), false, 'the tombstone refuses a later save');
    const unborn = newFamilyId();
    await store.revokeFamily(unborn);
    t.equal(await save(store, pair({ familyId: unborn })), false, 'a family revoked before its first save never comes to life');
  });

  t.test('ping answers', async (t) => {
    await t.resolves(store.ping());
  });
}
