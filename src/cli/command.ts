// What one ops CLI command is. Adding a command = one file under commands/ and one line in
// commands/index.ts; run.ts parses the arguments, opens what the command needs and closes it.
import type { Logger } from 'pino';
import type { Admin } from '../admin/index.js';
import type { Config, ProductionRequirement } from '../config.js';
import type { Services } from '../services.js';

export const PROGRAM = 'reseller-auth';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  /** The option's value in the usage text, e.g. `<e-mail>`. */
  placeholder?: string;
  /** A one-letter alias, e.g. `o` for `-o`. */
  short?: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
}

/** The positional argument of every reseller command. */
export const RESELLER_ID: PositionalSpec = {
  name: 'resellerId',
  description: "the reseller's id in the panel (1 to 64 characters of A-Z, a-z, 0-9, _ or -)",
};

export interface CommandInput {
  positionals: Record<string, string>;
  values: Record<string, string | boolean | undefined>;
}

export interface CommandContext {
  /** The configuration as the server reads it, before generated secrets are resolved. */
  config: Config;
  log: Logger;
  /** Opens the services (database, token store…) once, with the server's generated secrets; run.ts closes them. */
  services(): Promise<Services>;
  admin(): Promise<Admin>;
  /** The whole of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
  /** A warning for the operator on standard error (standard output stays the result alone). */
  warn(message: string): void;
}

export interface Command {
  name: string;
  summary: string;
  /** Required positional arguments, in order. */
  positionals: PositionalSpec[];
  options?: Record<string, OptionSpec>;
  /** Command lines shown under "Examples:" in the command's --help. */
  examples: string[];
  /** What NODE_ENV=production insists on for this command (default: what the server needs). */
  requiredInProduction?: readonly ProductionRequirement[];
  /** The option an invalid field came from, when it is not the field's own kebab-case name. */
  optionOf?(field: string, input: CommandInput): string | undefined;
  /** The result, printed as JSON or as a table (--output); undefined prints nothing. */
  run(input: CommandInput, context: CommandContext): Promise<unknown>;
}

/** Bad command-line input: printed with the command's usage line, exit status 64 (EX_USAGE). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Options every command accepts (run.ts handles them). */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  output: {
    type: 'string',
    short: 'o',
    placeholder: 'json|table',
    description: 'output format (default: table on a terminal, json otherwise)',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export function usageLine(command: Command): string {
  const positionals = command.positionals.map((p) => ` <${p.name}>`).join('');
  return `Usage: ${PROGRAM} ${command.name}${positionals} [options]`;
}

function optionLabel(name: string, spec: OptionSpec): string {
  return `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.placeholder ? ` ${spec.placeholder}` : ''}`;
}

/** Two columns: labels padded to the longest. */
export function columns(rows: [string, string][], indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return rows.map(([label, text]) => `${indent}${label.padEnd(width)}  ${text}`.trimEnd());
}

/** The command's --help: usage line, summary, arguments, options, examples. */
export function commandHelp(command: Command): string {
  const sections = [usageLine(command), `${command.summary}.`];
  if (command.positionals.length > 0) {
    sections.push(['Arguments:', ...columns(command.positionals.map((p) => [`<${p.name}>`, p.description]))].join('\n'));
  }
  const options = Object.entries({ ...command.options, ...GLOBAL_OPTIONS }).map(([name, spec]): [string, string] => [
    optionLabel(name, spec),
    spec.description,
  ]);
  sections.push(['Options:', ...columns(options)].join('\n'));
  sections.push(['Examples:', ...command.examples.map((e) => `  ${e}`)].join('\n'));
  return `${sections.join('\n\n')}\n`;
}
