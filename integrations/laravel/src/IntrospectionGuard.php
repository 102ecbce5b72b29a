<?php

declare(strict_types=1);

namespace ResellerAuth\Laravel;

use Illuminate\Contracts\Auth\Authenticatable;
use Illuminate\Contracts\Auth\Guard;

/**
 * A stateless guard: the request's bearer token (RFC 6750 §2.1) is introspected at reseller-auth
 * once per request, and the caller becomes a Reseller. user() answers null when there is no
 * token or the token is inactive, and throws ServiceUnavailable when reseller-auth cannot tell.
 */
final class IntrospectionGuard implements Guard
{
    private ?Authenticatable $user = null;

    private bool $resolved = false;

    /**
     * @param object $request the current Illuminate\Http\Request (only its header() is read)
     * @param string $realm the RFC 6750 §3 realm of this API's challenges
     */
    public function __construct(
        private readonly IntrospectionClient $client,
        private object $request,
        public readonly string $realm = 'api',
    ) {
    }

    /** Laravel rebinds the request (Application::refresh) when a new one arrives. */
    public function setRequest(object $request): static
    {
        $this->request = $request;
        $this->user = null;
        $this->resolved = false;

        return $this;
    }

    public function user()
    {
        if (!$this->resolved) {
            $token = $this->bearerToken();
            $answer = $token === null ? null : $this->client->introspect($token);
            $this->user = $answer === null ? null : Reseller::fromIntrospection($answer);
            $this->resolved = true;
        }

        return $this->user;
    }

    /** Did the request carry bearer credentials at all? (Decides the challenge's error code, RFC 6750 §3.1.) */
    public function hasBearerCredentials(): bool
    {
        $header = $this->authorization();

        return $header !== null && preg_match('/^Bearer(\s|$)/i', $header) === 1;
    }

    /**
     * The token of `Authorization: Bearer <b64token>` (RFC 6750 §2.1; the scheme is
     * case-insensitive, RFC 9110 §11.1), or null.
     */
    public function bearerToken(): ?string
    {
        $header = $this->authorization();
        if ($header !== null && preg_match('/^Bearer +([A-Za-z0-9\-._~+\/]+=*)\s*$/i', $header, $m) === 1) {
            return $m[1];
        }

        return null;
    }

    public function check()
    {
        return $this->user() !== null;
    }

    public function guest()
    {
        return !$this->check();
    }

    public function id()
    {
        return $this->user()?->getAuthIdentifier();
    }

    /** @param array{token?: string} $credentials */
    public function validate(array $credentials = [])
    {
        $token = $credentials['token'] ?? null;

        return is_string($token) && $token !== '' && $this->client->introspect($token) !== null;
    }

    public function hasUser()
    {
        return $this->user !== null;
    }

    public function setUser(Authenticatable $user)
    {
        $this->user = $user;
        $this->resolved = true;

        return $this;
    }

    private function authorization(): ?string
    {
        $value = $this->request->header('Authorization');

        return is_string($value) && $value !== '' ? $value : null;
    }
}
