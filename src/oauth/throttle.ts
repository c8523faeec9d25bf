import { and, desc, eq, gt, lt } from 'drizzle-orm'
import type { Db } from '../db/index.ts'
import { loginFailures } from '../db/schema.ts'

/** Contract: 5 failures per account, 100 per address, within 15 minutes. Only failures count. */
export const THROTTLE_WINDOW_MS = 15 * 60_000
export const ACCOUNT_FAILURE_LIMIT = 5
export const ADDRESS_FAILURE_LIMIT = 100

export function throttleKeys(
  email: string,
  address: string | undefined,
): { key: string; limit: number }[] {
  const keys = [{ key: `account:${email.trim().toLowerCase()}`, limit: ACCOUNT_FAILURE_LIMIT }]
  if (address) keys.push({ key: `address:${address}`, limit: ADDRESS_FAILURE_LIMIT })
  return keys
}

/**
 * Seconds until sign-in is allowed again for any of the keys, or 0. A key is locked while it has
 * `limit` failures inside the sliding window; it opens when the oldest of those ages out.
 */
export async function lockedForSeconds(
  db: Db,
  keys: { key: string; limit: number }[],
  now: number,
): Promise<number> {
  let wait = 0
  for (const { key, limit } of keys) {
    const recent = await db
      .select({ at: loginFailures.at })
      .from(loginFailures)
      .where(and(eq(loginFailures.key, key), gt(loginFailures.at, now - THROTTLE_WINDOW_MS)))
      .orderBy(desc(loginFailures.at))
      .limit(limit)
      .all()
    const oldest = recent[limit - 1]
    if (oldest) wait = Math.max(wait, Math.ceil((oldest.at + THROTTLE_WINDOW_MS - now) / 1000))
  }
  return wait
}

export async function recordFailure(db: Db, keys: { key: string }[], now: number): Promise<void> {
  await db.insert(loginFailures).values(keys.map(({ key }) => ({ key, at: now })))
  // Old rows are useless; trimming here keeps the table small without a separate job.
  await db.delete(loginFailures).where(lt(loginFailures.at, now - THROTTLE_WINDOW_MS))
}
