// The import's pure rules: the reseller-mapping CSV and the three-way field merge.
import t from 'tap';
import { PASSWORD_REHASH_KEY, fieldDigest, localPasswordDigest, mergeField, rehashMarker } from '../../src/passport/field-merge.js';
import { parseMappingCsv, splitCsvLine } from '../../src/passport/reseller-mapping.js';

t.test('mapping CSV: reseller_id,client_id[,user_id[,allowed_ip]], header and comments optional', async (t) => {
  t.same(splitCsvLine('7,23,7,"10.0.0.0/8, 127.0.0.1"'), ['7', '23', '7', '10.0.0.0/8, 127.0.0.1']);
  t.same(splitCsvLine('"a ""quoted"" id",1'), ['a "quoted" id', '1']);
  const parsed = parseMappingCsv(
    ['reseller_id,client_id,user_id,allowed_ip', '# comment', '', '6,19', '7,23,7,"10.0.0.0/8 127.0.0.1"', 'x y,1', '8,abc', '9,5,u', '10'].join(
      '\n',
    ),
  );
  t.same(parsed.entries, [
    { resellerId: '6', clientId: 19, userId: null, allowedIp: null, origin: 'line 4' },
    { resellerId: '7', clientId: 23, userId: 7, allowedIp: '10.0.0.0/8 127.0.0.1', origin: 'line 5' },
  ]);
  t.same(parsed.problems, [
    'line 6: reseller id "x y" is not 1–64 characters of [A-Za-z0-9_-]',
    'line 7: client id "abc" is not a positive 32-bit integer',
    'line 8: user id "u" is not a positive integer',
    'line 9: expected reseller_id,client_id[,user_id[,allowed_ip]], got 1 fields',
  ]);
  t.same(parseMappingCsv('6,19\n').entries.length, 1, 'no header needed');
  // The DBS table's own column names as a header (an export of `revendas`).
  const exported = parseMappingCsv('id,oauth_client_id,api_user_id,ip_liberado\n6,19,,\n');
  t.same([exported.entries.map((e) => e.origin), exported.problems], [['line 2'], []], 'a header starting id, is a header');
  t.same(parseMappingCsv('\uFEFFid,oauth_client_id\n6,19').problems, [], 'with a byte-order mark too');
  t.same(parseMappingCsv('x9,19\n').entries.length, 1, 'a first line with a numeric client id is data');
  t.same(parseMappingCsv('6,3000000000').problems, ['line 1: client id "3000000000" is not a positive 32-bit integer']);
});

t.test('three-way merge of one field', async (t) => {
  const [a, b, c] = ['a', 'b', 'c'].map((v) => fieldDigest('name', v)) as [string, string, string];
  t.equal(mergeField(a, a, b, 'fail'), 'keep', 'Passport unchanged: ours is kept, whatever it is');
  t.equal(mergeField(b, a, a, 'fail'), 'update', 'Passport changed, ours as imported: take Passport');
  t.equal(mergeField(b, a, b, 'fail'), 'record', 'both changed to the same: only the digest moves');
  t.equal(mergeField(b, a, c, 'fail'), 'conflict', 'both changed differently');
  t.equal(mergeField(b, a, c, 'passport'), 'update');
  t.equal(mergeField(b, a, c, 'local'), 'record');
  t.equal(mergeField(b, undefined, c, 'fail'), 'update', 'never recorded: ours counts as imported');
  t.not(fieldDigest('name', 'x'), fieldDigest('email', 'x'), 'digests are per field');
});

t.test('a login re-hash of the imported password is not a change made here', async (t) => {
  const imported = fieldDigest('password', '$2y$12$imported');
  const last = { password: imported, [PASSWORD_REHASH_KEY]: rehashMarker('$argon2id$rehash') };
  t.equal(localPasswordDigest('$argon2id$rehash', last), imported, 'the re-hash counts as the imported hash');
  t.equal(
    mergeField(fieldDigest('password', '$2y$12$changed-in-passport'), imported, localPasswordDigest('$argon2id$rehash', last), 'fail'),
    'update',
  );
  t.equal(localPasswordDigest('$argon2id$set-by-an-admin', last), fieldDigest('password', '$argon2id$set-by-an-admin'), 'another hash is a change');
  t.equal(localPasswordDigest('$argon2id$rehash', { password: imported }), fieldDigest('password', '$argon2id$rehash'), 'no marker, no exception');
});
