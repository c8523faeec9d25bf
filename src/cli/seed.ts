import { count, isNull } from 'drizzle-orm'
import { ConfigError, loadConfig } from '../config.ts'
import { records } from '../db/schema.ts'
import type { Deps } from '../http/env.ts'
import { MAX_SEED_DAYS, prepareMock, SEED_DAYS } from '../mock/demo.ts'
import { type Command, EXIT, PROGRAM, parseOptions, UsageError } from './command.ts'
import { withDatabase } from './database.ts'

async function liveRecords(deps: Deps): Promise<number> {
  const [row] = await deps.db
    .select({ n: count() })
    .from(records)
    .where(isNull(records.deletedAt))
    .all()
  return row?.n ?? 0
}

export const seedCommand: Command = {
  name: 'seed',
  summary: "put the mock provider's demo client, users and data into the database",
  help: `Usage: ${PROGRAM} seed [--days <n>]

Prepares the database at DATABASE_PATH for mock mode without serving it: the admin key, the demo
client, the demo users and --days days of synthetic data up to today for each of them (default
${SEED_DAYS}; the data is seeded once per database — run it on a new file to seed again). Prints
the same credentials \`start\` prints. Everything is derived from MOCK_SEED.

Options:
  --days <n>    days of history per demo user, 0 to ${MAX_SEED_DAYS} (default ${SEED_DAYS})
  -h, --help    this help

Exit codes: 0 seeded (or already seeded), 1 failure, 2 usage error, 78 invalid configuration
(including MOCK=0: demo accounts have published passwords and never go into production).`,
  run: async (argv) => {
    const values = parseOptions(argv, { days: { type: 'string' } })
    if (values === null) {
      console.log(seedCommand.help)
      return EXIT.ok
    }
    const days = values.days === undefined ? SEED_DAYS : Number(values.days)
    if (!Number.isInteger(days) || days < 0 || days > MAX_SEED_DAYS) {
      throw new UsageError(
        `--days must be a whole number from 0 to ${MAX_SEED_DAYS}, not ${JSON.stringify(values.days)}`,
      )
    }
    const config = loadConfig(process.env)
    if (!config.mock) {
      throw new ConfigError(
        'seed writes demo accounts with published passwords, so it refuses MOCK=0 (production). ' +
          'Unset MOCK (or set MOCK=1) to seed a mock-mode database.',
      )
    }
    const { banner, added } = await withDatabase(config, async (deps) => {
      const before = await liveRecords(deps)
      const banner = await prepareMock(
        deps,
        (line) => {
          if (process.stderr.isTTY) process.stderr.write(`\r${line}   `)
        },
        { days },
      )
      return { banner, added: (await liveRecords(deps)) - before }
    })
    if (process.stderr.isTTY) process.stderr.write('\n')
    console.log(banner)
    console.log(
      added > 0
        ? `Seeded ${config.databasePath}: ${added} records added.`
        : `${config.databasePath} was already seeded: no records added.`,
    )
    return EXIT.ok
  },
}
