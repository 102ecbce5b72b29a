// What a CLI command runs against: the server's own configuration, generated secrets and
// services, opened lazily (migrate needs only the database) and closed once at the end.
// Logs, the audit trail included, go to the log destination (standard error); standard output
// carries only the command's result, so a script can pipe it and secrets never land in a log.
import { type Admin, createAdmin } from '../admin/index.js';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { resolveGeneratedSecrets } from '../security/generated-secrets.js';
import { type Services, createServices } from '../services.js';
import type { CommandContext } from './command.js';
import type { CliIo } from './io.js';

const MAX_STDIN = 64 * 1024;

export interface Runtime {
  context: CommandContext;
  close(): Promise<void>;
}

export function createRuntime(config: Config, io: CliIo): Runtime {
  const log = createLogger(config.logLevel, io.log);
  let services: Promise<Services> | undefined;
  let admin: Admin | undefined;
  const openServices = () => {
    // Most commands never hash a password: the hashing thread starts only for those that do.
    services ??= resolveGeneratedSecrets(config).then((resolved) => createServices(resolved.config, log, { hasher: 'on-first-use' }));
    return services;
  };
  return {
    context: {
      config,
      log,
      services: openServices,
      async admin() {
        admin ??= createAdmin(await openServices());
        return admin;
      },
      readStdin: () => readAll(io.stdin),
      warn: (message) => io.stderr.write(`reseller-auth: warning: ${message}\n`),
    },
    async close() {
      // A failed open has nothing to close (createServices cleans up after itself).
      const opened = await services?.catch(() => undefined);
      await opened?.close();
    },
  };
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buffer.length;
    if (size > MAX_STDIN) throw new Error(`standard input is larger than ${MAX_STDIN} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
