import { type ParseArgsConfig, parseArgs } from 'node:util'

/*
 * What every `partner-gateway` command shares: its shape, the exit codes, and turning a command
 * line into values or a usage error.
 */

/** Exit codes: 0 ok, 1 the work failed, 2 the command line is wrong, 78 the environment is (EX_CONFIG). */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const

/** The program's name, as the help texts and messages show it. */
export const PROGRAM = 'partner-gateway'

/** One command of the CLI. `run` receives the arguments after the command's name. */
export interface Command {
  /** As typed: `start`, `client create`. */
  name: string
  /** One line for the command list. */
  summary: string
  /** The full `--help` text. */
  help: string
  run(argv: string[]): Promise<number>
}

/** A wrong command line: the dispatcher prints the message and a pointer to `--help`, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * An expected failure whose message already says what happened and what to do (exit 1, no stack).
 */
export class CommandError extends Error {
  override name = 'CommandError'
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>

/** The values `parseArgs` returns for an options config: strings, string lists, booleans. */
export type OptionValues<O extends OptionsConfig> = {
  [K in keyof O]?: O[K] extends { multiple: true }
    ? string[]
    : O[K] extends { type: 'boolean' }
      ? boolean
      : string
}

/**
 * `parseArgs` with strict options and no positionals, plus `-h/--help`; its errors become
 * {@link UsageError}s. Returns `null` when help was asked for.
 */
export function parseOptions<const O extends OptionsConfig>(
  argv: string[],
  options: O,
): OptionValues<O> | null {
  let values: Record<string, unknown>
  try {
    ;({ values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }))
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  if (values.help) return null
  delete values.help
  return values as OptionValues<O>
}

/** Says which required flags are missing (as one usage error naming all of them). */
export function requireFlags(values: Record<string, unknown>, names: readonly string[]): void {
  const missing = names.filter((name) => values[name] === undefined)
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.map((name) => `--${name}`).join(', ')}`)
  }
}
