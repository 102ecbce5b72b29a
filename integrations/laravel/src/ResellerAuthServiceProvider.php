<?php

declare(strict_types=1);

namespace ResellerAuth\Laravel;

use Illuminate\Support\ServiceProvider;
use InvalidArgumentException;

/**
 * Registers the `reseller-auth` guard driver (config/auth.php) and the `reseller-auth` route
 * middleware. See this folder's README.md.
 */
final class ResellerAuthServiceProvider extends ServiceProvider
{
    public function boot(): void
    {
        $this->app['auth']->extend('reseller-auth', static function ($app, string $name, array $config): IntrospectionGuard {
            $guard = new IntrospectionGuard(self::client($app, $name, $config), $app['request'], (string) ($config['realm'] ?? 'api'));
            // As Laravel's own token guard: follow the container's request (queues, Octane).
            $app->refresh('request', $guard, 'setRequest');

            return $guard;
        });
        $this->app['router']->aliasMiddleware('reseller-auth', AuthenticateReseller::class);
    }

    /** @param array<string, mixed> $config the guard's entry of config/auth.php */
    private static function client($app, string $name, array $config): IntrospectionClient
    {
        foreach (['introspection_url', 'client_id', 'client_secret'] as $key) {
            if (!is_string($config[$key] ?? null) || $config[$key] === '') {
                // Fail at the first request with the setting to fix, rather than 503 on every one.
                throw new InvalidArgumentException("auth.guards.{$name}.{$key} is not set (see the RESELLER_AUTH_* variables)");
            }
        }
        $ttl = (int) ($config['cache_ttl'] ?? 0);

        return new IntrospectionClient(
            $config['introspection_url'],
            $config['client_id'],
            $config['client_secret'],
            (float) ($config['timeout'] ?? 2.0),
            $ttl > 0 ? $app['cache']->store($config['cache_store'] ?? null) : null,
            $ttl,
        );
    }
}
