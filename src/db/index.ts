import type { BatchItem } from 'drizzle-orm/batch'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'
import * as schema from './schema.ts'

export { schema }

/**
 * The database as shared code sees it: drizzle over better-sqlite3 (sync) or D1 (async).
 * Shared code always `await`s queries, so the same code runs on both.
 */
export type Db = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>

/** A query built but not yet run, for {@link atomic}. */
export type Statement = BatchItem<'sqlite'>

interface SyncPrepared {
  execute(): { sync(): unknown }
}

/**
 * Runs statements all-or-nothing: one transaction on better-sqlite3, one `batch()` on D1 (which
 * D1 runs as a transaction). The statements are built before the call, so a multi-step change
 * cannot read its own writes half-way; write conditional SQL (`where … is null`) instead.
 * Returns each statement's result in order.
 */
export async function atomic(db: Db, statements: readonly Statement[]): Promise<unknown[]> {
  if (statements.length === 0) return []
  if ('batch' in db) {
    const batchable = db as unknown as {
      batch(items: readonly [Statement, ...Statement[]]): Promise<unknown[]>
    }
    return batchable.batch(statements as [Statement, ...Statement[]])
  }
  // better-sqlite3: drizzle's sync transaction runs the callback inside BEGIN … COMMIT and rolls
  // back if it throws. Each statement is executed synchronously (`.sync()`), so nothing from
  // another request can interleave.
  const sync = db as unknown as {
    transaction<T>(fn: () => T, config?: { behavior: 'immediate' }): T
  }
  return sync.transaction(
    () =>
      statements.map((s) =>
        (s as unknown as { prepare(): SyncPrepared }).prepare().execute().sync(),
      ),
    { behavior: 'immediate' },
  )
}

/**
 * How many parameters one statement may bind: D1 allows 100, SQLite 32,766. Multi-row statements
 * are sized to it, so a 500-record batch is a few statements on Node and many on D1.
 */
export function maxParams(db: Db): number {
  return 'batch' in db ? 100 : 32_000
}

/** Splits long `IN (…)` lists and multi-row inserts to fit {@link maxParams}. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const preparedCache = new WeakMap<Db, Map<string, unknown>>()

/**
 * A query prepared once per database and reused (drizzle builds and the driver compiles it only
 * the first time); values come in through `sql.placeholder`. For hot paths: token lookups and
 * data pages.
 */
export function prepared<T>(db: Db, name: string, build: () => T): T {
  let cache = preparedCache.get(db)
  if (!cache) {
    cache = new Map()
    preparedCache.set(db, cache)
  }
  let query = cache.get(name) as T | undefined
  if (query === undefined) {
    query = build()
    cache.set(name, query)
  }
  return query
}
