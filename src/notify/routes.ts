import { and, asc, desc, eq, gte, inArray, lt, or, sql } from 'drizzle-orm'
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { z } from 'zod'
import { decodeCursor, encodeCursor } from '../admin/cursor.ts'
import { readJsonBody } from '../admin/json-body.ts'
import { findClientById } from '../admin/records.ts'
import { atomic } from '../db/index.ts'
import { DELIVERY_STATUSES, deliveries, deliveryAttempts } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { Problem, parseOrProblem } from '../http/errors.ts'
import { kickNotifier } from './kick.ts'
import type { DeliveryRow } from './outbox-dispatch.ts'
import { statusIs } from './queries.ts'
import { syncHeldStatements } from './worker.ts'

/*
 * The operators' view of the notifier, under /admin/v1 (behind the admin key): deliveries with
 * their attempt logs, redelivery of one event, and recovery of everything that failed since a
 * time, e.g. after the receiver's outage.
 */

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A delivery as the admin API shows it (the contract's fields, in its order). */
export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    event_id: row.eventId,
    client_id: row.clientId,
    user_id: row.userId,
    type: row.type,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: iso(row.nextAttemptAt),
    last_status_code: row.lastStatusCode,
    created_at: iso(row.createdAt) as string,
  }
}

export function attemptView(row: typeof deliveryAttempts.$inferSelect) {
  return {
    number: row.number,
    trigger: row.trigger,
    started_at: iso(row.startedAt) as string,
    duration_ms: row.durationMs,
    status_code: row.statusCode,
    error: row.error,
    response_excerpt: row.responseExcerpt,
  }
}

const ListQuery = z.object({
  status: z
    .enum(DELIVERY_STATUSES, { error: `Must be one of ${DELIVERY_STATUSES.join(', ')}.` })
    .optional(),
  client_id: z.string().min(1).optional(),
  user_id: z.string().min(1).optional(),
  limit: z.coerce
    .number({ error: 'Must be a whole number from 1 to 100.' })
    .int('Must be a whole number from 1 to 100.')
    .min(1, 'Must be a whole number from 1 to 100.')
    .max(100, 'Must be a whole number from 1 to 100.')
    .default(50),
  next_token: z.string().optional(),
})

const RecoverBody = z.strictObject({
  since: z.iso.datetime({
    offset: true,
    error: 'Must be an RFC 3339 date-time with an offset, e.g. 2026-03-01T00:00:00Z.',
  }),
})

function noSuchDelivery(id: string): Problem {
  return new Problem(404, 'Not Found', `There is no delivery with id ${JSON.stringify(id)}.`)
}

function noSuchClient(id: string): Problem {
  return new Problem(404, 'Not Found', `There is no client with id ${JSON.stringify(id)}.`)
}

/** `/admin/v1/deliveries`. */
export const deliveryRoutes = new Hono<AppEnv>()

