#!/usr/bin/env bash
# The test command: `npm test` runs this, and so does CI (.ci/run), so that the README's test
# command is what CI runs. Typecheck and lint (they do not depend on the runtime, so once), then:
#   - the whole tap suite on Node.js 24, the image's runtime (Dockerfile), when NODE24_BIN names
#     its `node` (scripts/test-services.sh exports it; scripts/node24.sh installs it), else on
#     the Node.js running this script. Every suite runs on the embedded defaults; those that need
#     real servers run when TEST_DATABASE_URL, TEST_REDIS_URL… are set (scripts/test-services.sh).
#   - then, when that was another version, a representative subset on this Node.js (20 on CI,
#     the oldest `engines` allows): the parts where Node.js versions differ — native modules
#     (argon2, bcrypt) on worker threads, the embedded PGlite (WebAssembly), the HTTP server as a
#     real process (drain on SIGTERM), fetch, and the password grant, introspection and readiness
#     over PostgreSQL and Redis. The whole suite twice would double the ~8 minutes it takes on
#     2 cores.
# Arguments are passed to tap in place of the whole suite (`npm test -- test/x.test.ts`), and then
# the subset is not run.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run typecheck
npm run lint

suite_path="$PATH"
if [[ -n "${NODE24_BIN:-}" ]]; then
  [[ -x "$NODE24_BIN" ]] || { echo "test: NODE24_BIN=$NODE24_BIN is not an executable node" >&2; exit 1; }
  suite_path="$(dirname "$NODE24_BIN"):$PATH"
fi
suite_node="$(PATH="$suite_path" node --version)"
echo "test: the tap suite on Node.js $suite_node"
PATH="$suite_path" npx tap "$@"

if [[ $# -eq 0 && "$(node --version)" != "$suite_node" ]]; then
  echo "test: the representative subset on Node.js $(node --version)"
  npx tap \
    test/security/password-hasher.test.ts \
    test/routes/oauth/token.test.ts \
    test/routes/oauth/introspect.test.ts \
    test/routes/health.test.ts \
    test/services.test.ts \
    test/drain.test.ts
fi
