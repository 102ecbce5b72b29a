<?php

declare(strict_types=1);

// The guard and middleware against the real reseller-auth over HTTP. Usage:
//   php guard-test.php service|unavailable|unreachable   (variables: see test/integrations/laravel.test.ts)

use ResellerAuth\Laravel\AuthenticateReseller;
use ResellerAuth\Laravel\IntrospectionClient;
use ResellerAuth\Laravel\IntrospectionGuard;
use ResellerAuth\Laravel\Reseller;
use ResellerAuth\Laravel\ResellerAuthServiceProvider;
use ResellerAuth\Laravel\ServiceUnavailable;

require __DIR__.'/harness.php';

const CHALLENGE = 'Bearer realm="api"';
const INVALID = 'Bearer realm="api", error="invalid_token", error_description="The access token is malformed, unknown, expired or revoked"';

function introspectionUrl(): string
{
    return env('RESELLER_AUTH_URL').'/oauth/introspect';
}

function client(?ArrayCache $cache = null, int $ttl = 0, ?Closure $clock = null, ?string $url = null, ?string $secret = null, float $timeout = 2.0): IntrospectionClient
{
    return new IntrospectionClient($url ?? introspectionUrl(), getenv('RS_CLIENT_ID') ?: '0', $secret ?? (getenv('RS_SECRET') ?: ''), $timeout, $cache, $ttl, $clock);
}

/** The middleware around a fresh guard for one request: [response or 'next', the guard, the auth factory]. */
function handle(IntrospectionClient $client, array $headers): array
{
    $guard = new IntrospectionGuard($client, new FakeRequest($headers));
    $auth = new FakeAuth($guard);
    $result = (new AuthenticateReseller($auth, new FakeResponses()))->handle(new FakeRequest($headers), static fn () => 'next', 'api');

    return [$result, $guard, $auth];
}

function issue(string $scope = ''): array
{
    [$status, $body] = post(env('RESELLER_AUTH_URL').'/oauth/token', [
        'grant_type' => 'password',
        'client_id' => env('RESELLER_CLIENT_ID'),
        'client_secret' => env('RESELLER_CLIENT_SECRET'),
        'username' => env('RESELLER_EMAIL'),
        'password' => env('RESELLER_PASSWORD'),
        'scope' => $scope,
    ]);
    Tap::same($status, 200, 'a token from /oauth/token');

    return $body;
}

function revoke(string $token): void
{
    [$status] = post(env('RESELLER_AUTH_URL').'/oauth/revoke', [
        'token' => $token,
        'client_id' => env('RESELLER_CLIENT_ID'),
        'client_secret' => env('RESELLER_CLIENT_SECRET'),
    ]);
    Tap::same($status, 200, 'revoked at /oauth/revoke (RFC 7009)');
}

/** The middleware answered itself, with this status, body and headers. */
function assertAnswer(mixed $result, int $status, array $body, array $headers, string $what): void
{
    Tap::ok($result instanceof FakeResponse, "{$what}: answered by the middleware", ['found' => $result]);
    if ($result instanceof FakeResponse) {
        Tap::same([$result->status, $result->data, $result->headers], [$status, $body, $headers], "{$what}: {$status}, body and headers");
    }
}

/** 401 with auth:api's body and the RFC 6750 §3 challenge. */
function assertDenied(mixed $result, string $challenge, string $what): void
{
    assertAnswer($result, 401, ['message' => 'Unauthenticated.'], ['WWW-Authenticate' => $challenge, 'Cache-Control' => 'no-store'], $what);
}

function assertUnavailable(mixed $result, string $retryAfter, string $what): void
{
    $body = ['message' => 'The authorization service is unavailable. Try again shortly.'];
    assertAnswer($result, 503, $body, ['Retry-After' => $retryAfter, 'Cache-Control' => 'no-store'], $what);
}

function activeToken(): void
{
    $pair = issue('linhas');
    [$result, $guard, $auth] = handle(client(), ['Authorization' => "Bearer {$pair['access_token']}"]);
    Tap::same($result, 'next', 'an active token: the request goes on');
    Tap::same($auth->used, ['api'], 'the guard becomes the request\'s ($request->user())');
    $user = $guard->user();
    Tap::ok($user instanceof Reseller, 'the user is a Reseller');
    Tap::same([$user->id, $user->email, $user->resellerId, $user->clientId, $user->scopes], [
        env('RESELLER_USER_ID'), env('RESELLER_EMAIL'), env('RESELLER_ID'), env('RESELLER_CLIENT_ID'), ['linhas'],
    ], 'id (sub), e-mail (username), reseller_id, client_id, scopes from the introspection answer');
    Tap::ok(abs($user->expiresAt - time() - (int) $pair['expires_in']) <= 5, 'expiresAt is the token\'s exp', ['found' => $user->expiresAt]);
    Tap::same([$user->tokenCan('linhas'), $user->tokenCan('faturas')], [true, false], 'tokenCan as Passport answered it');
    Tap::same([$guard->check(), $guard->guest(), $guard->id(), $guard->hasUser()], [true, false, env('RESELLER_USER_ID'), true], 'check, guest, id, hasUser');
    Tap::same([$guard->validate(['token' => $pair['access_token']]), $guard->validate(['token' => 'nope']), $guard->validate()], [true, false, false], 'validate([token])');
    [$lower] = handle(client(), ['authorization' => "bearer  {$pair['access_token']}"]);
    Tap::same($lower, 'next', 'the scheme is case-insensitive (RFC 9110 §11.1)');
    $guard->setRequest(new FakeRequest([]));
    Tap::same($guard->user(), null, 'a new request (setRequest) is checked anew');
}

