<?php

declare(strict_types=1);

namespace ResellerAuth\Laravel;

use Closure;
use Illuminate\Contracts\Auth\Factory as Auth;
use Illuminate\Contracts\Routing\ResponseFactory;

/**
 * Route middleware in place of Passport's `auth:api`: `->middleware('reseller-auth:api')`.
 * 401 with an RFC 6750 §3 challenge for a missing or inactive token, 503 with Retry-After when
 * reseller-auth cannot answer; otherwise the guard becomes the request's (so $request->user()
 * is the Reseller) and the request goes on.
 */
final class AuthenticateReseller
{
    /** What Passport's auth:api answered: the DBS API's clients already parse it. */
    public const UNAUTHENTICATED = ['message' => 'Unauthenticated.'];

    public function __construct(
        private readonly Auth $auth,
        private readonly ResponseFactory $responses,
    ) {
    }

    public function handle(object $request, Closure $next, ?string $guard = null)
    {
        $checker = $this->auth->guard($guard);
        try {
            $user = $checker->user();
        } catch (ServiceUnavailable $unavailable) {
            return $this->responses->json(ServiceUnavailable::BODY, 503, $unavailable->headers());
        }
        if ($user === null) {
            return $this->responses->json(self::UNAUTHENTICATED, 401, [
                'WWW-Authenticate' => self::challenge($checker),
                'Cache-Control' => 'no-store',
            ]);
        }
        $this->auth->shouldUse($guard);

        return $next($request);
    }

    /** RFC 6750 §3.1: no error code when the request had no bearer credentials, invalid_token otherwise. */
    private static function challenge(object $checker): string
    {
        if (!$checker instanceof IntrospectionGuard) {
            return 'Bearer';
        }
        $realm = addcslashes($checker->realm, '"\\');

        return $checker->hasBearerCredentials()
            ? "Bearer realm=\"{$realm}\", error=\"invalid_token\", error_description=\"The access token is malformed, unknown, expired or revoked\""
            : "Bearer realm=\"{$realm}\"";
    }
}
