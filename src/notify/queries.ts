import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, max, not, or, sql } from 'drizzle-orm'
import type { Db } from '../db/index.ts'
import {
  clients,
  type DELIVERY_STATUSES,
  deliveries,
  grants,
  records,
  users,
  webhookSecrets,
} from '../db/schema.ts'
import { inJson } from './json-rows.ts'

/*
 * The worker's hot queries, prepared once per notifier: building a drizzle query and compiling
 * its SQL cost more than running it, and these run for every batch of sends. Lists are passed
 * as one JSON parameter (`json_each`), so one prepared statement serves any length and D1's
 * 100-parameter limit never comes into it.
 */

const p = sql.placeholder

/** The client can receive: webhook active and a URL to send to. */
/**
 * `status = '<status>'` with the value written into the SQL: SQLite uses a partial index
 * (`… where status = 'pending'`) only for a constant, never for a bound parameter. For `held`,
 * `delivering` and `failed`, whose index (`deliveries_state`) covers the three, the index's own
 * condition is repeated word for word: SQLite uses a partial index only when the query's WHERE
 * contains the index's condition as a term (it does not infer `status IN (…)` from `status =`).
 */
export function statusIs(status: (typeof DELIVERY_STATUSES)[number]) {
  const is = sql`${deliveries.status} = ${sql.raw(`'${status}'`)}`
  if (status === 'pending' || status === 'succeeded') return is
  return sql`(${deliveries.status} in ('held', 'delivering', 'failed') and ${is})`
}

export function clientCanReceive(clientId: typeof deliveries.clientId) {
  return sql`exists (select 1 from ${clients} where ${clients.id} = ${clientId} and ${clients.webhookStatus} = 'active' and ${clients.webhookUrl} is not null)`
}

