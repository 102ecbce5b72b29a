<?php

declare(strict_types=1);

namespace ResellerAuth\Laravel;

use RuntimeException;
use Throwable;

/**
 * reseller-auth could not say whether the token is valid: it answered 503 (its token store is
 * down), did not answer within the timeout, or answered something unexpected (e.g. 401
 * invalid_client: this resource server's credentials are wrong). Never a reason to treat the
 * caller as logged out: the request gets 503 with Retry-After and the client asks again.
 */
final class ServiceUnavailable extends RuntimeException
{
    public const BODY = ['message' => 'The authorization service is unavailable. Try again shortly.'];

    public function __construct(string $reason, public readonly int $retryAfter = 5, ?Throwable $previous = null)
    {
        parent::__construct("reseller-auth introspection failed: {$reason}", 0, $previous);
    }

    /** The 503 (RFC 9110 §15.6.4) with Retry-After (§10.2.3). */
    public function headers(): array
    {
        return ['Retry-After' => (string) $this->retryAfter, 'Cache-Control' => 'no-store'];
    }

    /**
     * Laravel's exception handler calls render() on an exception that has one: with the stock
     * `auth:<guard>` middleware this still answers 503, not 500.
     */
    public function render($request)
    {
        return \response()->json(self::BODY, 503, $this->headers());
    }
}
