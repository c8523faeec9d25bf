import { and, count, desc, eq, isNotNull, lte, min, or, sql } from 'drizzle-orm'
import type { Db } from '../db/index.ts'
import { clients, deliveries, deliveryAttempts, outbox } from '../db/schema.ts'
import { statusIs } from '../notify/queries.ts'

/*
 * The notifier's state as the operator sees it, read from the database (so it is true across
 * processes and restarts, and the same on both runtimes): for the scrape-time gauges of
 * /metrics and for the diagnostics. Each count reads a partial index (see the deliveries table);
 * `succeeded` is never counted, it only grows (the attempts counter tracks it instead).
 */

export const OPEN_STATUSES = ['pending', 'delivering', 'held', 'failed'] as const
export type OpenStatus = (typeof OPEN_STATUSES)[number]

export interface QueueStats {
  /** Changes committed but not yet fanned out into deliveries. */
  outboxDepth: number
  /** How long the oldest of them has waited; 0 when there is none. */
  oldestOutboxAgeSeconds: number
  /** Deliveries in each state that is not final-and-fine. `failed` are the dead letters. */
  deliveries: Record<OpenStatus, number>
  /** Pending deliveries whose time has come. */
  dueNow: number
  /** How long the oldest due delivery has waited past its due time; 0 when none is due. */
  oldestDueAgeSeconds: number
  /** Clients whose webhook is disabled (a 410 Gone, or by hand). */
  disabledEndpoints: number
}

export async function queueStats(db: Db, now: number): Promise<QueueStats> {
  const outboxRow = await db
    .select({ n: count(), oldest: min(outbox.createdAt) })
    .from(outbox)
    .get()
  const byStatus = await db
    .select({ status: deliveries.status, n: count() })
    .from(deliveries)
    .where(or(statusIs('pending'), statusIs('held'), statusIs('delivering'), statusIs('failed')))
    .groupBy(deliveries.status)
    .all()
  const due = await db
    .select({ n: count(), oldest: min(deliveries.nextAttemptAt) })
    .from(deliveries)
    .where(and(statusIs('pending'), lte(deliveries.nextAttemptAt, now)))
    .get()
  const disabled = await db
    .select({ n: count() })
    .from(clients)
    .where(eq(clients.webhookStatus, 'disabled'))
    .get()
  const counts: Record<OpenStatus, number> = { pending: 0, delivering: 0, held: 0, failed: 0 }
  for (const row of byStatus) {
    if (row.status !== 'succeeded') counts[row.status] = row.n
  }
  const oldest = due?.oldest ?? null
  const oldestChange = outboxRow?.oldest ?? null
  return {
    outboxDepth: outboxRow?.n ?? 0,
    oldestOutboxAgeSeconds: oldestChange === null ? 0 : Math.max(0, (now - oldestChange) / 1000),
    deliveries: counts,
    dueNow: due?.n ?? 0,
    oldestDueAgeSeconds: oldest === null ? 0 : Math.max(0, (now - oldest) / 1000),
    disabledEndpoints: disabled?.n ?? 0,
  }
}

/** A failed attempt that says something about the receiver (not a skip, not our own crash). */
const receiverFailure = sql`${deliveryAttempts.error} is not null and ${deliveryAttempts.error} not in ('skipped', 'interrupted', 'internal')`

export interface WebhookHealth {
  clientId: string
  name: string
  webhookUrl: string | null
  webhookStatus: 'active' | 'disabled'
  /** When the last successful delivery to it started; `null` if none ever did. */
  lastSuccessAt: number | null
  /** Failed attempts since the last success (all of them if none ever succeeded). */
  consecutiveFailures: number
  /** The most recent attempt's outcome, if any. */
  lastAttempt: { at: number; statusCode: number | null; error: string | null } | null
  failed: number
  held: number
}

/** Per client with a webhook URL (or events held for want of one): how its webhook is doing. */
export async function webhookHealth(db: Db): Promise<WebhookHealth[]> {
  const rows = await db
    .select({
      clientId: clients.id,
      name: clients.name,
      webhookUrl: clients.webhookUrl,
      webhookStatus: clients.webhookStatus,
    })
    .from(clients)
    .orderBy(clients.createdAt, clients.id)
    .all()
  const out: WebhookHealth[] = []
  for (const client of rows) {
    const open = await db
      .select({ status: deliveries.status, n: count() })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.clientId, client.clientId),
          or(statusIs('held'), statusIs('failed'), statusIs('delivering')),
        ),
      )
      .groupBy(deliveries.status)
      .all()
    const held = open.find((r) => r.status === 'held')?.n ?? 0
    const failed = open.find((r) => r.status === 'failed')?.n ?? 0
    if (client.webhookUrl === null && held === 0 && client.webhookStatus === 'active') continue
    const success = await db
      .select({ at: sql<number | null>`max(${deliveries.deliveredAt})` })
      .from(deliveries)
      .where(and(eq(deliveries.clientId, client.clientId), isNotNull(deliveries.deliveredAt)))
      .get()
    const lastSuccessAt = success?.at ?? null
    // Failures after the last success can only belong to deliveries not (yet) succeeded.
    const failures = await db
      .select({ n: count() })
      .from(deliveryAttempts)
      .innerJoin(deliveries, eq(deliveries.id, deliveryAttempts.deliveryId))
      .where(
        and(
          eq(deliveries.clientId, client.clientId),
          sql`${deliveries.status} != 'succeeded'`,
          receiverFailure,
          lastSuccessAt === null
            ? undefined
            : sql`${deliveryAttempts.startedAt} > ${lastSuccessAt}`,
        ),
      )
      .get()
    const last = await db
      .select({
        at: deliveries.lastAttemptAt,
        statusCode: deliveries.lastStatusCode,
        error: deliveries.lastError,
      })
      .from(deliveries)
      .where(and(eq(deliveries.clientId, client.clientId), isNotNull(deliveries.lastAttemptAt)))
      .orderBy(desc(deliveries.lastAttemptAt))
      .limit(1)
      .get()
    out.push({
      ...client,
      lastSuccessAt,
      consecutiveFailures: failures?.n ?? 0,
      lastAttempt: last && last.at !== null ? { ...last, at: last.at } : null,
      failed,
      held,
    })
  }
  return out
}