/** Newest first, keyset-paged on (created_at, id). */
deliveryRoutes.get('/', async (c) => {
  const q = parseOrProblem(ListQuery, c.req.query(), 'query')
  const after = q.next_token === undefined ? undefined : decodeCursor(q.next_token)
  const rows = await c.var.deps.db
    .select()
    .from(deliveries)
    .where(
      and(
        q.status ? eq(deliveries.status, q.status) : undefined,
        q.client_id ? eq(deliveries.clientId, q.client_id) : undefined,
        q.user_id ? eq(deliveries.userId, q.user_id) : undefined,
        after
          ? or(
              lt(deliveries.createdAt, after.createdAt),
              and(eq(deliveries.createdAt, after.createdAt), lt(deliveries.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(q.limit + 1)
    .all()
  const page = rows.slice(0, q.limit)
  const last = page.at(-1)
  return c.json({
    data: page.map(deliveryView),
    next_token: rows.length > q.limit && last ? encodeCursor(last) : null,
  })
})

deliveryRoutes.get('/:id', async (c) => {
  const id = c.req.param('id')
  const { db } = c.var.deps
  const row = await db.select().from(deliveries).where(eq(deliveries.id, id)).get()
  if (!row) throw noSuchDelivery(id)
  const attempts = await db
    .select()
    .from(deliveryAttempts)
    .where(eq(deliveryAttempts.deliveryId, id))
    .orderBy(asc(deliveryAttempts.number), asc(deliveryAttempts.id))
    .all()
  return c.json({ ...deliveryView(row), attempts: attempts.map(attemptView) })
})

/**
 * Sends the event again now, with the same `webhook-id`, as a `manual` attempt. Manual attempts
 * do not use up the automatic schedule: a failed delivery whose redelivery fails is `failed`
 * again; one still retrying goes on with its schedule.
 */
deliveryRoutes.post('/:id/redeliver', async (c) => {
  const id = c.req.param('id')
  const { deps } = c.var
  const row = await deps.db.select().from(deliveries).where(eq(deliveries.id, id)).get()
  if (!row) throw noSuchDelivery(id)
  if (row.status === 'delivering') {
    throw new Problem(
      409,
      'Conflict',
      'The delivery is being sent right now; wait for the attempt to finish.',
    )
  }
  const client = await findClientById(deps, row.clientId)
  if (row.status === 'held' || client?.webhookStatus !== 'active' || !client.webhookUrl) {
    throw new Problem(
      409,
      'Conflict',
      'The client’s webhook is disabled or has no URL. Re-enable it with PATCH /admin/v1/clients/{id} {"webhook_status":"active"}; held deliveries then go out by themselves.',
    )
  }
  const now = deps.now()
  const [updated] = await deps.db
    .update(deliveries)
    .set({ status: 'pending', nextAttemptAt: now, nextTrigger: 'manual', updatedAt: now })
    .where(
      and(eq(deliveries.id, id), inArray(deliveries.status, ['pending', 'succeeded', 'failed'])),
    )
    .returning()
    .all()
  if (!updated) {
    throw new Problem(409, 'Conflict', 'The delivery changed state meanwhile; look at it again.')
  }
  kickNotifier(deps)
  return c.json(deliveryView(updated), 202)
})

/** Mounted at `/admin/v1/clients`: `POST /{id}/recover`. */
export const clientDeliveryRoutes = new Hono<AppEnv>()

/**
 * Every delivery of the client that failed (ran out of attempts) at or after `since` goes out
 * again, each as one manual attempt. Deliveries of a disabled client are held until it is
 * re-enabled.
 */
clientDeliveryRoutes.post('/:id/recover', async (c) => {
  const id = c.req.param('id')
  const { deps } = c.var
  if (!(await findClientById(deps, id))) throw noSuchClient(id)
  const { since } = await readJsonBody(c, RecoverBody, { what: 'recovery request' })
  const sinceMs = Date.parse(since)
  const now = deps.now()
  const recovered = await deps.db
    .update(deliveries)
    .set({ status: 'pending', nextAttemptAt: now, nextTrigger: 'manual', updatedAt: now })
    .where(
      and(eq(deliveries.clientId, id), statusIs('failed'), gte(deliveries.lastAttemptAt, sinceMs)),
    )
    .returning({ id: deliveries.id })
    .all()
  await atomic(deps.db, syncHeldStatements(deps.db, now, id))
  if (recovered.length > 0) kickNotifier(deps)
  return c.json(
    { client_id: id, since: new Date(sinceMs).toISOString(), recovered: recovered.length },
    202,
  )
})

/**
 * Runs after `PATCH /admin/v1/clients/{id}`: a client whose webhook was re-enabled (or given a
 * URL) gets its held deliveries sent now; one disabled gets its pending ones held.
 */
export const syncHeldAfterClientUpdate = createMiddleware<AppEnv>(async (c, next) => {
  await next()
  if (c.req.method !== 'PATCH' || c.res.status !== 200) return
  const { deps } = c.var
  const id = c.req.param('id')
  if (!id) return
  await atomic(deps.db, syncHeldStatements(deps.db, deps.now(), id))
  kickNotifier(deps)
})

/** The number of deliveries per status (for logs and tests). */
export async function deliveryCounts(db: AppEnv['Variables']['deps']['db']) {
  const rows = await db
    .select({ status: deliveries.status, n: sql<number>`count(*)` })
    .from(deliveries)
    .groupBy(deliveries.status)
    .all()
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Partial<
    Record<(typeof DELIVERY_STATUSES)[number], number>
  >
}