export function notifierQueries(db: Db) {
  const due = and(
    eq(deliveries.clientId, p('clientId')),
    statusIs('pending'),
    lte(deliveries.nextAttemptAt, p('now')),
  )
  // It was created while another delivery with an older rendering of one of its records was
  // in flight, and that one still is (see after_ids in the schema).
  const waitsForOther = sql`(${deliveries.afterIds} is not null and exists (select 1 from json_each(${deliveries.afterIds}) as a cross join ${deliveries} as o where o.id = a.value and o.status = 'delivering' and o.lease_until > ${p('now')}))`
  const next = db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(due, not(waitsForOther)))
    .orderBy(asc(deliveries.nextAttemptAt), asc(deliveries.sourceSeq))
    .limit(p('limit'))
  // Each claimed delivery (`ids`, JSON), each of its record keys, and the record's current row
  // (none if it went with its user).
  const recordsOf = sql`json_each(${p('ids')}) as x cross join ${deliveries} as d cross join json_each(d.record_keys) as k left join ${records} as r on r.user_id = d.user_id and r.type = d.data_type and r.key = k.value`
  const recordColumns = {
    deliveryId: sql<string>`d.id`,
    key: sql<string>`k.value`,
    startMs: sql<number | null>`r.start_ms`,
    deletedAt: sql<number | null>`r.deleted_at`,
  }
  const recordsWhere = sql`d.id = x.value`

  return {
    /** Clients that can receive and have a delivery due now (each checked by index). */
    dueClients: db
      .select({
        id: clients.id,
        webhookUrl: clients.webhookUrl,
        signatureScheme: clients.signatureScheme,
        payloadMode: clients.payloadMode,
      })
      .from(clients)
      .where(
        and(
          eq(clients.webhookStatus, 'active'),
          isNotNull(clients.webhookUrl),
          sql`exists (select 1 from ${deliveries} where ${deliveries.clientId} = ${clients.id} and ${deliveries.status} = 'pending' and ${deliveries.nextAttemptAt} <= ${p('now')})`,
        ),
      )
      .prepare(),

    /** When the earliest pending delivery of a client that can receive is due. */
    nextDue: db
      .select({
        at: sql<
          number | null
        >`min((select min(${deliveries.nextAttemptAt}) from ${deliveries} where ${deliveries.clientId} = ${clients.id} and ${deliveries.status} = 'pending'))`,
      })
      .from(clients)
      .where(and(eq(clients.webhookStatus, 'active'), isNotNull(clients.webhookUrl)))
      .prepare(),

    /** The compare-and-set claim: up to `limit` due deliveries become `delivering` under `token`. */
    claim: db
      .update(deliveries)
      .set({
        status: 'delivering',
        leaseToken: sql`${p('token')}`,
        leaseUntil: sql`${p('leaseUntil')}`,
        attempts: sql`${deliveries.attempts} + 1`,
        updatedAt: sql`${p('now')}`,
      })
      // The unary + keeps SQLite from driving this by the status index (every pending row)
      // instead of by the ids just selected (the primary key).
      .where(
        and(
          inArray(deliveries.id, next),
          sql`+${deliveries.status} = 'pending'`,
          sql`+${deliveries.nextAttemptAt} <= ${p('now')}`,
          clientCanReceive(deliveries.clientId),
        ),
      )
      .returning()
      .prepare(),

    /**
     * Live grants of the client for `userIds` (JSON), with the users' references and the last
     * successful delivery to the client about each user.
     */
    grants: db
      .select({
        userId: grants.userId,
        scope: grants.scope,
        grantedAt: grants.createdAt,
        reference: users.reference,
        lastDelivered: sql<
          number | null
        >`(select max(d.delivered_at) from ${deliveries} as d where d.client_id = ${grants.clientId} and d.user_id = ${grants.userId})`,
      })
      .from(grants)
      .innerJoin(users, eq(users.id, grants.userId))
      .where(
        and(
          eq(grants.clientId, p('clientId')),
          inJson(grants.userId, 'userIds'),
          isNull(grants.revokedAt),
        ),
      )
      .prepare(),

    /** The last successful delivery to the client about each of `userIds` (lifecycle events). */
    lastDelivered: db
      .select({ userId: deliveries.userId, at: max(deliveries.deliveredAt) })
      .from(deliveries)
      .where(and(eq(deliveries.clientId, p('clientId')), inJson(deliveries.userId, 'userIds')))
      .groupBy(deliveries.userId)
      .prepare(),

    /** The current version of every record of the deliveries `ids` (JSON), for full mode. */
    recordsFull: db
      .select({ ...recordColumns, bodyFull: sql<string | null>`r.body_full` })
      .from(recordsOf)
      .where(recordsWhere)
      .prepare(),

    /** The same for ping mode: no bodies, only the range. */
    recordsPing: db
      .select({
        ...recordColumns,
        live: sql<number>`r.body_full is not null`,
        startTime: sql<string | null>`json_extract(r.body_lite, '$.metadata.start_time')`,
        endTime: sql<string | null>`json_extract(r.body_lite, '$.metadata.end_time')`,
      })
      .from(recordsOf)
      .where(recordsWhere)
      .prepare(),

    /** Records without their samples (`records`: JSON `[user, type, key]`), for oversized events. */
    liteBodies: db
      .select({ key: sql<string>`r.key`, bodyLite: sql<string | null>`r.body_lite` })
      .from(sql`json_each(${p('records')}) as w cross join ${records} as r`)
      .where(
        sql`r.user_id = json_extract(w.value, '$[0]') and r.type = json_extract(w.value, '$[1]') and r.key = json_extract(w.value, '$[2]')`,
      )
      .prepare(),

    /** The client's live webhook secrets. */
    secrets: db
      .select({ secret: webhookSecrets.secret, expiresAt: webhookSecrets.expiresAt })
      .from(webhookSecrets)
      .where(
        and(
          eq(webhookSecrets.clientId, p('clientId')),
          or(isNull(webhookSecrets.expiresAt), gt(webhookSecrets.expiresAt, p('now'))),
        ),
      )
      .prepare(),
  }
}
