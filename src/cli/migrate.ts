import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { loadConfig } from '../config.ts'
import { MIGRATIONS_DIR } from '../db/sqlite.ts'
import { type Command, CommandError, EXIT, PROGRAM, parseOptions } from './command.ts'
import { openDatabase } from './database.ts'

/** One entry of drizzle-kit's journal (`drizzle/meta/_journal.json`). */
interface JournalEntry {
  tag: string
  /** The migration's creation time (ms); drizzle records it as `created_at` once applied. */
  when: number
}

function readJournal(): JournalEntry[] {
  const path = join(MIGRATIONS_DIR, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(path, 'utf8')) as { entries: JournalEntry[] }
  return journal.entries
}

/**
 * The `created_at` of the newest migration the database has recorded, `null` for a database with
 * none (or no file yet). drizzle's migrator applies exactly the journal entries newer than this.
 */
function lastAppliedAt(path: string): number | null {
  if (path === ':memory:' || !existsSync(path)) return null
  const client = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const table = client
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
      .get()
    if (!table) return null
    const row = client.prepare('SELECT MAX(created_at) AS at FROM __drizzle_migrations').get() as
      | { at: number | null }
      | undefined
    return row?.at ?? null
  } catch (err) {
    throw new CommandError(
      `DATABASE_PATH=${path} is not a SQLite database this gateway can migrate (${err instanceof Error ? err.message : String(err)}). ` +
        'Point DATABASE_PATH at the gateway database, or at a new file to create one.',
    )
  } finally {
    client.close()
  }
}

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'create the SQLite database at DATABASE_PATH, or apply pending migrations to it',
  help: `Usage: ${PROGRAM} migrate

Creates the SQLite database at DATABASE_PATH (default ./data/gateway.sqlite) if it does not
exist, applies the migrations it has not seen yet, and lists them. \`start\` does the same on
every start; run this to migrate ahead of a deployment. Safe to run more than once.

Exit codes: 0 migrated or already up to date, 1 the database could not be opened or migrated,
2 usage error, 78 invalid configuration.`,
  run: async (argv) => {
    if (parseOptions(argv, {}) === null) {
      console.log(migrateCommand.help)
      return EXIT.ok
    }
    const config = loadConfig(process.env)
    const path = config.databasePath
    const journal = readJournal()
    const before = lastAppliedAt(path)
    openDatabase(config).close()
    const applied = journal.filter((entry) => before === null || entry.when > before)
    const latest = journal[journal.length - 1]?.tag ?? '(none)'
    if (applied.length === 0) {
      console.log(
        `${path} is up to date: ${journal.length} migrations, the latest ${latest}. Nothing applied.`,
      )
    } else {
      console.log(`${path}: applied ${applied.length} of ${journal.length} migrations`)
      for (const entry of applied) console.log(`  ${entry.tag}`)
    }
    return EXIT.ok
  },
}
