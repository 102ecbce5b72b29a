// What one ops CLI command is. Adding a command = one file under commands/ and one line in
// commands/index.ts; main.ts parses the arguments, opens what the command needs and closes it.
import type { Logger } from 'pino';
import type { Admin } from '../admin/index.js';
import type { Config, ProductionRequirement } from '../config.js';
import type { Services } from '../services.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  /** The option's value in the usage text, e.g. `<e-mail>`. */
  placeholder?: string;
}

export interface CommandInput {
  positionals: Record<string, string>;
  values: Record<string, string | boolean | undefined>;
}

export interface CommandContext {
  /** The configuration as the server reads it, before generated secrets are resolved. */
  config: Config;
  log: Logger;
  /** Opens the services (database, token store…) once, with the server's generated secrets; main closes them. */
  services(): Promise<Services>;
  admin(): Promise<Admin>;
  /** The whole of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
}

export interface Command {
  name: string;
  summary: string;
  /** Required positional arguments, in order (their names appear in the usage text). */
  positionals: string[];
  options?: Record<string, OptionSpec>;
  /** What NODE_ENV=production insists on for this command (default: what the server needs). */
  requiredInProduction?: readonly ProductionRequirement[];
  /** What is printed on standard output as JSON; undefined prints nothing. */
  run(input: CommandInput, context: CommandContext): Promise<unknown>;
}

/** Bad command-line input: printed with the command's usage, exit status 64 (EX_USAGE). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function usage(command: Command): string {
  const options = Object.entries(command.options ?? {}).map(
    ([name, spec]) => `    --${name}${spec.placeholder ? ` ${spec.placeholder}` : ''}  ${spec.description}`,
  );
  return [
    `  reseller-auth ${command.name} ${command.positionals.map((p) => `<${p}>`).join(' ')}`.trimEnd(),
    `    ${command.summary}`,
    ...options,
  ].join('\n');
}
