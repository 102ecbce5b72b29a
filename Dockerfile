# syntax=docker/dockerfile:1
# The reseller-auth image (issue 7). Stages: deps (npm ci from the lock file) → build (Prisma
# client generation, TypeScript) → prune (production dependencies only) → runtime (dist/, the
# migrations and the production node_modules; runs as `node` under tini).
#
#   docker build -t reseller-auth:0.1.0 .
#   docker run --rm -e DATABASE_URL=… reseller-auth:0.1.0 node dist/cli/main.js migrate
#   docker run --rm -p 3000:3000 -p 3001:3001 -e DATABASE_URL=… -e REDIS_URL=… \
#     -e ADMIN_TOKENS=… -e SECRET_KEY=… reseller-auth:0.1.0
#
# No Docker engine runs where this project is developed: scripts/docker-steps.sh performs these
# instructions in order, in a fresh copy of the repository, and starts the result (run by
# test/docker/docker-steps.test.ts). It refuses to run a RUN it does not know: change both together.

FROM node:20.20.2-bookworm-slim AS base
WORKDIR /app

FROM base AS deps
# A C/C++ toolchain for the native modules, in the build stages only.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# No install scripts: Prisma's would download query engines this project never uses (engine
# "js", see PRISMA-OFFLINE.md) and the postinstall `prisma generate` needs the schema, which the
# build stage provides.
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --ignore-scripts --no-audit --no-fund
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
RUN npm run build

FROM build AS prune
# The Prisma CLI and TypeScript are optional peers of @prisma/client, so npm marks them
# "devOptional" and only --omit=dev with --omit=optional drops them. That also drops the optional
# per-platform packages, one of which the image needs: @node-rs/argon2's binary for this platform
# (npm ci picked it), kept aside and put back. The others it drops: @napi-rs/nice (piscina's, for
# an option this service does not use) and pg-cloudflare (loaded on Cloudflare Workers only).
RUN cp -a node_modules/@node-rs .node-rs && npm prune --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && cp -an .node-rs/. node_modules/@node-rs/ && rm -rf .node-rs && node -e "require('@node-rs/argon2')"

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
RUN mkdir /app/data && chown node:node /app/data
USER node
EXPOSE 3000 3001
ENTRYPOINT ["tini", "--"]
CMD ["node", "dist/server.js"]
