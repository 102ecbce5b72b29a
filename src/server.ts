// Starts what app.ts builds: loads the configuration once, opens the services, listens on both
// ports and shuts down gracefully (drain in-flight requests, then close PostgreSQL/PGlite and Redis).
import closeWithGrace from 'close-with-grace';
import { buildAdminApp, buildPublicApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { resolveGeneratedSecrets } from './security/generated-secrets.js';
import { createServices } from './services.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`reseller-auth: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const resolved = await resolveGeneratedSecrets(config);
  if (resolved.generatedAdminToken) {
    // API.md: outside production the generated admin token is printed so a newcomer can use the API.
    process.stdout.write(`\nreseller-auth: admin token (kept in ${config.dataDir}/secrets.json): ${resolved.generatedAdminToken}\n\n`);
  }
  const services = await createServices(resolved.config, log);
  const publicApp = await buildPublicApp(services);
  const adminApp = await buildAdminApp(services);

  closeWithGrace({ delay: 10_000, logger: log }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error');
    else log.info({ signal }, 'shutting down');
    await Promise.all([publicApp.close(), adminApp.close()]);
    await services.close();
  });

  const publicAddress = await publicApp.listen({ host: config.host, port: config.port });
  const adminAddress = await adminApp.listen({ host: config.host, port: config.adminPort });
  log.info(
    {
      public: publicAddress,
      admin: adminAddress,
      port: (publicApp.server.address() as { port: number }).port,
      adminPort: (adminApp.server.address() as { port: number }).port,
      database: services.db.kind,
      tokenStore: services.redis ? 'redis' : 'in-process',
    },
    'listening',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`reseller-auth: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