function inactiveTokens(): void
{
    [$none] = handle(client(), []);
    assertDenied($none, CHALLENGE, 'no Authorization header');
    [$basic] = handle(client(), ['Authorization' => 'Basic '.base64_encode('19:secret')]);
    assertDenied($basic, CHALLENGE, 'Basic credentials');
    [$unknown] = handle(client(), ['Authorization' => 'Bearer '.bin2hex(random_bytes(32))]);
    assertDenied($unknown, INVALID, 'an unknown token');
    [$malformed] = handle(client(), ['Authorization' => 'Bearer abc def']);
    assertDenied($malformed, INVALID, 'a malformed token');
    $pair = issue();
    [$refresh] = handle(client(), ['Authorization' => "Bearer {$pair['refresh_token']}"]);
    assertDenied($refresh, INVALID, 'a refresh token');
    revoke($pair['access_token']);
    [$revoked] = handle(client(), ['Authorization' => "Bearer {$pair['access_token']}"]);
    assertDenied($revoked, INVALID, 'a revoked token (no cache: at once)');
}

function misconfigured(): void
{
    $pair = issue();
    [$result] = handle(client(secret: 'wrong-secret'), ['Authorization' => "Bearer {$pair['access_token']}"]);
    assertUnavailable($result, '5', 'wrong resource-server credentials (401 invalid_client)');
    $e = Tap::throws(ServiceUnavailable::class, static fn () => client(secret: 'wrong-secret')->introspect($pair['access_token']), 'the guard throws ServiceUnavailable');
    Tap::ok($e !== null && str_contains($e->getMessage(), 'answered 401') && !str_contains($e->getMessage(), 'wrong-secret'), 'its message names the status, not the secret', ['found' => $e?->getMessage()]);
}

function cache(): void
{
    $now = 1_000_000;
    $clock = static function () use (&$now): int {
        return $now;
    };
    $cache = new ArrayCache();
    $cached = client($cache, 3, $clock);
    $pair = issue();
    $bearer = ['Authorization' => "Bearer {$pair['access_token']}"];
    [$first] = handle($cached, $bearer);
    Tap::same($first, 'next', 'cache: the first request asks the service');
    Tap::same(array_values($cache->ttls), [3], 'cache: stored for its TTL');
    Tap::ok(!str_contains(json_encode(array_keys($cache->items)), $pair['access_token']), 'cache: the key is a digest, not the token');
    revoke($pair['access_token']);
    $now += 2;
    [$within] = handle($cached, $bearer);
    Tap::same($within, 'next', 'cache: within its TTL a revoked token is still accepted (the documented bound)');
    $now += 1;
    [$after] = handle($cached, $bearer);
    assertDenied($after, INVALID, 'cache: at its TTL the service is asked again');
    [$again] = handle($cached, $bearer);
    assertDenied($again, INVALID, 'cache: an inactive answer is not cached');

    // Bounded by exp: stored 2 s before the token expires, with a longer TTL.
    $cache = new ArrayCache();
    $pair = issue();
    $exp = client()->introspect($pair['access_token'])['exp'];
    $now = $exp - 2;
    $byExp = client($cache, 10, $clock);
    $bearer = ['Authorization' => "Bearer {$pair['access_token']}"];
    [$first] = handle($byExp, $bearer);
    Tap::same($first, 'next', 'exp: the first request asks the service');
    Tap::same(array_values($cache->ttls), [2], 'exp: stored until exp, not for the 10 s TTL');
    revoke($pair['access_token']);
    $now = $exp - 1;
    [$before] = handle($byExp, $bearer);
    Tap::same($before, 'next', 'exp: before exp the cached answer serves');
    $now = $exp;
    [$at] = handle($byExp, $bearer);
    assertDenied($at, INVALID, 'exp: at exp the service is asked again');

    // A TTL above the bound is cut to it.
    $cache = new ArrayCache();
    $now = 1_000_000;
    $pair = issue();
    $long = client($cache, 3600, $clock);
    handle($long, ['Authorization' => "Bearer {$pair['access_token']}"]);
    Tap::same(array_values($cache->ttls), [IntrospectionClient::MAX_CACHE_TTL], 'a TTL above '.IntrospectionClient::MAX_CACHE_TTL.' s is cut to it');
}

