import { sql } from 'drizzle-orm'
import { chunk, type Db, type Statement } from '../db/index.ts'
import { deliveries, deliveryAttempts } from '../db/schema.ts'
import { insertJsonRows, ROWS_PER_STATEMENT } from './json-rows.ts'
import type { FailureClass } from './policy.ts'
import { clientCanReceive } from './queries.ts'

/*
 * Writing attempts in bulk: a group of completed attempts is written with two statements
 * whatever its size, one INSERT of every attempt and one UPDATE of every delivery, their values
 * passed as one JSON parameter (see json-rows.ts).
 */

/** One finished attempt and what follows it for its delivery. */
export interface CompletedAttempt {
  deliveryId: string
  /** The claim's lease token: a worker that lost its claim changes nothing but the log. */
  leaseToken: string
  number: number
  trigger: 'auto' | 'manual'
  startedAt: number
  durationMs: number
  statusCode: number | null
  error: FailureClass | null
  responseExcerpt: string | null
  status: 'succeeded' | 'pending' | 'failed' | 'held'
  retryIndex: number
  nextAttemptAt: number | null
  /** When it was delivered (success), else null (the previous value is kept). */
  deliveredAt: number | null
}

/**
 * The attempts, then the deliveries' next state, for a group of completed attempts: the
 * attempt is on record before the next one is scheduled. A delivery due for a retry whose client
 * was disabled meanwhile (a 410 on another delivery) is held instead.
 */
export function recordAttemptsStatements(
  db: Db,
  completed: readonly CompletedAttempt[],
  now: number,
): Statement[] {
  if (completed.length === 0) return []
  const statements = insertJsonRows(
    db,
    deliveryAttempts,
    completed.map((c) => ({
      deliveryId: c.deliveryId,
      number: c.number,
      trigger: c.trigger,
      startedAt: c.startedAt,
      durationMs: c.durationMs,
      statusCode: c.statusCode,
      error: c.error,
      responseExcerpt: c.responseExcerpt,
    })),
  )
  const fields: (keyof CompletedAttempt)[] = [
    'deliveryId',
    'leaseToken',
    'status',
    'retryIndex',
    'nextAttemptAt',
    'statusCode',
    'error',
    'startedAt',
    'deliveredAt',
  ]
  const columns = sql.raw(fields.map((f) => `json_extract(value, '$.${f}') as ${f}`).join(', '))
  for (const part of chunk(completed, ROWS_PER_STATEMENT)) {
    const j = sql`(select ${columns} from json_each(${JSON.stringify(part)}))`
    const held = sql`(j.status = 'pending' and not ${clientCanReceive(deliveries.clientId)})`
    statements.push(
      db
        .update(deliveries)
        .set({
          status: sql`case when ${held} then 'held' else j.status end`,
          retryIndex: sql`j.retryIndex`,
          nextAttemptAt: sql`case when ${held} then null else j.nextAttemptAt end`,
          nextTrigger: 'auto',
          leaseToken: null,
          leaseUntil: null,
          lastStatusCode: sql`j.statusCode`,
          lastError: sql`j.error`,
          lastAttemptAt: sql`j.startedAt`,
          deliveredAt: sql`coalesce(j.deliveredAt, ${deliveries.deliveredAt})`,
          updatedAt: now,
        })
        .from(sql`${j} as j`)
        // Only while the claim is still ours: a worker that lost its lease changes nothing.
        .where(
          sql`${deliveries.id} = j.deliveryId and +${deliveries.status} = 'delivering' and ${deliveries.leaseToken} = j.leaseToken`,
        ),
    )
  }
  return statements
}
