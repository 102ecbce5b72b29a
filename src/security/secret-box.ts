// Client secrets are shown again to admins (docs/admin-api.md), so they are stored encrypted, never in
// plain text: AES-256-GCM under SECRET_KEY, with the key's id stored beside the ciphertext so a
// key can be rotated later (old rows still name the key that sealed them).
import { type KeyObject, createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, randomInt } from 'node:crypto';

export interface Sealed {
  keyId: string;
  ciphertext: string;
}

export class SecretBox {
  readonly keyId: string;
  /** Imported once: a Buffer key is imported into a new KeyObject by every cipher made from it. */
  readonly #key: KeyObject;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('SECRET_KEY must be 32 bytes');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
    this.#key = createSecretKey(key);
  }

  seal(plaintext: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.keyId, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64') };
  }

  open(sealed: Sealed): string {
    if (sealed.keyId !== this.keyId) throw new Error(`secret sealed under unknown key ${sealed.keyId}`);
    const raw = Buffer.from(sealed.ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Passport-shaped client secret: 40 characters of [A-Za-z0-9]; randomInt has no modulo bias. */
export function generateClientSecret(length = 40): string {
  let secret = '';
  for (let i = 0; i < length; i++) secret += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return secret;
}

/** An opaque bearer secret: 256 random bits, base64url, beyond guessing (RFC 6749 §10.10: at most 2^-128). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}
