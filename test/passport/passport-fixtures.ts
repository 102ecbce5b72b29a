// A Laravel Passport 12 installation, as the tests need it: its tables in a fresh MariaDB or
// PostgreSQL database, users with `$2y$` bcrypt hashes, RS256 access tokens in League's claim
// shape, and refresh tokens sealed the way league/oauth2-server seals them (defuse's
// encryptWithPassword under Laravel's APP_KEY; the decryption side is src/passport/defuse.ts,
// checked against a PHP-made vector in defuse.test.ts, so this writer is checked by it too).
import { createCipheriv, createHash, createHmac, generateKeyPairSync, hkdfSync, type KeyObject, pbkdf2Sync, randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import { SignJWT } from 'jose';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { Test } from 'tap';
import type { ImportOptions } from '../../src/passport/importer.js';
import { parseNetworks } from '../../src/security/networks.js';
import { createTestDatabase } from '../helper.js';
import { type PassportLayoutName, passportDdl } from './passport-migrations.js';

export const MYSQL_URL = process.env.TEST_MYSQL_URL;
export const POSTGRES_URL = process.env.TEST_DATABASE_URL;

export interface SourceDb {
  url: string;
  /** `?` placeholders in both dialects. */
  exec(sql: string, params?: unknown[]): Promise<void>;
}

export interface SourceOptions {
  /** Which Passport's migrations build the tables (default v12.3.0). */
  layout?: PassportLayoutName;
}

/** The DBS's own table mapping resellers to Passport clients (with Laravel's SoftDeletes column). */
const REVENDAS =
  'CREATE TABLE revendas (id int NOT NULL PRIMARY KEY, nome varchar(255) NOT NULL, oauth_client_id bigint NULL, ip_liberado varchar(255) NULL, api_user_id bigint NULL, deleted_at timestamp NULL)';

/** A fresh MariaDB database with Passport's tables, dropped at teardown. */
export async function createMysqlSource(t: Test, options: SourceOptions = {}): Promise<SourceDb> {
  const admin = await mysql.createConnection({ uri: MYSQL_URL as string });
  const name = `ra_passport_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(MYSQL_URL as string);
  url.pathname = `/${name}`;
  const conn = await mysql.createConnection({ uri: url.toString(), multipleStatements: true });
  t.teardown(async () => {
    await conn.query(`DROP DATABASE IF EXISTS ${name}`);
    await conn.end();
  });
  await conn.query(`${passportDdl(options.layout ?? 'v12.3.0', 'mysql')}\n${REVENDAS};`);
  return {
    url: url.toString(),
    async exec(sql, params = []) {
      await conn.query(sql, params);
    },
  };
}

/** A fresh PostgreSQL database on the test server with Passport's tables, dropped at teardown. */
export async function createPostgresSource(t: Test, options: SourceOptions = {}): Promise<SourceDb> {
  const url = await createTestDatabase(t);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  await client.query(`${passportDdl(options.layout ?? 'v12.3.0', 'postgres')}\n${REVENDAS};`);
  return {
    url,
    async exec(sql, params = []) {
      let n = 0;
      await client.query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      );
    },
  };
}

/** What Laravel's Hash::make writes: bcrypt, cost 10, PHP's `$2y$` prefix. */
export async function laravelHash(password: string): Promise<string> {
  return (await bcrypt.hash(password, 10)).replace(/^\$2b\$/, '$2y$');
}

/** A timestamp as Laravel writes it (zone-less, app.timezone UTC). */
export function sqlTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Passport's token ids: bin2hex(random_bytes(40)). */
export function passportId(): string {
  return randomBytes(40).toString('hex');
}

export function passportKeys(): { privateKey: KeyObject; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * League's AccessTokenTrait::convertToJWT: aud = client id, jti, sub = user id, scopes, and
 * lcobucci/jwt's microsecond dates (iat and nbf carry a fraction).
 */
export async function passportJwt(
  key: KeyObject,
  claims: { clientId: number; userId: number; jti: string; scopes?: string[]; exp: Date; nbf?: Date },
): Promise<string> {
  const now = Date.now() / 1000;
  return new SignJWT({ scopes: claims.scopes ?? [] })
    .setProtectedHeader({ typ: 'JWT', alg: 'RS256' })
    .setAudience(String(claims.clientId))
    .setJti(claims.jti)
    .setIssuedAt(Number(now.toFixed(6)))
    .setNotBefore(claims.nbf ? claims.nbf.getTime() / 1000 : Number(now.toFixed(6)))
    .setExpirationTime(Math.floor(claims.exp.getTime() / 1000))
    .setSubject(String(claims.userId))
    .sign(key);
}

/** defuse/php-encryption v2 Crypto::encryptWithPassword (hex output), for minting Passport refresh tokens. */
export function defuseEncryptWithPassword(plaintext: string, password: Buffer): string {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const prekey = pbkdf2Sync(createHash('sha256').update(password).digest(), salt, 100_000, 32, 'sha256');
  const akey = Buffer.from(hkdfSync('sha256', prekey, salt, 'DefusePHP|V2|KeyForAuthentication', 32));
  const ekey = Buffer.from(hkdfSync('sha256', prekey, salt, 'DefusePHP|V2|KeyForEncryption', 32));
  const cipher = createCipheriv('aes-256-ctr', ekey, iv);
  const body = Buffer.concat([Buffer.from([0xde, 0xf5, 0x02, 0x00]), salt, iv, cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([body, createHmac('sha256', akey).update(body).digest()]).toString('hex');
}

/** League's BearerTokenResponse refresh token payload, sealed under APP_KEY's raw bytes. */
export function passportRefreshToken(
  appKey: Buffer,
  p: { clientId: number; refreshTokenId: string; accessTokenId: string; userId: number; scopes?: string[]; expireTime: number },
): string {
  const payload = JSON.stringify({
    client_id: String(p.clientId),
    refresh_token_id: p.refreshTokenId,
    access_token_id: p.accessTokenId,
    scopes: p.scopes ?? [],
    user_id: String(p.userId),
    expire_time: p.expireTime,
  });
  return defuseEncryptWithPassword(payload, appKey);
}

/** The token part of a report when an import finds nothing to change (the fixture's one unmapped token is skipped). */
export const NO_TOKEN_CHANGES = {
  accessTokensAdded: 0,
  accessTokensRevoked: 0,
  refreshTokensAdded: 0,
  refreshTokensRevoked: 0,
  expiredRemoved: 0,
  skipped: 1,
};

/** The changes of a first import of seedPassport's (or real-world-passport.ts's) two resellers. */
export const FIRST_IMPORT_CHANGES = [
  'client 19: created for reseller 6',
  'reseller 6: created with client 19',
  'user api.seis@revenda.example: created for reseller 6',
  'client 23: created for reseller 7 (secret known only as a bcrypt hash)',
  'reseller 7: created with client 23',
  'user api.sete@revenda.example: created for reseller 7',
];

export interface PassportReseller {
  resellerId: string;
  clientId: number;
  /** What the reseller's software sends (Passport may keep only its bcrypt hash). */
  clientSecret: string;
  userId: number;
  email: string;
  password: string;
}

export interface PassportWorld {
  keys: { privateKey: KeyObject; publicPem: string };
  /** Laravel's APP_KEY as .env holds it. */
  appKey: string;
  appKeyBytes: Buffer;
  /** Reseller 6: client 19 with a plain secret, no allowed-IP column value. */
  seis: PassportReseller;
  /** Reseller 7: client 23 whose secret Passport keeps only hashed; allowed networks in the DBS table. */
  sete: PassportReseller;
  /** oauth_access_tokens ids. */
  tokens: { seis: string; seisRevoked: string; seisExpired: string; sete: string; otherUser: string };
  /** oauth_refresh_tokens ids, issued with tokens.seis and tokens.sete. */
  refresh: { seis: string; sete: string };
  tokenExpiry: Date;
}

/**
 * Passport 12's rows for two resellers (and the noise a real database has: an unmapped password
 * client, a personal-access client, a user of no reseller, an expired token, a token of client 19
 * issued to another user), and the DBS table `revendas` that maps resellers to clients.
 */
export async function seedPassport(db: SourceDb): Promise<PassportWorld> {
  const appKeyBytes = randomBytes(32);
  const seis: PassportReseller = {
    resellerId: '6',
    clientId: 19,
    clientSecret: randomBytes(30).toString('base64url').slice(0, 40),
    userId: 5,
    email: 'Api.Seis@Revenda.example',
    password: 'senha-da-revenda-seis',
  };
  const sete: PassportReseller = {
    resellerId: '7',
    clientId: 23,
    clientSecret: randomBytes(30).toString('base64url').slice(0, 40),
    userId: 7,
    email: 'api.sete@revenda.example',
    password: 'senha-da-revenda-sete',
  };
  const now = new Date();
  const tokenExpiry = new Date(Math.floor(now.getTime() / 1000) * 1000 + 86_400_000);
  for (const [id, name, email, password] of [
    [seis.userId, 'Revenda Seis API', seis.email, seis.password],
    [sete.userId, 'Revenda Sete API', sete.email, sete.password],
    [8, 'Funcionário do DBS', 'operador@dbs.example', 'outra-senha'],
  ] as const) {
    await db.exec('INSERT INTO users (id, name, email, password, created_at) VALUES (?, ?, ?, ?, ?)', [
      id,
      name,
      email,
      await laravelHash(password),
      sqlTime(now),
    ]);
  }
  const client = (id: number, userId: number | null, name: string, secret: string | null, personal: number, password: number) =>
    db.exec(
      `INSERT INTO oauth_clients (id, user_id, name, secret, provider, redirect, personal_access_client, password_client, revoked, created_at)
       VALUES (?, ?, ?, ?, 'users', 'http://localhost', ?, ?, '0', ?)`,
      [id, userId, name, secret, personal, password, sqlTime(now)],
    );
  await client(3, null, 'DBS Personal Access Client', passportId().slice(0, 40), 1, 0);
  await client(seis.clientId, seis.userId, 'Revenda Seis', seis.clientSecret, 0, 1);
  await client(sete.clientId, sete.userId, 'Revenda Sete', await laravelHash(sete.clientSecret), 0, 1);
  await client(24, 8, 'Integração sem revenda', passportId().slice(0, 40), 0, 1);
  await db.exec(
    "INSERT INTO revendas (id, nome, oauth_client_id, ip_liberado) VALUES (6, 'Revenda Seis', 19, NULL), (7, 'Revenda Sete', 23, '10.0.0.0/8 127.0.0.1'), (9, 'Revenda sem API', NULL, NULL)",
  );

  const tokens = { seis: passportId(), seisRevoked: passportId(), seisExpired: passportId(), sete: passportId(), otherUser: passportId() };
  const access = (id: string, userId: number, clientId: number, revoked: number, expires: Date) =>
    db.exec(
      'INSERT INTO oauth_access_tokens (id, user_id, client_id, name, scopes, revoked, created_at, expires_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)',
      [id, userId, clientId, '[]', revoked, sqlTime(now), sqlTime(expires)],
    );
  await access(tokens.seis, seis.userId, seis.clientId, 0, tokenExpiry);
  await access(tokens.seisRevoked, seis.userId, seis.clientId, 1, tokenExpiry);
  await access(tokens.seisExpired, seis.userId, seis.clientId, 0, new Date(now.getTime() - 3_600_000));
  await access(tokens.sete, sete.userId, sete.clientId, 0, tokenExpiry);
  await access(tokens.otherUser, 8, seis.clientId, 0, tokenExpiry);
  const refresh = { seis: passportId(), sete: passportId() };
  const later = sqlTime(new Date(now.getTime() + 30 * 86_400_000));
  await db.exec("INSERT INTO oauth_refresh_tokens (id, access_token_id, revoked, expires_at) VALUES (?, ?, '0', ?), (?, ?, '0', ?)", [
    refresh.seis,
    tokens.seis,
    later,
    refresh.sete,
    tokens.sete,
    later,
  ]);
  return { keys: passportKeys(), appKey: `base64:${appKeyBytes.toString('base64')}`, appKeyBytes, seis, sete, tokens, refresh, tokenExpiry };
}

/** The import as the runbook runs it: reseller mapping from the DBS table `revendas`. */
export function importOptions(sourceUrl: string, over: Partial<ImportOptions> = {}): ImportOptions {
  return {
    sourceUrl,
    sourceTimezone: 'Z',
    usersTable: 'users',
    mapping: { kind: 'table', table: 'revendas', resellerColumn: 'id', clientColumn: 'oauth_client_id', allowedIpColumn: 'ip_liberado' },
    dryRun: false,
    prefer: 'fail',
    defaultAllowedNetworks: ['0.0.0.0/0', '::/0'],
    parseNetworks,
    ...over,
  };
}
