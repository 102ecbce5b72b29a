// `reseller-auth migrate`: applies pending migrations (the Helm chart's pre-install/pre-upgrade
// Job runs it). Needs only the database: no secrets are read or generated.
import type { Command } from '../command.js';
import { openDatabase } from '../../db/database.js';

export const migrate: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations (prisma/migrations) and print their names',
  positionals: [],
  examples: ['reseller-auth migrate', 'DATABASE_URL=postgres://user:password@db:5432/reseller_auth reseller-auth migrate'],
  // The Helm chart's migration Job runs before anything else exists and gets only the database.
  requiredInProduction: ['DATABASE_URL'],
  async run(_input, { config, log }) {
    const db = await openDatabase(config, (err) => log.warn({ err: err.message }, 'database connection error'));
    try {
      const applied = await db.migrate();
      log.info({ migrations: applied }, applied.length > 0 ? 'database migrated' : 'database already up to date');
      return { applied };
    } finally {
      await db.close();
    }
  },
};
