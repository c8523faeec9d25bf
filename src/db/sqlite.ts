import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { type Db, schema } from './index.ts'

/**
 * The drizzle-kit migrations shipped with the package, at its root. This module is
 * `src/db/sqlite.ts` when run from source (tsx, vitest) but part of a bundle directly in `dist/`
 * once published (see scripts/build.ts), so the way up to the root differs.
 */
export const MIGRATIONS_DIR = fileURLToPath(
  new URL(
    new URL('.', import.meta.url).pathname.endsWith('/dist/') ? '../drizzle' : '../../drizzle',
    import.meta.url,
  ),
)

/**
 * Opens (creating if needed) a SQLite file, or `:memory:`, and applies pending migrations.
 * Node only: shared code receives the returned {@link Db}.
 */
export function openSqlite(path: string): { db: Db; close(): void } {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true })
  const client = new Database(path)
  // WAL lets readers proceed while the writer commits; foreign keys are off by default in SQLite
  // (D1 has them on), and we rely on ON DELETE CASCADE.
  client.pragma('journal_mode = WAL')
  client.pragma('foreign_keys = ON')
  client.pragma('busy_timeout = 5000')
  client.pragma('synchronous = NORMAL')
  const db = drizzle({ client, schema })
  migrate(db, { migrationsFolder: MIGRATIONS_DIR })
  return { db: db as unknown as Db, close: () => client.close() }
}
