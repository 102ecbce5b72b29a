<?php

declare(strict_types=1);

namespace ResellerAuth\Laravel;

use Closure;
use Illuminate\Contracts\Cache\Repository as Cache;

/**
 * Asks reseller-auth whether an access token is active (RFC 7662 §2), authenticated as a
 * registered resource server with HTTP Basic (RFC 7662 §2.1, RFC 6749 §2.3.1). PHP's own HTTP
 * stream wrapper: no Composer dependency, no curl extension needed.
 *
 * Optional positive cache: an active answer may be reused for `cacheTtl` seconds (at most
 * MAX_CACHE_TTL) and never past the token's `exp`. That is how long a revocation may go unseen
 * by this application; inactive answers and failures are never cached.
 */
final class IntrospectionClient
{
    public const MAX_CACHE_TTL = 10;

    private readonly int $cacheTtl;

    private readonly Closure $clock;

    /**
     * @param string $url the introspection endpoint, e.g. http://reseller-auth:3000/oauth/introspect
     * @param float $timeout seconds, for the connection and for each read
     * @param (Closure(): int)|null $clock the Unix time, replaceable in tests
     */
    public function __construct(
        private readonly string $url,
        private readonly string $clientId,
        private readonly string $clientSecret,
        private readonly float $timeout = 2.0,
        private readonly ?Cache $cache = null,
        int $cacheTtl = 0,
        ?Closure $clock = null,
    ) {
        $this->cacheTtl = max(0, min($cacheTtl, self::MAX_CACHE_TTL));
        $this->clock = $clock ?? static fn (): int => time();
    }

    /**
     * @return array<string, mixed>|null the answer's members when active, null when inactive
     *
     * @throws ServiceUnavailable when the service cannot tell
     */
    public function introspect(string $token): ?array
    {
        $now = ($this->clock)();
        // The token itself never becomes a cache key: a store dump must not hold usable tokens.
        $key = 'reseller-auth:introspection:'.hash('sha256', $token);
        if ($this->cache !== null && $this->cacheTtl > 0) {
            $hit = $this->cache->get($key);
            if (is_array($hit) && is_int($hit['until'] ?? null) && $hit['until'] > $now && is_array($hit['answer'] ?? null)) {
                return $hit['answer'];
            }
        }
        $answer = $this->ask($token);
        if ($answer !== null && $this->cache !== null && $this->cacheTtl > 0) {
            $until = min($now + $this->cacheTtl, (int) ($answer['exp'] ?? 0));
            if ($until > $now) {
                $this->cache->put($key, ['answer' => $answer, 'until' => $until], $until - $now);
            }
        }

        return $answer;
    }

    /** @return array<string, mixed>|null */
    private function ask(string $token): ?array
    {
        // RFC 6749 §2.3.1: each credential form-urlencoded, then joined for HTTP Basic.
        $basic = base64_encode(rawurlencode($this->clientId).':'.rawurlencode($this->clientSecret));
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => implode("\r\n", [
                "Authorization: Basic {$basic}",
                'Content-Type: application/x-www-form-urlencoded',
                'Accept: application/json',
                'Connection: close',
            ]),
            'content' => http_build_query(['token' => $token, 'token_type_hint' => 'access_token']),
            'timeout' => $this->timeout,
            'ignore_errors' => true, // the body and headers of a 4xx/5xx too
            'follow_location' => 0,
        ]]);
        $body = @file_get_contents($this->url, false, $context);
        $headers = function_exists('http_get_last_response_headers') ? (http_get_last_response_headers() ?? []) : ($http_response_header ?? []);
        if ($body === false || $headers === []) {
            $error = error_get_last()['message'] ?? 'no answer';
            throw new ServiceUnavailable("{$this->url} unreachable or too slow ({$error})");
        }
        $status = (int) (explode(' ', $headers[0], 3)[1] ?? 0);
        if ($status === 503) {
            // RFC 7662 §2.3 leaves errors to HTTP; the service sends temporarily_unavailable + Retry-After.
            throw new ServiceUnavailable('the service answered 503', self::retryAfter($headers));
        }
        if ($status !== 200) {
            throw new ServiceUnavailable("the service answered {$status}: check this resource server's credentials and URL");
        }
        $answer = json_decode($body, true);
        if (!is_array($answer) || !array_key_exists('active', $answer)) {
            throw new ServiceUnavailable('the answer is not an RFC 7662 response');
        }

        // RFC 7662 §2.2: `active` is a boolean; anything but true is inactive.
        return $answer['active'] === true ? $answer : null;
    }

    /** @param list<string> $headers */
    private static function retryAfter(array $headers): int
    {
        foreach ($headers as $line) {
            if (preg_match('/^Retry-After:\s*(\d{1,5})\s*$/i', $line, $m) === 1) {
                return max(1, (int) $m[1]);
            }
        }

        return 5;
    }
}
