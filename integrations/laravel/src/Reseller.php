<?php

declare(strict_types=1);

namespace ResellerAuth\Laravel;

use Illuminate\Contracts\Auth\Authenticatable;

/**
 * The caller of a DBS API request, as RFC 7662 introspection describes it (docs/resource-servers.md):
 * `sub` is the user id, `username` the e-mail, `reseller_id` the DBS reseller, `client_id` the
 * reseller's API client. Read-only: it has no password and no "remember me" token.
 */
final class Reseller implements Authenticatable
{
    /** @param list<string> $scopes */
    public function __construct(
        public readonly string $id,
        public readonly string $email,
        public readonly string $resellerId,
        public readonly string $clientId,
        public readonly array $scopes,
        public readonly int $expiresAt,
    ) {
    }

    /** @param array<string, mixed> $answer an active introspection answer */
    public static function fromIntrospection(array $answer): self
    {
        $scope = (string) ($answer['scope'] ?? '');

        return new self(
            (string) ($answer['sub'] ?? ''),
            (string) ($answer['username'] ?? ''),
            (string) ($answer['reseller_id'] ?? ''),
            (string) ($answer['client_id'] ?? ''),
            $scope === '' ? [] : array_values(array_filter(explode(' ', $scope), 'strlen')),
            (int) ($answer['exp'] ?? 0),
        );
    }

    /** What Passport's HasApiTokens::tokenCan answered: does the token carry this scope? */
    public function tokenCan(string $scope): bool
    {
        return in_array($scope, $this->scopes, true);
    }

    public function getAuthIdentifierName()
    {
        return 'id';
    }

    public function getAuthIdentifier()
    {
        return $this->id;
    }

    public function getAuthPasswordName()
    {
        return 'password';
    }

    public function getAuthPassword()
    {
        return '';
    }

    public function getRememberToken()
    {
        return null;
    }

    public function setRememberToken($value)
    {
        // Stateless: a bearer token is checked on every request, nothing is remembered.
    }

    public function getRememberTokenName()
    {
        return '';
    }
}
