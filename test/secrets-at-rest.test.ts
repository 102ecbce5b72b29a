// Secrets at rest (docs/configuration.md, "Storage"): neither a database dump nor a Redis dump yields a
// usable token, client secret or password. After a flow that creates every kind of secret, this
// test reads the stores directly — every row of every table, every key under the Redis prefix
// with its DUMP — and looks for each secret in every encoding it could be written in. Then it
// checks what IS stored: argon2id hashes, AES-256-GCM ciphertexts that only SECRET_KEY opens,
// SHA-256 token hashes.
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { SecretBox } from '../src/security/secret-box.js';
import { basic } from './faults/requests.js';
import { adminInject, type TestApp, build, eachBackend } from './helper.js';

interface Secrets {
  passwords: string[];
  clientSecrets: string[];
  tokens: string[];
}

/** Each way a secret could end up in a dump: as is, base64, base64url, hex, percent-encoded. */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [secret, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), encodeURIComponent(secret)];
}

async function driveFlow(t: Test, ctx: TestApp): Promise<Secrets> {
  const admin = adminInject(ctx);
  const token = (payload: object) => ctx.publicApp.inject({ method: 'POST', url: '/oauth/token', payload });

  const secrets: Secrets = { passwords: [], clientSecrets: [], tokens: [] };
  const password = `Senha-${randomBytes(9).toString('base64url')}`;
  const newPassword = `Nova-${randomBytes(9).toString('base64url')}`;
  secrets.passwords.push(password, newPassword);
  const created = await admin('PUT', '/admin/resellers/6/api', {
    name: 'meu nome aqui',
    email: 'meu_nome@aqui.com.br',
    password,
    allowedIp: '127.0.0.1',
  });
  t.equal(created.statusCode, 201, 'API access configured');
  const { clientId, clientSecret } = created.json() as { clientId: string; clientSecret: string };
  secrets.clientSecrets.push(clientSecret);

  const issue = async (payload: object) => {
    const res = await token(payload);
    t.equal(res.statusCode, 200, 'token issued');
    const pair = res.json() as { access_token: string; refresh_token: string };
    secrets.tokens.push(pair.access_token, pair.refresh_token);
    return pair;
  };
  const grant = { grant_type: 'password', client_id: clientId, client_secret: clientSecret, username: 'meu_nome@aqui.com.br', password, scope: '' };
  const first = await issue(grant);
  await issue({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: clientId, client_secret: clientSecret });
  await issue(grant);

  const registered = await admin('POST', '/admin/resource-servers', { name: 'DBS API' });
  t.equal(registered.statusCode, 201, 'resource server registered');
  const rs = registered.json() as { clientId: string; clientSecret: string };
  secrets.clientSecrets.push(rs.clientSecret);
  const introspected = await ctx.publicApp.inject({
    method: 'POST',
    url: '/oauth/introspect',
    payload: { token: secrets.tokens.at(-2) },
    headers: { authorization: basic(rs.clientId, rs.clientSecret) },
  });
  t.equal(introspected.json().active, true, 'the flow works');

  // A rotated secret and a changed password: the old values must not linger either.
  const rotation = await admin('POST', '/admin/resellers/6/api/secret');
  t.equal(rotation.statusCode, 200, 'secret rotated');
  const rotated = rotation.json() as { clientSecret: string };
  secrets.clientSecrets.push(rotated.clientSecret);
  const changed = await admin('PUT', '/admin/resellers/6/api', {
    name: 'meu nome aqui',
    email: 'meu_nome@aqui.com.br',
    password: newPassword,
    allowedIp: '127.0.0.1',
  });
  t.equal(changed.statusCode, 200, 'password changed');
  await issue({ ...grant, client_secret: rotated.clientSecret, password: newPassword });
  return secrets;
}

