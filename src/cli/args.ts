/** Argument parsing shared by the subcommands, and the one shape of a usage error. */
import { parseArgs } from 'node:util';
import { ClosureLensError } from '../core/errors';

/** A mistake on the command line: the message, and the command's --help as the fix. */
export function usageError(message: string, usage: string): ClosureLensError {
  const command = usage.split(' ', 2)[1] ?? '';
  return new ClosureLensError('bad-installable', message, { fix: `see \`closure-lens ${command} --help\`` });
}

export type OptionSpec = Record<string, { type: 'boolean' | 'string'; short?: string }>;

export function parseCommandArgs<T extends OptionSpec>(argv: string[], usage: string, options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError(parseArgsMessage(e), usage);
  }
}

/** parseArgs errors carry Node's wording plus advice for scripts; keep the first sentence. */
export function parseArgsMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split(/\. (?=To specify)/)[0]!.replace(/\.$/, '');
}

export function positiveInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new ClosureLensError('bad-installable', `${flag} needs a positive whole number, got '${value}'`, {
      fix: `write it as, e.g., ${flag} 10`,
    });
  }
  return Number(value);
}

export function wholeNumber(v: string | undefined, flag: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new ClosureLensError(
      'bad-installable',
      `${flag} needs a whole number${min > 0 ? ` of at least ${min}` : ''}, got '${v}'`,
      { fix: `write it as, e.g., ${flag} ${Math.max(min, 3)}` },
    );
  }
  return Number(v);
}
