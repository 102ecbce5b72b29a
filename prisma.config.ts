// Prisma 6.19 CLI configuration (docs/configuration.md, "Storage": the machines that develop and
// test this project cannot download Prisma's native engines).
// engine "js" + a driver adapter lets the CLI run without downloading a native engine. The
// service applies migrations itself (src/db/migrate.ts), recording them in _prisma_migrations as
// `prisma migrate deploy` would; the CLI is used at development time to generate the client and
// to diff the schema into migration SQL against a throw-away in-memory PGlite.
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { defineConfig } from 'prisma/config';

// The CLI calls adapter() more than once per command: one PGlite instance only.
let adapter: Promise<PrismaPGlite> | undefined;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  engine: 'js',
  experimental: { adapter: true },
  adapter: () => {
    adapter ??= PGlite.create().then((db) => new PrismaPGlite(db));
    return adapter;
  },
});
