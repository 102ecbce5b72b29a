<?php

declare(strict_types=1);

// The guard's tests without PHPUnit (no Composer): TAP on stdout, read by tap's t.spawn in
// test/integrations/laravel.test.ts; test doubles for what Laravel would hand the guard.

use Illuminate\Contracts\Auth\Factory;
use Illuminate\Contracts\Cache\Repository;
use Illuminate\Contracts\Routing\ResponseFactory;

require __DIR__.'/stubs/contracts.php';
spl_autoload_register(static function (string $class): void {
    $prefix = 'ResellerAuth\\Laravel\\';
    if (str_starts_with($class, $prefix)) {
        require __DIR__.'/../src/'.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';
    }
});

final class Tap
{
    private static int $count = 0;

    private static bool $failed = false;

    public static function ok(bool $pass, string $name, array $diagnostic = []): void
    {
        self::$count++;
        echo ($pass ? 'ok ' : 'not ok ').self::$count.' - '.$name."\n";
        if (!$pass) {
            self::$failed = true;
            echo "  ---\n";
            foreach ($diagnostic as $key => $value) {
                echo "  {$key}: ".json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE)."\n";
            }
            echo "  ...\n";
        }
    }

    public static function same(mixed $found, mixed $wanted, string $name): void
    {
        self::ok($found === $wanted, $name, ['found' => $found, 'wanted' => $wanted]);
    }

    public static function throws(string $class, Closure $fn, string $name): ?Throwable
    {
        try {
            $fn();
        } catch (Throwable $e) {
            self::ok($e instanceof $class, $name, ['found' => get_class($e).': '.$e->getMessage(), 'wanted' => $class]);

            return $e;
        }
        self::ok(false, $name, ['found' => 'no exception', 'wanted' => $class]);

        return null;
    }

    public static function end(): never
    {
        echo '1..'.self::$count."\n";
        exit(self::$failed ? 1 : 0);
    }
}

/** An Illuminate\Http\Request as far as the guard reads it. */
final class FakeRequest
{
    public function __construct(private readonly array $headers = [])
    {
    }

    public function header(string $key, $default = null)
    {
        foreach ($this->headers as $name => $value) {
            if (strcasecmp($name, $key) === 0) {
                return $value;
            }
        }

        return $default;
    }
}

final class FakeResponse
{
    public function __construct(public readonly int $status, public readonly array $data, public readonly array $headers)
    {
    }
}

final class FakeResponses implements ResponseFactory
{
    public function json($data = [], $status = 200, array $headers = [], $options = 0)
    {
        return new FakeResponse($status, $data, $headers);
    }
}

final class FakeAuth implements Factory
{
    /** @var list<string|null> */
    public array $used = [];

    public function __construct(private readonly object $guard)
    {
    }

    public function guard($name = null)
    {
        return $this->guard;
    }

    public function shouldUse($name)
    {
        $this->used[] = $name;
    }
}

/** Laravel's array cache store, keeping the TTL each put asked for. */
final class ArrayCache implements Repository
{
    /** @var array<string, mixed> */
    public array $items = [];

    /** @var array<string, int> */
    public array $ttls = [];

    public function get(string $key, mixed $default = null): mixed
    {
        return $this->items[$key] ?? $default;
    }

    public function put($key, $value, $ttl = null)
    {
        $this->items[$key] = $value;
        $this->ttls[$key] = $ttl;

        return true;
    }
}

/** Laravel's response() helper, for ServiceUnavailable::render. */
function response(): FakeResponses
{
    return new FakeResponses();
}

/** POSTs a form or JSON body to the service; answers [status, decoded body]. */
function post(string $url, array $fields, array $headers = []): array
{
    $context = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => implode("\r\n", array_merge(['Content-Type: application/x-www-form-urlencoded'], $headers)),
        'content' => http_build_query($fields),
        'ignore_errors' => true,
        'timeout' => 30,
    ]]);
    $body = file_get_contents($url, false, $context);
    $status = (int) explode(' ', $http_response_header[0], 3)[1];

    return [$status, json_decode((string) $body, true)];
}

function env(string $name): string
{
    $value = getenv($name);
    if (!is_string($value) || $value === '') {
        fwrite(STDERR, "{$name} is not set\n");
        exit(2);
    }

    return $value;
}
