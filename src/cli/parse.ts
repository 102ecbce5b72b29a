// A command's arguments, checked here rather than by parseArgs' strict mode, so that every mistake
// gets our wording (the option's name, what it expects, a close match) instead of Node's
// "To specify a positional argument starting with a '-', place it at the end…".
import { parseArgs } from 'node:util';
import { type Command, type CommandInput, GLOBAL_OPTIONS, type OptionSpec, UsageError } from './command.js';
import { didYouMean } from './suggest.js';

export const OUTPUT_FORMATS = ['json', 'table'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ParsedInput extends CommandInput {
  help: boolean;
  output: OutputFormat | undefined;
}

export function parseInput(command: Command, args: readonly string[]): ParsedInput {
  const specs: Record<string, OptionSpec> = { ...command.options, ...GLOBAL_OPTIONS };
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [name, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }]),
  );
  // Lenient parsing yields every token; each is checked below.
  const { tokens } = parseArgs({ args: [...args], options, allowPositionals: true, strict: false, tokens: true });
  const values: CommandInput['values'] = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const spec = specs[token.name];
    if (!spec) {
      throw new UsageError(`unknown option ${token.rawName}.${didYouMean(token.name, Object.keys(specs), '--')}`);
    }
    const label = `--${token.name}`;
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${label} takes no value`);
      values[token.name] = true;
      continue;
    }
    // `--name --email x`: the next option is not a value (write --name=--x for a value starting with "-").
    // A dash and a digit (`--source-timezone -03:00`) is a value: no option is named by a digit.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-') && !/^-\d/.test(token.value))) {
      throw new UsageError(`${label} needs a value: ${label} ${spec.placeholder ?? '<value>'}`);
    }
    values[token.name] = token.value;
  }
  const { help, output, ...commandValues } = values;
  if (output !== undefined && !OUTPUT_FORMATS.includes(output as OutputFormat)) {
    throw new UsageError(`--output is ${OUTPUT_FORMATS.join(' or ')} (got "${String(output)}")`);
  }
  if (help !== true) {
    const missing = command.positionals.slice(positionals.length);
    if (missing.length > 0) throw new UsageError(`missing ${missing.map((p) => `<${p.name}>`).join(' ')}`);
    const extra = positionals.slice(command.positionals.length);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  }
  return {
    positionals: Object.fromEntries(command.positionals.map((p, i) => [p.name, positionals[i] ?? ''])),
    values: commandValues,
    help: help === true,
    output: output as OutputFormat | undefined,
  };
}
