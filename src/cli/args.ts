import { parseArgs } from 'node:util';

/** The command line is wrong (unknown option, missing value, empty name): exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit statuses of every command, listed in `smashsend --help`. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

type Values<O extends OptionSpec> = { [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean };

/**
 * `node:util` parseArgs, with our own one-line messages: its strict mode throws errors whose
 * text is long and about JavaScript, not about the command. Parsed loosely into tokens, then
 * checked here: unknown options, string options without a value, values given to flags, and
 * more positionals than the command takes are UsageErrors naming the argument.
 */
export function parseCommandArgs<O extends OptionSpec>(
  argv: string[],
  options: O,
  maxPositionals = 0,
): { values: Values<O>; positionals: string[] } {
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (positionals.length >= maxPositionals) throw new UsageError(`unexpected argument ${JSON.stringify(t.value)}`);
      positionals.push(t.value);
      continue;
    }
    const spec = options[t.name];
    if (!spec) throw new UsageError(`unknown option ${t.rawName}`);
    if (spec.type === 'boolean') {
      if (t.inlineValue) throw new UsageError(`${t.rawName} takes no value`);
      values[t.name] = true;
      continue;
    }
    // `--workspace --name x` would otherwise make "--name" the workspace.
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-'))) throw new UsageError(`${t.rawName} needs a value`);
    values[t.name] = t.value;
  }
  return { values: values as Values<O>, positionals };
}

/** A name given on the command line: never empty or blank (it would name nothing a reader can see). */
export function requireName(option: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`--${option} must not be empty`);
  return value;
}
