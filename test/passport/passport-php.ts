// Runs passport-php.php (Debian's php-cli, installed by scripts/test-services.sh): the hashes and
// tokens of the Passport fixtures made by PHP, as Laravel makes them.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type LaravelHashAlgo = 'bcrypt10' | 'bcrypt12' | 'argon2id';

/** League's JWT claims; numbers with a fraction stay floats (lcobucci/jwt's microsecond dates). */
export interface PassportJwtClaims {
  aud: string;
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
  sub: string;
  scopes: string[];
}

/** League's refresh-token payload (user_id as Passport's user provider gives it: an integer). */
export interface PassportRefreshPayload {
  client_id: string;
  refresh_token_id: string;
  access_token_id: string;
  scopes: string[];
  user_id: number | string;
  expire_time: number;
}

export interface PhpRequest {
  hashes?: { algo: LaravelHashAlgo; password: string }[];
  privateKey?: string;
  jwts?: PassportJwtClaims[];
  /** APP_KEY without its `base64:` prefix. */
  appKey?: string;
  refreshTokens?: PassportRefreshPayload[];
}

const SCRIPT = fileURLToPath(new URL('./passport-php.php', import.meta.url));

export function php(request: PhpRequest): Promise<{ hashes: string[]; jwts: string[]; refreshTokens: string[] }> {
  return new Promise((resolve, reject) => {
    const child = execFile('php', [SCRIPT], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`php ${SCRIPT}: ${err.message} ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
    child.stdin?.end(JSON.stringify(request));
  });
}
