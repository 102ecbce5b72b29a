// One invocation of the ops CLI, independent of the process (main.ts wires in the process's
// streams and exit). The same configuration, services and admin layer as the server, so a
// reseller configured here is exactly what the admin API would have made.
//
// Exit status: 0 success; 1 not found or conflict; 64 bad arguments or input (EX_USAGE);
// 69 database or token store unreachable (EX_UNAVAILABLE); 70 unexpected failure (EX_SOFTWARE);
// 78 invalid configuration (EX_CONFIG).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { AppError, DependencyUnavailableError, ValidationFailedError } from '../errors.js';
import { type Command, type CommandInput, UsageError, usage } from './command.js';
import { commands } from './commands/index.js';
import type { CliIo } from './io.js';
import { createRuntime } from './runtime.js';

const PROGRAM = 'reseller-auth';

function help(): string {
  return `Usage: ${PROGRAM} <command> [arguments] [options]\n\nCommands:\n${commands.map(usage).join('\n\n')}\n\nConfiguration comes from the same environment variables as the server (DATABASE_URL, REDIS_URL, SECRET_KEY, DATA_DIR…).\n`;
}

function parseInput(command: Command, args: readonly string[]): CommandInput & { help: boolean } {
  const options = Object.fromEntries(Object.entries(command.options ?? {}).map(([name, spec]) => [name, { type: spec.type }]));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { help: wantsHelp, ...values } = parsed.values;
  if (!wantsHelp) {
    const missing = command.positionals.slice(parsed.positionals.length);
    if (missing.length > 0) throw new UsageError(`missing ${missing.map((p) => `<${p}>`).join(' ')}`);
    const extra = parsed.positionals.slice(command.positionals.length);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  }
  const positionals = Object.fromEntries(command.positionals.map((name, i) => [name, parsed.positionals[i] ?? '']));
  return { positionals, values: values as CommandInput['values'], help: wantsHelp === true };
}

/** `allowedIp` → `allowedIp (--allowed-ip)` when the command has that option. */
function fieldLabel(command: Command, field: string): string {
  const option = field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return command.options?.[option] ? `${field} (--${option})` : field;
}

function report(err: unknown, command: Command, io: CliIo): number {
  const fail = (message: string) => io.stderr.write(`${PROGRAM}: ${message}\n`);
  if (err instanceof UsageError) {
    fail(`${command.name}: ${err.message}\n\n${usage(command)}`);
    return 64;
  }
  if (err instanceof ValidationFailedError) {
    const lines = Object.entries(err.fields ?? {}).map(([field, why]) => `  ${fieldLabel(command, field)}: ${why}`);
    fail(`${command.name}: invalid input\n${lines.join('\n')}`);
    return 64;
  }
  if (err instanceof ConfigError) {
    fail(err.message);
    return 78;
  }
  if (err instanceof DependencyUnavailableError || (err instanceof AppError && err.status === 503)) {
    fail(`${command.name}: ${err instanceof DependencyUnavailableError ? `the ${err.dependency} is unavailable` : err.message}`);
    return 69;
  }
  if (err instanceof AppError) {
    fail(`${command.name}: ${err.message}`);
    return 1;
  }
  fail(`${command.name} failed: ${err instanceof Error ? err.message : String(err)}`);
  return 70;
}

/** Runs one CLI invocation; resolves to the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.stderr : io.stdout).write(help());
    return name === undefined ? 64 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`${PROGRAM}: unknown command "${name}"\n\n${help()}`);
    return 64;
  }
  let input: ReturnType<typeof parseInput>;
  try {
    input = parseInput(command, args);
  } catch (err) {
    return report(err, command, io);
  }
  if (input.help) {
    io.stdout.write(`${usage(command)}\n`);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(io.env, { requiredInProduction: command.requiredInProduction });
  } catch (err) {
    return report(err, command, io);
  }
  const runtime = createRuntime(config, io);
  try {
    const result = await command.run(input, runtime.context);
    if (result !== undefined) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (err) {
    return report(err, command, io);
  } finally {
    await runtime.close().catch((err: unknown) => runtime.context.log.warn({ err: (err as Error).message }, 'closing failed'));
  }
}
