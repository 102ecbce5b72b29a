<?php

// Laravel 11's contracts as the guard uses them (illuminate/contracts). Test-only.

namespace Illuminate\Contracts\Auth {
    interface Authenticatable
    {
        public function getAuthIdentifierName();

        public function getAuthIdentifier();

        public function getAuthPasswordName();

        public function getAuthPassword();

        public function getRememberToken();

        public function setRememberToken($value);

        public function getRememberTokenName();
    }

    interface Guard
    {
        public function check();

        public function guest();

        public function user();

        public function id();

        public function validate(array $credentials = []);

        public function hasUser();

        public function setUser(Authenticatable $user);
    }

    interface Factory
    {
        public function guard($name = null);

        public function shouldUse($name);
    }
}

namespace Illuminate\Contracts\Routing {
    // Only the method the middleware calls.
    interface ResponseFactory
    {
        public function json($data = [], $status = 200, array $headers = [], $options = 0);
    }
}

namespace Illuminate\Contracts\Cache {
    // Only the methods the cache calls (get comes from PSR-16's CacheInterface).
    interface Repository
    {
        public function get(string $key, mixed $default = null): mixed;

        public function put($key, $value, $ttl = null);
    }
}

namespace Illuminate\Support {
    abstract class ServiceProvider
    {
        public function __construct(protected $app)
        {
        }
    }
}
