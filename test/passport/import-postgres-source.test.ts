// Importing from PostgreSQL as the Passport database (a fresh database on the TEST_DATABASE_URL
// server), the reseller mapping from a CSV file, and Laravel's app.timezone not UTC.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { importDeps } from '../../src/passport/import-deps.js';
import { importPassport } from '../../src/passport/importer.js';
import { build, eachBackend, passwordGrantBody } from '../helper.js';
import { POSTGRES_URL, createPostgresSource, importOptions, seedPassport } from './passport-fixtures.js';

const skip = POSTGRES_URL ? false : 'TEST_DATABASE_URL is not set: the PostgreSQL-source import suite is skipped';

eachBackend(t, async (t, backend) => {
  t.test('from PostgreSQL, mapped by CSV', { skip }, async (t) => {
    const source = await createPostgresSource(t);
    const world = await seedPassport(source);
    const ctx = await build(t, backend);
    const csv = join(t.testdir({}), 'revendas.csv');
    await writeFile(
      csv,
      [
        'reseller_id,client_id,user_id,allowed_ip',
        '# reseller 6: the user comes from oauth_clients.user_id, any address',
        '6,19,,',
        '7,23,7,"10.0.0.0/8, 127.0.0.1"',
        '',
      ].join('\n'),
    );
    // The seeded timestamps are UTC; read as São Paulo time (-03:00, no daylight saving since
    // 2019) they end three hours later. The zone's name, not an offset: PostgreSQL compares the
    // zone-less columns with literals carrying the offset in force at each instant.
    const options = importOptions(source.url, { mapping: { kind: 'csv', path: csv }, sourceTimezone: 'America/Sao_Paulo' });
    const run = () => importPassport(options, importDeps(ctx.services));

    // A user of ours already has id 7: Passport's user 7 cannot keep its id and gets the next free one.
    const prisma = ctx.services.db.prisma;
    const local = await prisma.client.create({ data: { kind: 'reseller', name: 'Daqui', allowedNetworks: [], grants: [] } });
    await prisma.reseller.create({ data: { resellerId: 'local', clientId: local.id } });
    await prisma.user.create({ data: { id: 7, resellerId: 'local', name: 'Daqui', email: 'daqui@revenda.example', passwordHash: 'x' } });

    const first = await run();
    t.ok(first.changes.includes('user api.sete@revenda.example: created for reseller 7 (Passport id 7 is taken here: a new id is assigned)'));
    const sete = await prisma.user.findUniqueOrThrow({ where: { passportId: 7 } });
    t.equal(sete.id, 8);
    t.equal((await prisma.legacyAccessToken.findUniqueOrThrow({ where: { id: world.tokens.sete } })).userId, 8, 'its Passport tokens follow it');
    t.same([first.committed, first.conflicts, first.invalid, first.changes.length, first.unmappedClients], [true, [], [], 6, [24]]);
    // Four, not three: the token that expired an hour ago in UTC has two hours left read as -03:00.
    t.same(first.tokens, {
      accessTokensAdded: 4,
      accessTokensRevoked: 0,
      refreshTokensAdded: 2,
      refreshTokensRevoked: 0,
      expiredRemoved: 0,
      skipped: 1,
    });
    const second = await run();
    t.same([second.committed, second.changes, second.tokens?.accessTokensAdded, second.tokens?.refreshTokensAdded], [true, [], 0, 0]);

    t.same((await prisma.client.findUniqueOrThrow({ where: { id: 23 } })).allowedNetworks, ['10.0.0.0/8', '127.0.0.1/32']);
    const token = await prisma.legacyAccessToken.findUniqueOrThrow({ where: { id: world.tokens.seis } });
    t.equal(token.expiresAt?.toISOString(), new Date(world.tokenExpiry.getTime() + 3 * 3_600_000).toISOString());

    const res = await ctx.publicApp.inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress: '127.0.0.1',
      payload: passwordGrantBody(world.sete),
    });
    t.equal(res.statusCode, 200, res.body);
    t.match((await prisma.user.findUniqueOrThrow({ where: { id: 8 } })).passwordHash, /^\$argon2id\$/);
    // The sequence moved past the imported ids: the next user created here gets 9.
    const next = await ctx.services.resellers.create({
      resellerId: 'novo',
      name: 'Novo',
      email: 'novo@revenda.example',
      passwordHash: 'x',
      allowedNetworks: [],
      secret: ctx.services.secretBox.seal('s'.repeat(40)),
    });
    t.same([next.userId, next.clientId], [9, 24]);
  });
});
