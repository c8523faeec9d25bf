import { type eq, getTableColumns, sql } from 'drizzle-orm'
import type { SQLiteTable } from 'drizzle-orm/sqlite-core'
import { chunk, type Db, type Statement } from '../db/index.ts'

/*
 * Bulk writes with a constant number of statements. Building and compiling a statement costs far
 * more than running it, and D1 binds at most 100 parameters: so rows travel as one JSON
 * parameter that SQLite unpacks with json_each.
 */

/** Rows per statement: the JSON parameter stays well under D1's 2 MB value limit. */
export const ROWS_PER_STATEMENT = 500

/**
 * `INSERT INTO table SELECT … FROM json_each(?)`: rows given as objects keyed like the table's
 * drizzle columns (missing keys are NULL, e.g. an autoincrement id).
 */
export function insertJsonRows(
  db: Db,
  table: SQLiteTable,
  rows: readonly Record<string, unknown>[],
): Statement[] {
  const keys = Object.keys(getTableColumns(table))
  const columns = sql.join(
    keys.map((key) => sql.raw(`json_extract(value, '$.${key}')`)),
    sql`, `,
  )
  return chunk(rows, ROWS_PER_STATEMENT).map((part) =>
    (db.insert(table) as unknown as { select(query: unknown): Statement }).select(
      sql`select ${columns} from json_each(${JSON.stringify(part)})`,
    ),
  )
}

/** `column in (the values of the JSON array parameter name)`, for prepared statements. */
export function inJson(column: Parameters<typeof eq>[0], name: string) {
  return sql`${column} in (select value from json_each(${sql.placeholder(name)}))`
}