function serviceProvider(): void
{
    // What Laravel's AuthManager and container do with the provider, reduced to the calls it makes.
    $app = new class() implements ArrayAccess {
        public array $bindings = [];

        public array $refreshed = [];

        public function offsetExists(mixed $offset): bool
        {
            return isset($this->bindings[$offset]);
        }

        public function offsetGet(mixed $offset): mixed
        {
            return $this->bindings[$offset];
        }

        public function offsetSet(mixed $offset, mixed $value): void
        {
            $this->bindings[$offset] = $value;
        }

        public function offsetUnset(mixed $offset): void
        {
            unset($this->bindings[$offset]);
        }

        public function refresh(string $abstract, object $target, string $method): void
        {
            $this->refreshed[] = [$abstract, $method];
        }
    };
    $app['auth'] = new class() {
        public array $drivers = [];

        public function extend(string $driver, Closure $callback): void
        {
            $this->drivers[$driver] = $callback;
        }
    };
    $app['router'] = new class() {
        public array $aliases = [];

        public function aliasMiddleware(string $name, string $class): void
        {
            $this->aliases[$name] = $class;
        }
    };
    $app['cache'] = new class() {
        public array $stores = [];

        public function store(?string $name = null): ArrayCache
        {
            $this->stores[] = $name;

            return new ArrayCache();
        }
    };
    $pair = issue();
    $app['request'] = new FakeRequest(['Authorization' => "Bearer {$pair['access_token']}"]);
    (new ResellerAuthServiceProvider($app))->boot();
    Tap::same(array_keys($app['auth']->drivers), ['reseller-auth'], 'provider: the reseller-auth guard driver');
    Tap::same($app['router']->aliases, ['reseller-auth' => AuthenticateReseller::class], 'provider: the reseller-auth middleware');
    $config = [
        'driver' => 'reseller-auth',
        'introspection_url' => introspectionUrl(),
        'client_id' => env('RS_CLIENT_ID'),
        'client_secret' => env('RS_SECRET'),
        'timeout' => '1.5',
        'cache_ttl' => '5',
        'cache_store' => 'redis',
    ];
    $guard = $app['auth']->drivers['reseller-auth']($app, 'api', $config);
    Tap::ok($guard instanceof IntrospectionGuard && $guard->user() instanceof Reseller, 'provider: the configured guard introspects');
    Tap::same([$app['cache']->stores, $app->refreshed], [['redis'], [['request', 'setRequest']]], 'provider: the cache store named, the request followed');
    unset($config['client_secret']);
    Tap::throws(InvalidArgumentException::class, static fn () => $app['auth']->drivers['reseller-auth']($app, 'api', $config), 'provider: a missing setting is named');
}

function unavailable(): void
{
    $pair = ['access_token' => env('ACCESS_TOKEN')];
    [$result] = handle(client(), ['Authorization' => "Bearer {$pair['access_token']}"]);
    assertUnavailable($result, env('EXPECTED_RETRY_AFTER'), 'the service answers 503');
    $e = Tap::throws(ServiceUnavailable::class, static fn () => (new IntrospectionGuard(client(), new FakeRequest(['Authorization' => "Bearer {$pair['access_token']}"])))->user(), 'guard: user() throws, it does not answer null');
    $rendered = $e?->render(new FakeRequest());
    Tap::same($rendered?->status, 503, 'with the stock auth: middleware, Laravel renders it as 503');
}

function unreachable(): void
{
    $token = bin2hex(random_bytes(32));
    $started = microtime(true);
    [$closed] = handle(client(url: env('CLOSED_URL')), ['Authorization' => "Bearer {$token}"]);
    assertUnavailable($closed, '5', 'nothing listening');
    Tap::ok(microtime(true) - $started < 2, 'nothing listening: at once');
    $started = microtime(true);
    [$hung] = handle(client(url: env('BLACKHOLE_URL'), timeout: 1.0), ['Authorization' => "Bearer {$token}"]);
    $elapsed = microtime(true) - $started;
    assertUnavailable($hung, '5', 'a server that never answers');
    Tap::ok($elapsed >= 0.9 && $elapsed < 4, 'a server that never answers: after the 1 s timeout', ['found' => $elapsed]);
}

match ($argv[1] ?? '') {
    'service' => [activeToken(), inactiveTokens(), misconfigured(), cache(), serviceProvider()],
    'unavailable' => unavailable(),
    'unreachable' => unreachable(),
    default => [fwrite(STDERR, "usage: php guard-test.php service|unavailable|unreachable\n"), exit(64)],
};
Tap::end();