function assertNothingUsable(t: Test, dump: string, secrets: Secrets, where: string) {
  // A token's 256 random bits are its secret (its family id, before the dot, names it in keys).
  const all = [...secrets.passwords, ...secrets.clientSecrets, ...secrets.tokens.map((token) => token.split('.')[1] ?? token)];
  const found = all.filter((secret) => encodings(secret).some((encoded) => dump.includes(encoded)));
  t.same(
    found.map((s) => `${s.slice(0, 4)}…`),
    [],
    `${where}: none of ${all.length} secrets, in any encoding`,
  );
}

eachBackend(t, async (t, backend) => {
  const ctx = await build(t, backend);
  const secrets = await driveFlow(t, ctx);
  const prisma = ctx.services.db.prisma;

  t.test('a database dump: every row of every table', async (t) => {
    const tables = await prisma.$queryRawUnsafe<{ name: string }[]>(
      "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    t.ok(tables.some((table) => table.name === 'users') && tables.some((table) => table.name === 'clients'), `${tables.length} tables`);
    let dump = '';
    for (const { name } of tables) {
      const rows = await prisma.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${name.replace(/"/g, '""')}" t`);
      dump += `${name}\n${rows.map((r) => r.row).join('\n')}\n`;
    }
    assertNothingUsable(t, dump, secrets, 'database');
    t.notOk(dump.includes(ctx.adminToken), 'no admin token');
    t.notOk(dump.includes(ctx.config.secretKey?.toString('base64') ?? 'no key'), 'no SECRET_KEY');

    const users = await prisma.$queryRawUnsafe<{ password_hash: string }[]>('SELECT password_hash FROM users');
    for (const { password_hash } of users) t.match(password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'passwords are argon2id hashes');

    const clients = await prisma.$queryRawUnsafe<{ secret_ciphertext: string | null; secret_key_id: string | null }[]>(
      'SELECT secret_ciphertext, secret_key_id FROM clients',
    );
    const box = new SecretBox(ctx.config.secretKey as Buffer);
    const opened = clients.map((c) => box.open({ keyId: c.secret_key_id as string, ciphertext: c.secret_ciphertext as string }));
    t.ok(opened.includes(secrets.clientSecrets.at(-1) as string), 'client secrets are ciphertexts SECRET_KEY opens');
    const otherKey = randomBytes(32);
    const stranger = new SecretBox(otherKey);
    for (const c of clients) {
      t.throws(() => stranger.open({ keyId: stranger.keyId, ciphertext: c.secret_ciphertext as string }), 'useless without SECRET_KEY');
    }
  });

  t.test(
    'a Redis dump: every key under the prefix, with its DUMP',
    { skip: !ctx.config.redisUrl && 'the in-process token store has no dump' },
    async (t) => {
      const redis = new Redis(ctx.config.redisUrl as string, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      t.teardown(() => redis.quit());
      const keys: string[] = [];
      let cursor = '0';
      let rounds = 0;
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${ctx.config.redisKeyPrefix}*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
        rounds += 1;
      } while (cursor !== '0' && rounds < 10_000);
      t.ok(keys.length >= 5, `${keys.length} keys`);
      const values = await Promise.all(keys.map(async (key) => (await redis.dumpBuffer(key))?.toString('latin1') ?? ''));
      const dump = [...keys, ...values].join('\n');
      assertNothingUsable(t, dump, secrets, 'Redis');

      const tokenKeys = keys.filter((key) => /:(at|rt):/.test(key));
      t.ok(tokenKeys.length > 0 && tokenKeys.every((key) => /:(at|rt):[0-9a-f]{64}$/.test(key)), 'tokens are stored under their SHA-256');
      const current = secrets.tokens.at(-2) as string;
      t.ok(
        keys.includes(`${ctx.config.redisKeyPrefix}{f:${current.split('.')[0]}}:at:${createHash('sha256').update(current).digest('hex')}`),
        'the access token is found by its SHA-256',
      );
    },
  );
});
