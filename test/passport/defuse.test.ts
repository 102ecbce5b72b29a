// defuse/php-encryption v2 decryptWithPassword against ciphertext made by PHP itself: no PHP runs
// here, so the reference is a published vector (ChurchCRM's Cypress fixtures encrypt the TOTP
// secret JBSWY3DPEHPK3PXP with Crypto::encryptWithPassword under their seeded sTwoFASecretKey).
import t from 'tap';
import { DefuseDecryptionError, decryptWithPassword, looksLikeDefuseCiphertext } from '../../src/passport/defuse.js';
import { parseLaravelAppKey, parseRefreshPayload } from '../../src/passport/legacy-refresh-tokens.js';
import { defuseEncryptWithPassword } from './passport-fixtures.js';

const PHP_VECTOR = {
  password: 'ChangeThisToASecureRandomStringBeforeUse',
  plaintext: 'JBSWY3DPEHPK3PXP',
  ciphertext:
    'def50200cca1b3bcb6e443a1769db195752f572fdefd6afac1b4921b7a160d4f7bff9c69652af3a1f0e5fc933b6112c8e28135da8159b3d0a2d8dd0c6a9f8762' +
    'ff8358f391b9261800e3d2c4665a3224b51da5969a38fb9e745c300ffcbae7163f2c119d',
};

t.test('decrypts a ciphertext made by PHP', async (t) => {
  const plain = await decryptWithPassword(PHP_VECTOR.ciphertext, PHP_VECTOR.password);
  t.equal(plain.toString('utf8'), PHP_VECTOR.plaintext);
  t.equal(
    (await decryptWithPassword(PHP_VECTOR.ciphertext.toUpperCase(), PHP_VECTOR.password)).toString(),
    PHP_VECTOR.plaintext,
    'hex case does not matter',
  );
});

t.test('refuses a wrong password, a flipped byte anywhere, and malformed input', async (t) => {
  await t.rejects(decryptWithPassword(PHP_VECTOR.ciphertext, 'wrong password'), DefuseDecryptionError);
  // One nibble changed in the salt, the IV, the ciphertext and the MAC in turn: the MAC catches all.
  for (const at of [10, 80, 110, 150, PHP_VECTOR.ciphertext.length - 1]) {
    const c = PHP_VECTOR.ciphertext;
    const flipped = c.slice(0, at) + (c[at] === '0' ? '1' : '0') + c.slice(at + 1);
    await t.rejects(decryptWithPassword(flipped, PHP_VECTOR.password), DefuseDecryptionError, `byte at hex offset ${at}`);
  }
  for (const bad of [
    '',
    'def50200',
    `def50300${PHP_VECTOR.ciphertext.slice(8)}`,
    `${PHP_VECTOR.ciphertext}0`,
    PHP_VECTOR.ciphertext.replace('c', 'g'),
  ]) {
    t.notOk(looksLikeDefuseCiphertext(bad), `not a ciphertext: ${bad.slice(0, 12)}…`);
    await t.rejects(decryptWithPassword(bad, PHP_VECTOR.password), DefuseDecryptionError);
  }
});

t.test('the tests’ encryptor (used to mint Passport refresh tokens) round-trips through it', async (t) => {
  const key = parseLaravelAppKey(`base64:${Buffer.alloc(32, 7).toString('base64')}`);
  const sealed = defuseEncryptWithPassword('{"a":1}', key);
  t.ok(looksLikeDefuseCiphertext(sealed));
  t.equal((await decryptWithPassword(sealed, key)).toString(), '{"a":1}');
});

t.test('Laravel APP_KEY and League payload parsing', async (t) => {
  t.same(parseLaravelAppKey(`base64:${Buffer.alloc(32, 1).toString('base64')}`), Buffer.alloc(32, 1));
  t.same(parseLaravelAppKey('0123456789abcdef0123456789abcdef'), Buffer.from('0123456789abcdef0123456789abcdef'));
  t.throws(() => parseLaravelAppKey('base64:c2hvcnQ='), /16 or 32 bytes/);
  t.same(parseRefreshPayload('{"client_id":"19","refresh_token_id":"r","access_token_id":"a","scopes":["x"],"user_id":5,"expire_time":1700000000}'), {
    refreshTokenId: 'r',
    accessTokenId: 'a',
    clientId: '19',
    userId: '5',
    scopes: ['x'],
    expireTime: 1700000000,
  });
  t.equal(parseRefreshPayload('{"client_id":"19"}'), null);
  t.equal(parseRefreshPayload('not json'), null);
});
