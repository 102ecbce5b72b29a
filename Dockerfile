# syntax=docker/dockerfile:1
# The reseller-auth image. Stages: deps (npm ci from the lock file) → build (Prisma client
# generation, TypeScript) → prune (production dependencies only) → runtime (dist/, the migrations
# and the production node_modules; runs as uid 1000, `node`, under tini). docs/deployment.md says
# how to run it in production.
#
#   docker build -t reseller-auth:0.1.0 .
#   docker run --rm -e DATABASE_URL=… reseller-auth:0.1.0 node dist/cli/main.js migrate
#   docker run --rm -p 3000:3000 -p 3001:3001 -e DATABASE_URL=… -e REDIS_URL=… \
#     -e ADMIN_TOKENS=… -e SECRET_KEY=… reseller-auth:0.1.0
#
# No Docker engine runs where this project is developed: scripts/docker-steps.sh performs these
# instructions in order, in a fresh copy of the repository, and starts the result (run by
# test/docker/docker-steps.test.ts). It refuses to run a RUN it does not know: change both together.

# Node.js 24, the Active LTS line (Node.js 20 reached its end of life in April 2026), on Debian 12
# slim, pinned to the exact release and to the digest of its multi-platform index (amd64, arm64),
# so a rebuild of the tag upstream cannot change the image under the same Dockerfile. To move to a
# newer release, read the new index digest where a registry is reachable:
#   docker buildx imagetools inspect node:<version>-bookworm-slim --format '{{json .Manifest.Digest}}'
FROM node:24.19.0-bookworm-slim@sha256:3638d9a6fe4030bd716be989438248074489337ba3275657f93595428be4fc03 AS base
WORKDIR /app

FROM base AS deps
# A C/C++ toolchain for the native modules, in the build stages only.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# No install scripts: Prisma's would download query engines this project never uses (engine
# "js", see docs/configuration.md "Storage") and the postinstall `prisma generate` needs the schema, which the
# build stage provides. The cache mount keeps npm's cache between builds; --prefer-offline reads
# the registry metadata from it instead of asking the registry again for each of ~540 packages
# (the lock file has no tarball URLs, so npm needs that metadata): the lock file's integrity
# hashes still decide what is installed, so the layer is the same.
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --prefer-offline --ignore-scripts --no-audit --no-fund
# bcrypt (Passport's imported hashes) compiled against this image's glibc and Node.js headers, not
# its prebuilt binary. argon2id comes prebuilt for this platform with @node-rs/argon2 (an optional
# dependency per platform, which npm ci picked). The require() fails the build, not the pod, when
# a native module does not load.
RUN npm rebuild bcrypt --build-from-source && node -e "require('bcrypt'); require('@node-rs/argon2')"

FROM deps AS build
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
# prisma generate (into src/generated/prisma), then tsc: dist/ holds the generated client too.
# No source maps in the image (tsconfig.json emits them for development).
RUN npm run build -- --sourceMap false

FROM build AS prune
# The Prisma CLI and TypeScript are optional peers of @prisma/client, so npm marks them
# "devOptional" and only --omit=dev with --omit=optional drops them. That also drops the optional
# per-platform packages, one of which the image needs: @node-rs/argon2's binary for this platform
# (npm ci picked it), kept aside and put back. The others it drops: @napi-rs/nice (piscina's, for
# an option this service does not use) and pg-cloudflare (loaded on Cloudflare Workers only).
RUN cp -a node_modules/@node-rs .node-rs && npm prune --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && cp -an .node-rs/. node_modules/@node-rs/ && rm -rf .node-rs && node -e "require('@node-rs/argon2')"
# What no code path loads: source maps, and the Prisma runtimes for other databases and engines.
# The generated client (engineType "client", PostgreSQL) imports runtime/client and
# runtime/index-browser, and the PostgreSQL query compiler; the query engines (29 MB) and the
# compilers for CockroachDB, MySQL, SQL Server and SQLite go.
RUN find node_modules -name '*.map' -type f -delete && find node_modules/@prisma/client/runtime -type f ! -name 'client.*' ! -name 'index-browser.*' ! -name 'query_compiler_bg.postgresql.*' -delete

FROM base AS runtime
# An init as PID 1: it forwards SIGTERM to node (which drains and closes cleanly) and reaps
# zombies. Kubernetes has no `docker run --init`.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# Only what runs: no sources, tests or dev dependencies. dist/db/migrate.js reads
# ../../prisma/migrations, i.e. /app/prisma/migrations.
COPY --from=prune /app/package.json ./
COPY --from=prune /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY prisma/migrations ./prisma/migrations
# DATA_DIR (default ./data): the one place besides /tmp where the service may write; the chart
# mounts emptyDirs on both and makes the rest of the filesystem read-only.
RUN mkdir /app/data && chown 1000:1000 /app/data
# Numeric: Kubernetes' runAsNonRoot can verify a uid, not a name. 1000 is `node` in this image.
USER 1000:1000
EXPOSE 3000 3001
# For Docker and Compose (Kubernetes ignores it: the chart has its own probes). No curl in the
# image: node asks /health/live on PORT; liveness only, a database outage is no reason to restart.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health/live`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["tini", "--"]
CMD ["node", "dist/server.js"]
