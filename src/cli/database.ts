import type { Config } from '../config.ts'
import { openSqlite } from '../db/sqlite.ts'
import type { Deps } from '../http/env.ts'
import { jsonLogger } from '../log.ts'
import { nodeDeps } from '../node-deps.ts'
import { CommandError } from './command.ts'

/*
 * The commands that write to the database without serving it (seed, client create, user create)
 * run the same record code as the admin API, on the same Deps, minus the HTTP server and the
 * notifier: events they enqueue wait in the outbox for the next `start`.
 */

/** Opens (and migrates) the configured database, saying which file when that fails. */
export function openDatabase(config: Config): ReturnType<typeof openSqlite> {
  try {
    return openSqlite(config.databasePath)
  } catch (err) {
    throw new CommandError(
      `cannot open the database at DATABASE_PATH=${config.databasePath}: ${err instanceof Error ? err.message : String(err)}. ` +
        'Point DATABASE_PATH at a writable SQLite file (it is created if missing).',
    )
  }
}

/**
 * Runs `work` with Deps on the configured database, then waits for deferred work and closes the
 * database. Logs go to stderr, so that stdout carries only the command's answer.
 */
export async function withDatabase<T>(
  config: Config,
  work: (deps: Deps) => Promise<T>,
): Promise<T> {
  const { db, close } = openDatabase(config)
  const log = jsonLogger(config.logLevel, (line) => process.stderr.write(`${line}\n`))
  const { deps, settled } = nodeDeps(db, config, log)
  try {
    return await work(deps)
  } finally {
    await settled()
    close()
  }
}
