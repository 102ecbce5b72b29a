// defuse/php-encryption v2 `Crypto::decryptWithPassword`, which league/oauth2-server (CryptTrait)
// uses to seal Laravel Passport's refresh tokens under Laravel's APP_KEY. Format, from the
// library's docs/CryptoDetails.md and src/KeyOrPassword.php:
//
//   hex( VERSION(DE F5 02 00) | salt(32) | iv(16) | AES-256-CTR ciphertext | HMAC-SHA256(32) )
//   prekey = PBKDF2-SHA256(SHA-256(password), salt, 100 000 iterations, 32 bytes)
//   akey   = HKDF-SHA256(prekey, 32, "DefusePHP|V2|KeyForAuthentication", salt)
//   ekey   = HKDF-SHA256(prekey, 32, "DefusePHP|V2|KeyForEncryption", salt)
//   the MAC covers everything before it, and is checked before anything is decrypted.
//
// PBKDF2 and HKDF run on libuv's thread pool (the async node:crypto calls), not the event loop.
import { createDecipheriv, createHash, createHmac, hkdf, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);
const hkdfAsync = promisify(hkdf);

const VERSION = Buffer.from([0xde, 0xf5, 0x02, 0x00]);
const SALT_BYTES = 32;
const IV_BYTES = 16;
const MAC_BYTES = 32;
const MINIMUM_BYTES = VERSION.length + SALT_BYTES + IV_BYTES + MAC_BYTES;
const PBKDF2_ITERATIONS = 100_000;
const AUTHENTICATION_INFO = 'DefusePHP|V2|KeyForAuthentication';
const ENCRYPTION_INFO = 'DefusePHP|V2|KeyForEncryption';

/** Far above any refresh-token payload (~300 bytes): larger input is refused before any work. */
export const MAX_CIPHERTEXT_HEX_LENGTH = 8192;

/** Wrong key, modified or malformed ciphertext: deliberately one error, like defuse's own. */
export class DefuseDecryptionError extends Error {
  override name = 'DefuseDecryptionError';
}

/** Cheap shape check (no key derivation): hex, long enough, and carrying the v2 header. */
export function looksLikeDefuseCiphertext(value: string): boolean {
  return (
    value.length >= MINIMUM_BYTES * 2 && value.length <= MAX_CIPHERTEXT_HEX_LENGTH && value.length % 2 === 0 && /^def50200[0-9a-f]+$/i.test(value)
  );
}

/** Decrypts hex output of `Crypto::encryptWithPassword($plaintext, $password)`. */
export async function decryptWithPassword(hexCiphertext: string, password: Buffer | string): Promise<Buffer> {
  if (!looksLikeDefuseCiphertext(hexCiphertext)) throw new DefuseDecryptionError('not a defuse v2 ciphertext');
  const raw = Buffer.from(hexCiphertext, 'hex');
  const salt = raw.subarray(VERSION.length, VERSION.length + SALT_BYTES);
  const iv = raw.subarray(VERSION.length + SALT_BYTES, VERSION.length + SALT_BYTES + IV_BYTES);
  const encrypted = raw.subarray(VERSION.length + SALT_BYTES + IV_BYTES, raw.length - MAC_BYTES);
  const mac = raw.subarray(raw.length - MAC_BYTES);

  // KeyOrPassword::deriveKeys pre-hashes the password with SHA-256 before PBKDF2.
  const prehash = createHash('sha256').update(password).digest();
  const prekey = await pbkdf2Async(prehash, salt, PBKDF2_ITERATIONS, 32, 'sha256');
  const [akey, ekey] = await Promise.all([
    hkdfAsync('sha256', prekey, salt, AUTHENTICATION_INFO, 32),
    hkdfAsync('sha256', prekey, salt, ENCRYPTION_INFO, 32),
  ]);

  const expected = createHmac('sha256', Buffer.from(akey))
    .update(raw.subarray(0, raw.length - MAC_BYTES))
    .digest();
  if (!timingSafeEqual(expected, mac)) throw new DefuseDecryptionError('wrong key or modified ciphertext');
  const decipher = createDecipheriv('aes-256-ctr', Buffer.from(ekey), iv);
  return Buffer.concat([decipher.update(encrypted), decipher.final()]);
}
