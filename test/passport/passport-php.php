<?php
// What a Laravel application running Passport writes, made by PHP itself for the import tests:
// Hash::make (password_hash: bcrypt cost 10 or 12, argon2id), league/oauth2-server 8.5's access
// token (an RS256 JWT signed with openssl_sign, lcobucci/jwt 4's claims: aud as a string, iat,
// nbf and exp as floats with microseconds), and its refresh token (the JSON payload sealed with
// defuse/php-encryption v2's encryptWithPassword, written here from the library's documented
// format, docs/CryptoDetails.md, with PHP's own hash_pbkdf2, hash_hkdf and openssl_encrypt).
// Reads one JSON request on stdin, writes one JSON answer on stdout.
ini_set('serialize_precision', '-1');
$in = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);

function b64url(string $bytes): string {
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

function defuse_encrypt_with_password(string $plaintext, string $password): string {
    $salt = random_bytes(32);
    $iv = random_bytes(16);
    $prekey = hash_pbkdf2('sha256', hash('sha256', $password, true), $salt, 100000, 32, true);
    $akey = hash_hkdf('sha256', $prekey, 32, 'DefusePHP|V2|KeyForAuthentication', $salt);
    $ekey = hash_hkdf('sha256', $prekey, 32, 'DefusePHP|V2|KeyForEncryption', $salt);
    $body = "\xDE\xF5\x02\x00" . $salt . $iv . openssl_encrypt($plaintext, 'aes-256-ctr', $ekey, OPENSSL_RAW_DATA, $iv);
    return bin2hex($body . hash_hmac('sha256', $body, $akey, true));
}

$out = ['hashes' => [], 'jwts' => [], 'refreshTokens' => []];
foreach ($in['hashes'] ?? [] as $h) {
    $out['hashes'][] = match ($h['algo']) {
        'bcrypt10' => password_hash($h['password'], PASSWORD_BCRYPT, ['cost' => 10]),
        'bcrypt12' => password_hash($h['password'], PASSWORD_BCRYPT, ['cost' => 12]),
        'argon2id' => password_hash($h['password'], PASSWORD_ARGON2ID),
    };
}
if (!empty($in['jwts'])) {
    $key = openssl_pkey_get_private($in['privateKey']);
    foreach ($in['jwts'] as $claims) {
        $signing = b64url(json_encode(['typ' => 'JWT', 'alg' => 'RS256'])) . '.' . b64url(json_encode($claims, JSON_UNESCAPED_SLASHES));
        openssl_sign($signing, $signature, $key, OPENSSL_ALGO_SHA256);
        $out['jwts'][] = $signing . '.' . b64url($signature);
    }
}
foreach ($in['refreshTokens'] ?? [] as $payload) {
    // Passport passes app('encrypter')->getKey(): APP_KEY's raw bytes.
    $out['refreshTokens'][] = defuse_encrypt_with_password(json_encode($payload), base64_decode($in['appKey']));
}
echo json_encode($out);
