// The transition: with Passport's public key configured, introspection accepts the RS256
// JWTs Passport issued (signature, exp/nbf, the imported revocation flags, re-importable) with
// the same members as our own tokens; with Laravel's APP_KEY as well, a Passport refresh token is
// exchanged once for a pair of ours. Passport's data sits in a real MariaDB.
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import t from 'tap';
import { CLI_ACTOR, createAdmin } from '../../src/admin/index.js';
import { importDeps } from '../../src/passport/import-deps.js';
import { importPassport } from '../../src/passport/importer.js';
import { type TestApp, build, eachBackend, passwordGrantBody } from '../helper.js';
import {
  MYSQL_URL,
  NO_TOKEN_CHANGES,
  type PassportWorld,
  type SourceDb,
  createMysqlSource,
  importOptions,
  passportId,
  passportJwt,
  passportKeys,
  passportRefreshToken,
  seedPassport,
} from './passport-fixtures.js';

const ISSUER = 'https://auth.dbs.example';
const skip = MYSQL_URL ? false : 'TEST_MYSQL_URL is not set: the Passport transition suite is skipped (source scripts/test-services.sh)';
const INACTIVE = { active: false };

eachBackend(t, async (t, backend) => {
  t.test('Passport tokens during the transition', { skip }, async (t) => {
    const source: SourceDb = await createMysqlSource(t);
    const world: PassportWorld = await seedPassport(source);
    // Both forms of PASSPORT_PUBLIC_KEY: the path of oauth-public.key, or the PEM text with \n escapes.
    const publicKey =
      backend.name === 'embedded'
        ? join(t.testdir({ 'oauth-public.key': world.keys.publicPem }), 'oauth-public.key')
        : world.keys.publicPem.replace(/\n/g, '\\n');
    const env = { PASSPORT_PUBLIC_KEY: publicKey, PASSPORT_APP_KEY: world.appKey, ISSUER };
    const ctx: TestApp = await build(t, backend, env);
    const importNow = () => importPassport(importOptions(source.url), importDeps(ctx.services));
    t.equal((await importNow()).committed, true);

    const rsSecret = 'rs-secret-for-the-dbs-api-0123456789';
    const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal(rsSecret));
    await ctx.services.events.publish('resource-servers');
    const introspect = async (token: string, app = ctx.publicApp): Promise<Record<string, unknown>> => {
      const res: LightMyRequestResponse = await app.inject({
        method: 'POST',
        url: '/oauth/introspect',
        headers: { authorization: `Basic ${Buffer.from(`${rs.clientId}:${rsSecret}`).toString('base64')}` },
        payload: { token },
      });
      t.equal(res.statusCode, 200, res.body);
      return res.json();
    };
    const jwt = (jti: string, over: Partial<Parameters<typeof passportJwt>[1]> = {}, key = world.keys.privateKey) =>
      passportJwt(key, { clientId: 19, userId: 5, jti, exp: world.tokenExpiry, ...over });
    const refresh = (refreshToken: string, clientId = world.seis.clientId, clientSecret = world.seis.clientSecret) =>
      ctx.publicApp.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: '127.0.0.1',
        payload: { grant_type: 'refresh_token', client_id: String(clientId), client_secret: clientSecret, refresh_token: refreshToken, scope: '' },
      });

    await t.test('RFC 7662 §2.2: an imported, unrevoked Passport JWT is active, with the members of our own tokens', async (t) => {
      const token = await jwt(world.tokens.seis);
      const answer = await introspect(token);
      const iat = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).iat as number;
      t.same(answer, {
        active: true,
        token_type: 'Bearer',
        scope: '',
        client_id: '19',
        username: 'api.seis@revenda.example',
        sub: '5',
        reseller_id: '6',
        exp: Math.floor(world.tokenExpiry.getTime() / 1000),
        iat: Math.trunc(iat),
        iss: ISSUER,
        jti: world.tokens.seis,
      });
      t.not(iat, Math.trunc(iat), 'lcobucci/jwt writes fractional dates; the answer carries integers');
      const login = await ctx.publicApp.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: '127.0.0.1',
        payload: passwordGrantBody(world.sete),
      });
      const ours = await introspect(login.json().access_token);
      t.same(Object.keys(answer), Object.keys(ours), 'same members, same order');
      t.match(await introspect(await jwt(world.tokens.sete, { clientId: 23, userId: 7 })), {
        active: true,
        client_id: '23',
        sub: '7',
        reseller_id: '7',
      });
    });

    await t.test(
      'removing the key switches the transition off',
      { skip: backend.name === 'embedded' && 'one PGlite directory cannot be opened twice' },
      async (t) => {
        // The same database and SECRET_KEY (the resource server's secret must open), no Passport key.
        const off = await build(t, backend, {
          ISSUER,
          DATABASE_URL: ctx.config.databaseUrl as string,
          SECRET_KEY: (ctx.config.secretKey as Buffer).toString('base64'),
        });
        await off.services.events.publish('resource-servers');
        const token = await jwt(world.tokens.seis);
        t.equal((await introspect(token)).active, true, 'active where the key is configured');
        t.same(await introspect(token, off.publicApp), INACTIVE, 'inactive where it is not');
        const res = await off.publicApp.inject({
          method: 'POST',
          url: '/oauth/token',
          remoteAddress: '127.0.0.1',
          payload: {
            grant_type: 'refresh_token',
            client_id: '23',
            client_secret: world.sete.clientSecret,
            refresh_token: passportRefreshToken(world.appKeyBytes, {
              clientId: 23,
              refreshTokenId: world.refresh.sete,
              accessTokenId: world.tokens.sete,
              userId: 7,
              expireTime: Math.floor(Date.now() / 1000) + 86_400,
            }),
          },
        });
        t.same([res.statusCode, res.json().hint], [400, 'Token is invalid or has expired']);
      },
    );
    await t.test('inactive: revoked, expired, not yet valid, forged, not imported, or of another client or user', async (t) => {
      t.same(await introspect(await jwt(world.tokens.seisRevoked)), INACTIVE, 'revoked in Passport');
      t.same(await introspect(await jwt(world.tokens.seis, { exp: new Date(Date.now() - 1000) })), INACTIVE, 'exp passed');
      t.same(await introspect(await jwt(world.tokens.seis, { nbf: new Date(Date.now() + 60_000) })), INACTIVE, 'nbf ahead');
      t.same(await introspect(await jwt(world.tokens.seis, {}, passportKeys().privateKey)), INACTIVE, 'signed by another key');
      t.same(await introspect(await jwt(world.tokens.seisExpired)), INACTIVE, 'expired in Passport: never imported');
      t.same(await introspect(await jwt(world.tokens.otherUser, { userId: 8 })), INACTIVE, 'a user of no reseller: not imported');
      t.same(await introspect(await jwt(world.tokens.seis, { clientId: 23 })), INACTIVE, 'aud is not the imported client');
      t.same(await introspect(await jwt(world.tokens.seis, { userId: 7 })), INACTIVE, 'sub is not the imported user');
      const [header, payload] = (await jwt(world.tokens.seis)).split('.');
      t.same(await introspect(`${header}.${payload}.`), INACTIVE, 'no signature');
    });

    await t.test('a revocation imported again from Passport takes effect at once, and is never undone', async (t) => {
      const token = await jwt(world.tokens.sete, { clientId: 23, userId: 7 });
      t.equal((await introspect(token)).active, true, 'active (and now cached)');
      await source.exec('UPDATE oauth_access_tokens SET revoked = 1 WHERE id = ?', [world.tokens.sete]);
      const report = await importNow();
      t.match(report.tokens, { accessTokensRevoked: 1 });
      t.same(await introspect(token), INACTIVE);
      await source.exec('UPDATE oauth_access_tokens SET revoked = 0 WHERE id = ?', [world.tokens.sete]);
      t.same((await importNow()).tokens, NO_TOKEN_CHANGES);
      t.same(await introspect(token), INACTIVE);
    });

    await t.test('a client switched off here makes its Passport tokens inactive', async (t) => {
      const token = await jwt(world.tokens.seis);
      t.equal((await introspect(token)).active, true);
      await ctx.services.db.prisma.client.update({ where: { id: 19 }, data: { active: false } });
      await ctx.services.events.publish('clients');
      t.same(await introspect(token), INACTIVE);
      await ctx.services.db.prisma.client.update({ where: { id: 19 }, data: { active: true } });
      await ctx.services.events.publish('clients');
      t.equal((await introspect(token)).active, true);
    });

    await t.test('a Passport refresh token is exchanged once for a pair of ours', async (t) => {
      const expireTime = Math.floor(Date.now() / 1000) + 30 * 86_400;
      const seisRefresh = passportRefreshToken(world.appKeyBytes, {
        clientId: 19,
        refreshTokenId: world.refresh.seis,
        accessTokenId: world.tokens.seis,
        userId: 5,
        expireTime,
      });
      const wrongClient = await refresh(
        passportRefreshToken(world.appKeyBytes, {
          clientId: 23,
          refreshTokenId: world.refresh.sete,
          accessTokenId: world.tokens.sete,
          userId: 7,
          expireTime,
        }),
      );
      t.same([wrongClient.statusCode, wrongClient.json().hint], [400, 'Token has been revoked'], "another client's token is not confirmed to exist");
      const forged = await refresh(
        passportRefreshToken(Buffer.alloc(32, 1), {
          clientId: 19,
          refreshTokenId: world.refresh.seis,
          accessTokenId: world.tokens.seis,
          userId: 5,
          expireTime,
        }),
      );
      t.same([forged.statusCode, forged.json().error, forged.json().hint], [400, 'invalid_grant', 'Cannot decrypt the refresh token']);
      const expired = await refresh(
        passportRefreshToken(world.appKeyBytes, {
          clientId: 19,
          refreshTokenId: world.refresh.seis,
          accessTokenId: world.tokens.seis,
          userId: 5,
          expireTime: 1,
        }),
      );
      t.same([expired.statusCode, expired.json().hint], [400, 'Token has expired']);

      const res = await refresh(seisRefresh);
      t.equal(res.statusCode, 200, res.body);
      const pair = res.json() as { access_token: string; refresh_token: string };
      t.match(pair, {
        token_type: 'Bearer',
        expires_in: 3600,
        access_token: /^[\w-]{22}\.[\w-]{43}$/,
        refresh_token: /^[\w-]{22}\.[\w-]{43}$/,
        scope: '',
      });
      t.match(await introspect(pair.access_token), {
        active: true,
        client_id: '19',
        sub: '5',
        reseller_id: '6',
        username: 'api.seis@revenda.example',
      });
      t.same(await introspect(await jwt(world.tokens.seis)), INACTIVE, 'its Passport access token is revoked, as League does on refresh');

      const ours = await refresh(pair.refresh_token);
      t.equal(ours.statusCode, 200, 'the new pair refreshes like any pair of ours');
      const rotated = ours.json() as { access_token: string; refresh_token: string };

      // RFC 9700 §4.14.2: presenting the Passport refresh token again is a reuse; the pair its
      // exchange issued, and every rotation of it, is revoked with it.
      const again = await refresh(seisRefresh);
      t.same([again.statusCode, again.json().error, again.json().hint], [400, 'invalid_grant', 'Token has been revoked'], 'once only');
      t.same(await introspect(rotated.access_token), INACTIVE, 'the rotated pair of the exchange is revoked by the reuse');
      t.same([(await refresh(rotated.refresh_token)).statusCode], [400], 'and its refresh token too');
      // Passport still says "not revoked": a re-import leaves the exchange standing.
      t.same((await importNow()).changes, []);
      t.same(await introspect(await jwt(world.tokens.seis)), INACTIVE);
      t.same([(await refresh(seisRefresh)).statusCode], [400]);
    });

    await t.test('parallel exchanges of one Passport refresh token leave nothing usable, whoever wins', async (t) => {
      const seteRefresh = passportRefreshToken(world.appKeyBytes, {
        clientId: world.sete.clientId,
        refreshTokenId: world.refresh.sete,
        accessTokenId: world.tokens.sete,
        userId: world.sete.userId,
        expireTime: Math.floor(Date.now() / 1000) + 30 * 86_400,
      });
      const results = await Promise.all([0, 1, 2].map(() => refresh(seteRefresh, world.sete.clientId, world.sete.clientSecret)));
      t.ok(
        results.every((res) => res.statusCode === 200 || res.json().error === 'invalid_grant'),
        results.map((res) => res.statusCode).join(),
      );
      for (const res of results.filter((r) => r.statusCode === 200)) {
        const pair = res.json() as { access_token: string; refresh_token: string };
        t.same(await introspect(pair.access_token), INACTIVE, 'the winner’s access token is revoked by the reuse');
        t.equal((await refresh(pair.refresh_token, world.sete.clientId, world.sete.clientSecret)).statusCode, 400, 'and its refresh token');
      }
    });

    await t.test('a new password set through the admin API cuts off the Passport tokens of that user too', async (t) => {
      // A fresh imported token of reseller 6's user (id 5), as a later import would bring it.
      const jti = passportId();
      await ctx.services.db.prisma.legacyAccessToken.create({
        data: { id: jti, clientId: 19, userId: 5, scopes: [], revoked: false, expiresAt: world.tokenExpiry },
      });
      const token = await jwt(jti);
      t.equal((await introspect(token)).active, true);
      const admin = createAdmin(ctx.services);
      await admin.resellers.configure(
        '6',
        { name: 'Revenda Seis API', email: 'api.seis@revenda.example', password: 'uma-senha-nova-para-seis', allowedIp: ['127.0.0.1'] },
        CLI_ACTOR,
      );
      t.same(await introspect(token), INACTIVE, 'revoked with the password change');
      t.same((await importNow()).changes, [], 'and a re-import does not bring it back');
      t.same(await introspect(token), INACTIVE);
    });
  });
});
