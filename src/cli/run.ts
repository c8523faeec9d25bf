import packageJson from '../../package.json' with { type: 'json' }
import { ConfigError } from '../config.ts'
import { main as conformance } from '../kit/command.ts'
import { type Command, CommandError, EXIT, PROGRAM, UsageError } from './command.ts'
import { clientCreateCommand, userCreateCommand } from './create.ts'
import { DOCTOR_HELP, runDoctor } from './doctor.ts'
import { migrateCommand } from './migrate.ts'
import { seedCommand } from './seed.ts'
import { startCommand } from './start.ts'

/*
 * The `partner-gateway` command line: finds the command, runs it, and turns what it throws into
 * a message and an exit code. `doctor` and `conformance` parse their own arguments (and --help).
 */

const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check a configuration, a database or a running gateway, and say what to fix',
  help: DOCTOR_HELP,
  run: (argv) => runDoctor(argv),
}

const conformanceCommand: Command = {
  name: 'conformance',
  summary: 'play Terra against a deployment: OAuth, data, webhooks; one line per check',
  help: `Usage: ${PROGRAM} conformance --issuer <url> … (run it with --help for its options)`,
  run: (argv) => conformance(argv, `${PROGRAM} conformance`),
}

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  migrateCommand,
  seedCommand,
  clientCreateCommand,
  userCreateCommand,
  doctorCommand,
  conformanceCommand,
]

export const HELP = `Usage: ${PROGRAM} <command> [options]

${packageJson.description}

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(15)}${c.summary}`).join('\n')}

Run \`${PROGRAM} <command> --help\` for a command's options.

Configuration is read from environment variables: PORT, HOST, ISSUER, DATABASE_PATH, ADMIN_API_KEY,
MOCK, MOCK_SEED, MOCK_AUTO_CONSENT, LOG_LEVEL and more (see the README).

Exit codes: 0 success, 1 failure, 2 usage error, 78 invalid configuration.`

/** Finds the command named by the first one or two words; the rest are its arguments. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | null {
  for (const command of COMMANDS) {
    const words = command.name.split(' ')
    if (words.every((word, i) => argv[i] === word)) {
      return { command, rest: argv.slice(words.length) }
    }
  }
  return null
}

function unknownCommand(argv: string[]): string {
  const [first = '', second] = argv
  const groups = COMMANDS.filter((c) => c.name.startsWith(`${first} `))
  if (groups.length > 0) {
    const known = groups.map((c) => `"${c.name}"`).join(', ')
    return second === undefined || second.startsWith('-')
      ? `"${first}" needs a subcommand: ${known}`
      : `unknown command "${first} ${second}" (the known ones: ${known})`
  }
  return `unknown command "${first}"`
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves with the exit code.
 * Errors the commands expect become one message on stderr; anything else is a bug, shown with its
 * stack.
 */
export async function runCli(argv: string[]): Promise<number> {
  const [first] = argv
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    // Without a command it is a usage error: the help goes to stderr, so stdout stays empty.
    if (first === undefined) {
      process.stderr.write(`${HELP}\n`)
      return EXIT.usage
    }
    const topic = first === 'help' ? findCommand(argv.slice(1)) : null
    console.log(topic ? topic.command.help : HELP)
    return EXIT.ok
  }
  if (first === '--version' || first === '-v') {
    console.log(packageJson.version)
    return EXIT.ok
  }
  const found = findCommand(argv)
  if (!found) {
    process.stderr.write(
      `${PROGRAM}: ${unknownCommand(argv)}\nRun \`${PROGRAM} --help\` for the commands.\n`,
    )
    return EXIT.usage
  }
  const { command, rest } = found
  try {
    return await command.run(rest)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `${PROGRAM} ${command.name}: ${err.message}\nRun \`${PROGRAM} ${command.name} --help\` for usage.\n`,
      )
      return EXIT.usage
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${PROGRAM}: ${err.message}\n`)
      return EXIT.config
    }
    if (err instanceof CommandError) {
      process.stderr.write(`${PROGRAM} ${command.name}: ${err.message}\n`)
      return EXIT.failure
    }
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err)
    process.stderr.write(`${PROGRAM} ${command.name} failed unexpectedly:\n${detail}\n`)
    return EXIT.failure
  }
}
