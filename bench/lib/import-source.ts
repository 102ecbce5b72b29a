// The Passport database bench/import reads: laravel/passport v12.3.0's tables as its migration
// files create them (test/passport/passport-migrations.ts renders them), on PostgreSQL, with a
// DBS-style mapping table, filled by a handful of INSERT … SELECT FROM generate_series statements
// so that 10,000 resellers and their 54,000 tokens take seconds, not minutes.
import bcrypt from 'bcrypt';
import pg from 'pg';
import { passportDdl } from '../../test/passport/passport-migrations.js';

/** Every reseller's user has this password; one hash is made once and reused for every row. */
export const RESELLER_PASSWORD = 'senha-da-revenda-bench';
/** Passport's ids of reseller n: clients and users start above the ids a target may already use. */
export const ID_OFFSET = 100;

/** The DBS's own table mapping resellers to Passport clients (Laravel's SoftDeletes column included). */
const REVENDAS =
  'CREATE TABLE revendas (id int NOT NULL PRIMARY KEY, nome varchar(255) NOT NULL, oauth_client_id bigint NULL, ip_liberado varchar(255) NULL, api_user_id bigint NULL, deleted_at timestamp NULL)';

// bin2hex(random_bytes(40)), Passport's token id: 80 hex characters.
const TOKEN_ID = 'md5(random()::text) || md5(random()::text) || left(md5(random()::text), 16)';
// Laravel writes zone-less timestamps in app.timezone (UTC here), whatever the server's TimeZone.
const NOW_UTC = "(now() AT TIME ZONE 'UTC')";

export interface PassportSourceCounts {
  resellers: number;
  accessTokens: number;
  refreshTokens: number;
}

export interface ResellerLogin {
  resellerId: string;
  clientId: string;
  clientSecret: string;
  email: string;
  password: string;
}

/**
 * Fills the empty database at `url`. Reseller n (1…resellers) has password client ID_OFFSET+n
 * (plain 40-character secret, Passport's default without hashClientSecrets) and user ID_OFFSET+n
 * (a `$2y$10$` hash, Laravel's Hash::make); 7 resellers in 10 hold 3 access tokens, the others 2
 * (2.7 per reseller: 27,000 for 10,000), each with its refresh token, one in ten revoked, all
 * unexpired. Passport keeps only token ids in its tables (the JWTs and the encrypted refresh
 * tokens live with the clients), so ids are all the import reads. Noise a real database has: a
 * personal-access client, an unmapped password client, and mapping rows without an API client.
 */
export async function fillPassportSource(url: string, resellers: number): Promise<PassportSourceCounts> {
  const hash = (await bcrypt.hash(RESELLER_PASSWORD, 10)).replace(/^\$2b\$/, '$2y$');
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(`${passportDdl('v12.3.0', 'postgres')}\n${REVENDAS};`);
    await db.query('BEGIN');
    await db.query(
      `INSERT INTO users (id, name, email, password, created_at, updated_at)
       SELECT ${ID_OFFSET} + n, 'Revenda ' || n || ' API', 'api.revenda' || n || '@revenda.example', $2, ${NOW_UTC}, ${NOW_UTC}
       FROM generate_series(1, $1::int) n`,
      [resellers, hash],
    );
    await db.query(
      `INSERT INTO oauth_clients (id, user_id, name, secret, provider, redirect, personal_access_client, password_client, revoked, created_at, updated_at)
       SELECT 1, NULL::bigint, 'DBS Personal Access Client', left(md5(random()::text) || md5(random()::text), 40), NULL::varchar, 'http://localhost', true, false, false, ${NOW_UTC}, ${NOW_UTC}
       UNION ALL
       SELECT 2, NULL::bigint, 'DBS Password Grant Client', left(md5(random()::text) || md5(random()::text), 40), 'users', 'http://localhost', false, true, false, ${NOW_UTC}, ${NOW_UTC}
       UNION ALL
       SELECT ${ID_OFFSET} + n, ${ID_OFFSET} + n, 'Revenda ' || n, left(md5(random()::text) || md5(random()::text), 40), 'users', 'http://localhost', false, true, false, ${NOW_UTC}, ${NOW_UTC}
       FROM generate_series(1, $1::int) n`,
      [resellers],
    );
    // One reseller in five restricts addresses (this machine's included: the probe logs in from it).
    await db.query(
      `INSERT INTO revendas (id, nome, oauth_client_id, ip_liberado)
       SELECT n, 'Revenda ' || n, ${ID_OFFSET} + n, CASE WHEN n % 5 = 0 THEN '10.0.0.0/8 127.0.0.1' END FROM generate_series(1, $1::int) n
       UNION ALL
       SELECT $1::int + n, 'Revenda sem API ' || n, NULL, NULL FROM generate_series(1, 10) n`,
      [resellers],
    );
    await db.query(
      `INSERT INTO oauth_access_tokens (id, user_id, client_id, name, scopes, revoked, created_at, updated_at, expires_at)
       SELECT ${TOKEN_ID}, ${ID_OFFSET} + n, ${ID_OFFSET} + n, NULL, '[]', random() < 0.1,
              ${NOW_UTC} - interval '1 day', ${NOW_UTC} - interval '1 day', ${NOW_UTC} + (1 + n % 300) * interval '1 day'
       FROM generate_series(1, $1::int) n, generate_series(1, 3) k
       WHERE k <= CASE WHEN n % 10 < 7 THEN 3 ELSE 2 END`,
      [resellers],
    );
    await db.query(
      `INSERT INTO oauth_refresh_tokens (id, access_token_id, revoked, expires_at)
       SELECT ${TOKEN_ID}, id, revoked, expires_at + interval '30 days' FROM oauth_access_tokens`,
    );
    await db.query('COMMIT');
    await db.query('ANALYZE');
    const [counts] = (
      await db.query<{ access: string; refresh: string }>(
        'SELECT (SELECT count(*) FROM oauth_access_tokens) AS access, (SELECT count(*) FROM oauth_refresh_tokens) AS refresh',
      )
    ).rows;
    return { resellers, accessTokens: Number(counts?.access), refreshTokens: Number(counts?.refresh) };
  } finally {
    await db.end();
  }
}

/** Credentials of resellers `from`…`to` as their software sends them to /oauth/token. */
export async function resellerLogins(url: string, from: number, to: number): Promise<ResellerLogin[]> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ reseller: number; client: string; secret: string; email: string }>(
      `SELECT r.id AS reseller, c.id AS client, c.secret, u.email
       FROM revendas r JOIN oauth_clients c ON c.id = r.oauth_client_id JOIN users u ON u.id = c.user_id
       WHERE r.id BETWEEN $1 AND $2 ORDER BY r.id DESC`,
      [from, to],
    );
    return rows.map((r) => ({
      resellerId: String(r.reseller),
      clientId: String(r.client),
      clientSecret: r.secret,
      email: r.email,
      password: RESELLER_PASSWORD,
    }));
  } finally {
    await db.end();
  }
}
