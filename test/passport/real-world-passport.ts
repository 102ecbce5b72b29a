// A Passport database as a real DBS install has it, every hash and token made by PHP: Laravel's
// app.timezone America/Sao_Paulo (zone-less timestamps in São Paulo wall-clock time), users
// hashed with bcrypt cost 12 and argon2id, password clients created by `passport:client
// --password` (user_id NULL: the mapping names the user), 40-character alphanumeric secrets
// (Str::random(40)), one kept only as a hash (hashClientSecrets), a client on another auth
// provider, a public password client, a generic mobile-app client in no mapping, a soft-deleted
// DBS reseller row still naming a live client, an "IP Liberado" that is no address, and League
// 8.5's tokens (float iat/nbf/exp in the JWT, an integer user_id in the refresh payload).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { sourceTimeZone } from '../../src/passport/source-time-zone.js';
import { parseNetworks } from '../../src/security/networks.js';
import type { ImportOptions } from '../../src/passport/importer.js';
import type { PassportReseller, SourceDb } from './passport-fixtures.js';
import { php } from './passport-php.js';

export const SOURCE_ZONE = 'America/Sao_Paulo';
const zone = sourceTimeZone(SOURCE_ZONE);
/** How Laravel writes `now()` into a zone-less column under app.timezone America/Sao_Paulo. */
export const saoPauloTime = (date: Date): string => zone.wallClock(date);

/** Str::random(40): letters and digits. */
export function laravelRandom(length = 40): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

export interface RealWorld {
  seis: PassportReseller;
  sete: PassportReseller;
  appKey: string;
  publicPem: string;
  privatePem: string;
  /** oauth_access_tokens / oauth_refresh_tokens ids. */
  tokens: { seis: string; sete: string; seteRevoked: string };
  refresh: { seis: string; sete: string };
  /** Made by PHP: the JWT of tokens.seis and the refresh token of refresh.seis. */
  seisJwt: string;
  seisRefreshToken: string;
  /** When tokens.seis expires (a whole second). */
  tokenExpiry: Date;
  /** What PHP makes, for the tests' later changes in Passport. */
  bcrypt12(password: string): Promise<string>;
}

const tokenId = () => randomBytes(40).toString('hex');

