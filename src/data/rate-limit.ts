import { lt, sql } from 'drizzle-orm'
import type { Db } from '../db/index.ts'
import { rateLimitWindows } from '../db/schema.ts'

/**
 * Fixed-window request limits. The Node runtime keeps counters in memory (one process); a
 * multi-isolate runtime supplies a shared implementation of the same interface.
 */
export interface RateLimiter {
  /** Counts one request against `key`; returns what is left in the current window. */
  hit(key: string, limit: number, windowSeconds: number, nowMs: number): Promise<RateLimitState>
}

export interface RateLimitState {
  limit: number
  remaining: number
  /** Seconds until the window resets. */
  resetSeconds: number
  allowed: boolean
}

export function memoryRateLimiter(): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>()
  return {
    async hit(key, limit, windowSeconds, nowMs) {
      const windowMs = windowSeconds * 1000
      const start = Math.floor(nowMs / windowMs) * windowMs
      let w = windows.get(key)
      if (!w || w.start !== start) {
        if (windows.size > 100_000) windows.clear()
        w = { start, count: 0 }
        windows.set(key, w)
      }
      w.count++
      return {
        limit,
        remaining: Math.max(0, limit - w.count),
        resetSeconds: Math.max(1, Math.ceil((start + windowMs - nowMs) / 1000)),
        allowed: w.count <= limit,
      }
    },
  }
}

/**
 * The same fixed windows kept in the database, for runtimes with many isolates (Workers): every
 * isolate counts against one row per key and window, bumped by an upsert that returns the new
 * count, so the limit holds across isolates. One write per request; rows of past windows are
 * removed by {@link expireRateLimitWindows} (the Workers cron).
 */
export function databaseRateLimiter(db: Db): RateLimiter {
  return {
    async hit(key, limit, windowSeconds, nowMs) {
      const windowMs = windowSeconds * 1000
      const start = Math.floor(nowMs / windowMs) * windowMs
      const row = await db
        .insert(rateLimitWindows)
        .values({ key, windowStart: start, hits: 1 })
        .onConflictDoUpdate({
          target: [rateLimitWindows.key, rateLimitWindows.windowStart],
          set: { hits: sql`${rateLimitWindows.hits} + 1` },
        })
        .returning({ hits: rateLimitWindows.hits })
        .get()
      const hits = row?.hits ?? 1
      return {
        limit,
        remaining: Math.max(0, limit - hits),
        resetSeconds: Math.max(1, Math.ceil((start + windowMs - nowMs) / 1000)),
        allowed: hits <= limit,
      }
    },
  }
}

/** Deletes the windows that ended more than `keepMs` ago. */
export async function expireRateLimitWindows(
  db: Db,
  nowMs: number,
  keepMs = 60 * 60 * 1000,
): Promise<void> {
  await db.delete(rateLimitWindows).where(lt(rateLimitWindows.windowStart, nowMs - keepMs))
}
