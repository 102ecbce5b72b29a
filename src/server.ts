// Starts what app.ts builds: loads the configuration once, opens the services, listens on both
// ports and shuts down gracefully (drain, then close PostgreSQL/PGlite and Redis).
import closeWithGrace from 'close-with-grace';
import { buildAdminApp, buildPublicApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { drain } from './drain.js';
import { createLogger } from './logger.js';
import { resolveGeneratedSecrets } from './security/generated-secrets.js';
import { createServices } from './services.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** A stop signal repeated within this is the same request to stop (see below). */
const ECHO_MS = 1000;

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
    // Outside production the generated admin token is printed so a newcomer can use the API (docs/configuration.md, "Storage").
    process.stdout.write(`\nreseller-auth: admin token (kept in ${config.dataDir}/secrets.json): ${resolved.generatedAdminToken}\n\n`);
  }
  const services = await createServices(resolved.config, log);
  const publicApp = await buildPublicApp(services);
  const adminApp = await buildAdminApp(services);

  // SIGTERM (Kubernetes, docker stop) drains: readiness 503 and requests served for
  // SHUTDOWN_DELAY seconds, then the listeners close (drain.ts). An interactive SIGINT or a crash
  // closes at once. The bound after which the process is killed leaves room for the delay, the
  // longest request (requestTimeout, 15 s, app.ts) and closing the connections; the chart's
  // terminationGracePeriodSeconds is at least as long.
  const drainMs = config.shutdownDelay * 1000;
  let stopSignal: (typeof STOP_SIGNALS)[number] | undefined;
  let closing = false;
  const grace = closeWithGrace({ delay: drainMs + 25_000, logger: log, skip: [...STOP_SIGNALS] }, async ({ signal = stopSignal, err }) => {
    closing = true;
    if (err) log.error({ err }, 'shutting down after an error');
    else log.info({ signal, drainSeconds: signal === 'SIGTERM' ? config.shutdownDelay : 0 }, 'shutting down');
    await drain(services, [publicApp, adminApp], signal === 'SIGTERM' ? drainMs : 0);
    log.info('listeners closed');
    await services.close();
  });
  // SIGTERM and SIGINT are ours rather than close-with-grace's, which exits at once on a second
  // signal: `npm start` runs the server in its place (package.json "start": exec) and forwards
  // both signals to it, while a terminal's Ctrl-C signals the whole foreground process group, so
  // one Ctrl-C may arrive twice. The same signal again within ECHO_MS is that echo; any later
  // one asks for an immediate exit, as close-with-grace's second signal does.
  let stoppedAt = 0;
  const onStopSignal = (signal: (typeof STOP_SIGNALS)[number]) => {
    if (!closing) {
      stopSignal = signal;
      stoppedAt = Date.now();
      void grace.close();
    } else if (signal !== stopSignal || Date.now() - stoppedAt > ECHO_MS) {
      log.error({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onStopSignal);

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