export async function seedRealWorld(db: SourceDb, layout: { passwordClientColumn: boolean } = { passwordClientColumn: true }): Promise<RealWorld> {
  const seis: PassportReseller = {
    resellerId: '6',
    clientId: 19,
    clientSecret: laravelRandom(),
    userId: 5,
    email: 'api.seis@revenda.example',
    password: 'senha-da-revenda-seis',
  };
  const sete: PassportReseller = {
    resellerId: '7',
    clientId: 23,
    clientSecret: laravelRandom(),
    userId: 7,
    email: 'api.sete@revenda.example',
    password: 'senha-da-revenda-sete',
  };
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const appKeyBytes = randomBytes(32);
  const now = new Date();
  const tokenExpiry = new Date(Math.floor(now.getTime() / 1000) * 1000 + 86_400_000);
  const refreshExpiry = new Date(tokenExpiry.getTime() + 29 * 86_400_000);
  const tokens = { seis: tokenId(), sete: tokenId(), seteRevoked: tokenId() };
  const refresh = { seis: tokenId(), sete: tokenId() };
  // lcobucci/jwt: microsecond dates, written as floats.
  const seconds = now.getTime() / 1000;
  const made = await php({
    hashes: [
      { algo: 'bcrypt12', password: seis.password },
      { algo: 'argon2id', password: sete.password },
      { algo: 'bcrypt10', password: 'senha-do-estagiario' },
      { algo: 'bcrypt12', password: 'senha-da-revenda-onze' },
      { algo: 'bcrypt10', password: sete.clientSecret },
    ],
    privateKey: privatePem,
    jwts: [
      {
        aud: String(seis.clientId),
        jti: tokens.seis,
        iat: seconds - 0.123456,
        nbf: seconds - 0.123456,
        exp: tokenExpiry.getTime() / 1000 + 0.123456,
        sub: String(seis.userId),
        scopes: [],
      },
    ],
    appKey: appKeyBytes.toString('base64'),
    refreshTokens: [
      {
        client_id: String(seis.clientId),
        refresh_token_id: refresh.seis,
        access_token_id: tokens.seis,
        scopes: [],
        user_id: seis.userId,
        expire_time: Math.floor(refreshExpiry.getTime() / 1000),
      },
    ],
  });
  const [seisHash, seteHash, internHash, onzeHash, seteSecretHash] = made.hashes as [string, string, string, string, string];

  const created = saoPauloTime(now);
  for (const [id, name, email, hash] of [
    [seis.userId, 'Revenda Seis API', seis.email, seisHash],
    [sete.userId, 'Revenda Sete API', sete.email, seteHash],
    [11, 'Estagiário', 'estagiario@revenda.example', internHash],
    [12, 'Revenda Onze API', 'api.onze@revenda.example', onzeHash],
  ] as const) {
    await db.exec('INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
      id,
      name,
      email,
      hash,
      created,
      created,
    ]);
  }
  const client = async (
    id: number,
    userId: number | null,
    name: string,
    secret: string | null,
    provider: string | null,
    kind: 'password' | 'personal',
  ) => {
    if (layout.passwordClientColumn) {
      await db.exec(
        `INSERT INTO oauth_clients (id, user_id, name, secret, provider, redirect, personal_access_client, password_client, revoked, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'http://localhost', ?, ?, ?, ?, ?)`,
        [id, userId, name, secret, provider, kind === 'personal', kind === 'password', false, created, created],
      );
    } else {
      // Passport 13 on an upgraded install: grant_types instead of the *_client flags.
      await db.exec(
        `INSERT INTO oauth_clients (id, user_id, name, secret, provider, redirect, grant_types, revoked, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'http://localhost', ?, ?, ?, ?)`,
        [
          id,
          userId,
          name,
          secret,
          provider,
          JSON.stringify(kind === 'password' ? ['password', 'refresh_token'] : ['personal_access']),
          false,
          created,
          created,
        ],
      );
    }
  };
  await client(3, null, 'DBS Personal Access Client', laravelRandom(), null, 'personal');
  await client(seis.clientId, null, 'Revenda Seis', seis.clientSecret, 'users', 'password');
  await client(sete.clientId, sete.userId, 'Revenda Sete', seteSecretHash, 'users', 'password');
  await client(24, null, 'DBS App (mobile)', laravelRandom(), null, 'password');
  await client(25, null, 'Revendedores Password Grant Client', laravelRandom(), 'revendedores', 'password');
  await client(26, null, 'Revenda Dez (public)', null, 'users', 'password');
  await client(27, 12, 'Revenda Onze', laravelRandom(), 'users', 'password');
  await db.exec(
    `INSERT INTO revendas (id, nome, oauth_client_id, ip_liberado, api_user_id, deleted_at) VALUES
     (6, 'Revenda Seis', 19, NULL, 5, NULL), (7, 'Revenda Sete', 23, '10.0.0.0/8 127.0.0.1', NULL, NULL),
     (8, 'Revenda Oito', 25, NULL, 11, NULL), (9, 'Revenda sem API', NULL, NULL, NULL, NULL),
     (10, 'Revenda Dez', 26, NULL, NULL, NULL), (11, 'Revenda Onze', 27, '192.168.123.456/32', NULL, NULL),
     (13, 'Revenda Treze (excluída)', 19, NULL, 5, ?)`,
    [created],
  );
  const access = (id: string, userId: number, clientId: number, revoked: boolean) =>
    db.exec(
      'INSERT INTO oauth_access_tokens (id, user_id, client_id, name, scopes, revoked, created_at, updated_at, expires_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)',
      [id, userId, clientId, '[]', revoked, created, created, saoPauloTime(tokenExpiry)],
    );
  await access(tokens.seis, seis.userId, seis.clientId, false);
  await access(tokens.sete, sete.userId, sete.clientId, false);
  await access(tokens.seteRevoked, sete.userId, sete.clientId, true);
  for (const [id, accessId] of [
    [refresh.seis, tokens.seis],
    [refresh.sete, tokens.sete],
  ] as const) {
    await db.exec('INSERT INTO oauth_refresh_tokens (id, access_token_id, revoked, expires_at) VALUES (?, ?, ?, ?)', [
      id,
      accessId,
      false,
      saoPauloTime(refreshExpiry),
    ]);
  }
  return {
    seis,
    sete,
    appKey: `base64:${appKeyBytes.toString('base64')}`,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem,
    tokens,
    refresh,
    seisJwt: made.jwts[0] as string,
    seisRefreshToken: made.refreshTokens[0] as string,
    tokenExpiry,
    bcrypt12: async (password) => (await php({ hashes: [{ algo: 'bcrypt12', password }] })).hashes[0] as string,
  };
}

/** The runbook's import of this database: the DBS table revendas, its user and IP columns, São Paulo time. */
export function realImportOptions(sourceUrl: string, over: Partial<ImportOptions> = {}): ImportOptions {
  return {
    sourceUrl,
    sourceTimezone: SOURCE_ZONE,
    usersTable: 'users',
    mapping: {
      kind: 'table',
      table: 'revendas',
      resellerColumn: 'id',
      clientColumn: 'oauth_client_id',
      userColumn: 'api_user_id',
      allowedIpColumn: 'ip_liberado',
    },
    dryRun: false,
    prefer: 'fail',
    defaultAllowedNetworks: ['0.0.0.0/0', '::/0'],
    parseNetworks,
    ...over,
  };
}
