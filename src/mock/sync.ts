import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { z } from 'zod'
import { readJsonBody } from '../admin/json-body.ts'
import { addDays, formatTerraTimestamp, localDay, timestampToMs } from '../data/date-range.ts'
import type { DataType } from '../data/models/index.ts'
import { users } from '../db/schema.ts'
import type { AppEnv, Deps } from '../http/env.ts'
import { Problem } from '../http/errors.ts'
import { type IngestCounts, ingestRecords } from '../ingest/routes.ts'
import { generateUntil } from './generator/index.ts'

type UserRow = typeof users.$inferSelect

export interface SyncCounts extends Omit<IngestCounts, 'received'> {
  users: number
  received: number
}

/** How far back a sync looks: the band uploads late, and today's daily keeps growing. */
const SYNC_LOOKBACK_DAYS = 2

/**
 * What the user's band would have uploaded by `nowMs`, from `fromDay` (default: two local days
 * back) through today, ingested through the same code as `PUT /admin/v1/users/{id}/{type}`:
 * unchanged records stay unchanged, new and grown ones are announced to clients.
 */
export async function syncUser(
  deps: Deps,
  user: UserRow,
  nowMs: number,
  fromDay = addDays(localDay(nowMs, user.timezone), -SYNC_LOOKBACK_DAYS),
  onProgress?: (type: DataType, done: number, total: number) => void,
): Promise<IngestCounts> {
  const generated = generateUntil(deps.config.mockSeed, user, fromDay, nowMs)
  // A band stamps every upload: today's daily, still growing, carries the sync instant, so each
  // sync announces at least that (and a repeat at the same instant is byte-identical).
  for (const daily of generated.daily) {
    if (timestampToMs(daily.metadata.end_time) > nowMs && daily.device_data) {
      daily.device_data.last_upload_date = formatTerraTimestamp(nowMs, user.timezone)
    }
  }
  const total: IngestCounts = { received: 0, inserted: 0, updated: 0, unchanged: 0, events: 0 }
  for (const type of ['sleep', 'activity', 'daily'] as const) {
    const records = generated[type]
    // The ingest limit is 1,000 records a request; a seed of many days is sent in slices.
    for (let i = 0; i < records.length; i += 500) {
      const counts = await ingestRecords(deps, user, type, records.slice(i, i + 500))
      for (const k of Object.keys(total) as (keyof IngestCounts)[]) total[k] += counts[k]
      onProgress?.(type, Math.min(i + 500, records.length), records.length)
    }
  }
  return total
}

/** Syncs one user or all of them. */
export async function syncUsers(deps: Deps, userId?: string): Promise<SyncCounts> {
  const rows = userId
    ? await deps.db.select().from(users).where(eq(users.id, userId)).all()
    : await deps.db.select().from(users).all()
  if (userId && rows.length === 0)
    throw new Problem(404, 'Not Found', `There is no user ${userId}.`)
  const total: SyncCounts = {
    users: rows.length,
    received: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    events: 0,
  }
  for (const user of rows) {
    const counts = await syncUser(deps, user, deps.now())
    for (const k of Object.keys(counts) as (keyof IngestCounts)[]) total[k] += counts[k]
  }
  return total
}

const SyncBody = z.strictObject({ user_id: z.string().min(1).optional() })

/** `POST /admin/v1/mock/sync {user_id?}`: data up to now for one user or all, with webhooks. */
export const syncRoutes = new Hono<AppEnv>()

syncRoutes.post('/', async (c) => {
  // An empty body means "all users"; a body must be JSON.
  const hasBody =
    (c.req.header('content-length') ?? '0') !== '0' || c.req.header('content-type') !== undefined
  const body = hasBody ? await readJsonBody(c, SyncBody, { what: 'sync request' }) : {}
  return c.json(await syncUsers(c.var.deps, body.user_id))
})
