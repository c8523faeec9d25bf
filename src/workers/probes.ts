import { sql } from 'drizzle-orm'
import journal from '../../drizzle/meta/_journal.json' with { type: 'json' }
import type { Db } from '../db/index.ts'
import { errorLine, type ProbeResult, type RuntimeProbes } from '../observe/probes.ts'

/*
 * Readiness on Workers. There is no file to watch and no in-process worker (the cron drives the
 * notifier), so what is left to check beyond the shared query is the schema: `wrangler d1
 * migrations apply` records each applied file in `d1_migrations` by name. (The D1 tests apply the
 * same files with drizzle's migrator, which records them in `__drizzle_migrations` instead; either
 * record counts.)
 */

const SHIPPED = journal.entries.map((entry) => ({ name: `${entry.tag}.sql`, when: entry.when }))

async function appliedNames(db: Db): Promise<Set<string> | null> {
  try {
    const rows = await db.all<{ name: string }>(sql`select name from d1_migrations`)
    return new Set(rows.map((r) => r.name))
  } catch (err) {
    if (/no such table/.test(errorLine(err))) return null
    throw err
  }
}

async function appliedByDrizzle(db: Db): Promise<Set<string>> {
  try {
    const rows = await db.all<{ created_at: number }>(
      sql`select created_at from __drizzle_migrations`,
    )
    const applied = new Set(rows.map((r) => Number(r.created_at)))
    return new Set(SHIPPED.filter((m) => applied.has(m.when)).map((m) => m.name))
  } catch (err) {
    if (/no such table/.test(errorLine(err))) return new Set()
    throw err
  }
}

function migrationsProbe(db: Db): () => Promise<ProbeResult> {
  return async () => {
    let applied: Set<string>
    try {
      applied = (await appliedNames(db)) ?? (await appliedByDrizzle(db))
    } catch (err) {
      return {
        ok: false,
        detail: `cannot read the applied migrations: ${errorLine(err)}`,
        action: 'check that the DB binding in wrangler.toml names the gateway database',
      }
    }
    const pending = SHIPPED.filter((m) => !applied.has(m.name))
    if (pending.length > 0) {
      return {
        ok: false,
        detail: `${pending.length} of ${SHIPPED.length} migrations not applied (${pending.map((m) => m.name).join(', ')})`,
        action:
          'run `npx wrangler d1 migrations apply DB --remote` (add --env production if you deploy with it)',
      }
    }
    return { ok: true, detail: `all ${SHIPPED.length} migrations applied` }
  }
}

/** What `/readyz` and the diagnostics can check on Workers. */
export function workerProbes(db: Db): RuntimeProbes {
  return { migrations: migrationsProbe(db) }
}
