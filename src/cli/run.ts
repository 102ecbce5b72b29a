// One invocation of the ops CLI, independent of the process (main.ts wires in the process's
// streams and exit). The same configuration, services and admin layer as the server, so a
// reseller configured here is exactly what the admin API would have made.
//
// Exit status (failures.ts, sysexits.h): 0 success; 1 not found or conflict; 64 bad arguments
// or input; 69 database or token store unreachable; 70 unexpected failure; 75 embedded database
// in use by a running server; 78 invalid configuration.
import { readFileSync } from 'node:fs';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { AppError, ValidationFailedError } from '../errors.js';
import { type Command, PROGRAM, UsageError, columns, commandHelp, usageLine } from './command.js';
import { commands } from './commands/index.js';
import { CliFailure, EXIT, explain } from './failures.js';
import type { CliIo } from './io.js';
import { defaultFormat, render } from './output.js';
import { type ParsedInput, parseInput } from './parse.js';
import { createRuntime } from './runtime.js';
import { didYouMean } from './suggest.js';

// package.json sits two levels above both src/cli and dist/cli.
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function help(): string {
  return [
    `Usage: ${PROGRAM} <command> [arguments] [options]`,
    '',
    "Manages resellers' API access and the resource servers allowed to introspect, with the server's own configuration.",
    '',
    'Commands:',
    ...columns(commands.map((c) => [c.name, c.summary])),
    '',
    'Options:',
    ...columns([
      ['-o, --output json|table', 'output format (default: table on a terminal, json otherwise)'],
      ['-h, --help', `show help; "${PROGRAM} <command> --help" shows a command's options and examples`],
      ['-V, --version', 'print the version'],
    ]),
    '',
    'Configuration comes from the same environment variables as the server (DATABASE_URL, REDIS_URL,',
    'SECRET_KEY, ADMIN_TOKENS, DATA_DIR…). With the embedded database (no DATABASE_URL), stop the',
    'server first, or use the admin API: the two cannot open it at the same time.',
    '',
    'Exit status: 0 success, 1 not found or conflict, 64 bad arguments or input, 69 database or',
    'token store unreachable, 70 unexpected failure, 75 embedded database in use, 78 bad configuration.',
    '',
  ].join('\n');
}

/** `allowedIp` → `allowedIp (--allowed-ip)` when the command has that option. */
function fieldLabel(command: Command, input: ParsedInput | undefined, field: string): string {
  const option = (input && command.optionOf?.(field, input)) ?? field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return command.options?.[option] ? `${field} (--${option})` : field;
}

function report(err: unknown, command: Command, input: ParsedInput | undefined, config: Config | undefined, io: CliIo): number {
  const fail = (message: string) => io.stderr.write(`${PROGRAM}: ${message}\n`);
  const failure = explain(err, config, { migrating: command.name === 'migrate' });
  if (failure instanceof UsageError) {
    fail(`${command.name}: ${failure.message}\n${usageLine(command)}\nRun "${PROGRAM} ${command.name} --help" for its options and examples.`);
    return EXIT.usage;
  }
  if (failure instanceof ValidationFailedError) {
    const lines = Object.entries(failure.fields ?? {}).map(([field, why]) => `  ${fieldLabel(command, input, field)}: ${why}`);
    fail(`${command.name}: invalid input\n${lines.join('\n')}`);
    return EXIT.usage;
  }
  if (failure instanceof ConfigError) {
    fail(failure.message);
    return EXIT.config;
  }
  if (failure instanceof CliFailure) {
    fail(`${command.name}: ${failure.message}`);
    return failure.exitCode;
  }
  if (failure instanceof AppError) {
    fail(`${command.name}: ${failure.message}`);
    return EXIT.failed;
  }
  fail(`${command.name} failed unexpectedly: ${failure instanceof Error ? failure.message : String(failure)}`);
  return EXIT.software;
}

function unknownCommand(name: string, io: CliIo): number {
  const hint =
    didYouMean(
      name,
      commands.map((c) => c.name),
    ) || ` Run "${PROGRAM} --help" for the list of commands.`;
  io.stderr.write(`${PROGRAM}: unknown command "${name}".${hint}\n`);
  return EXIT.usage;
}

/** Runs one CLI invocation; resolves to the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-V') {
    io.stdout.write(`${PROGRAM} ${VERSION}\n`);
    return EXIT.ok;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    // `help <command>` is `<command> --help`.
    const topic = name === 'help' ? args[0] : undefined;
    if (topic !== undefined) {
      const command = commands.find((c) => c.name === topic);
      if (!command) return unknownCommand(topic, io);
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    (name === undefined ? io.stderr : io.stdout).write(help());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) return unknownCommand(name, io);
  let input: ParsedInput;
  try {
    input = parseInput(command, args);
  } catch (err) {
    return report(err, command, undefined, undefined, io);
  }
  if (input.help) {
    io.stdout.write(commandHelp(command));
    return EXIT.ok;
  }
  let config: Config;
  try {
    config = loadConfig(io.env, { requiredInProduction: command.requiredInProduction });
  } catch (err) {
    return report(err, command, input, undefined, io);
  }
  const runtime = createRuntime(config, io);
  try {
    const result = await command.run(input, runtime.context);
    if (result !== undefined) io.stdout.write(render(result, input.output ?? defaultFormat(io.stdout.isTTY)));
    return EXIT.ok;
  } catch (err) {
    return report(err, command, input, config, io);
  } finally {
    await runtime.close().catch((err: unknown) => runtime.context.log.warn({ err: (err as Error).message }, 'closing failed'));
  }
}
