import { and, asc, between, eq, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm'
import { atomic, chunk, type Db, type Statement } from '../db/index.ts'
import { clients, deliveries, grants, outbox } from '../db/schema.ts'
import { splitScope } from '../oauth/scopes.ts'
import { inJson, insertJsonRows } from './json-rows.ts'
import { LEASE_MS, MAX_EVENT_RECORDS } from './policy.ts'

/*
 * Fan-out: outbox rows (written with the data) become per-client deliveries. Every client whose
 * live grant covers the type's scope and that has a webhook URL gets the change. Changes to one
 * record coalesce: a record already in a delivery that has not gone out yet (`pending`, which
 * includes one waiting for a retry, or `held`) is not added again, because that delivery renders
 * the record's current version when it is sent. A record in a delivery being sent right now
 * (`delivering`) may have been rendered before the change, so it gets a new delivery, which
 * waits for that one (`after_ids`): the newer version is never overtaken by the older.
 *
 * The dispatcher claims outbox rows with a token and a lease, so that two dispatchers (the kick
 * after an ingest and the sweeper, or two processes) do not fan out the same rows; the
 * deliveries are inserted and the rows deleted in one atomic() write. If a dispatcher dies
 * between the claim and the write, its lease runs out and another one takes the rows.
 */

export type DeliveryRow = typeof deliveries.$inferSelect
type OutboxRow = typeof outbox.$inferSelect

/** Outbox rows fanned out per round: more than one ingest's worth (1,000 records). */
export const DISPATCH_BATCH = 2000

/** A new delivery row: `pending` and due now, or `held` when the client cannot receive now. */
export function newDeliveryRow(input: {
  clientId: string
  userId: string
  type: string
  dataType: string | null
  recordKeys: string[] | null
  afterIds?: string[] | null
  payload: string | null
  sourceSeq: number
  held: boolean
  now: number
  /** When the change happened (the outbox row's time): the event's `created_at`. */
  createdAt: number
}): DeliveryRow {
  return {
    id: crypto.randomUUID(),
    eventId: crypto.randomUUID(),
    clientId: input.clientId,
    userId: input.userId,
    type: input.type,
    dataType: input.dataType,
    recordKeys: input.recordKeys,
    afterIds: input.afterIds ?? null,
    payload: input.payload,
    sourceSeq: input.sourceSeq,
    status: input.held ? 'held' : 'pending',
    attempts: 0,
    retryIndex: 0,
    nextAttemptAt: input.held ? null : input.now,
    nextTrigger: 'auto',
    leaseToken: null,
    leaseUntil: null,
    lastStatusCode: null,
    lastError: null,
    lastAttemptAt: null,
    deliveredAt: null,
    createdAt: input.createdAt,
    updatedAt: input.now,
  }
}

/** Inserts deliveries, in a few statements however many there are. */
export function insertDeliveryStatements(db: Db, rows: readonly DeliveryRow[]): Statement[] {
  return insertJsonRows(db, deliveries, rows as unknown as Record<string, unknown>[])
}

interface Subscriber {
  clientId: string
  scopes: Set<string>
  active: boolean
}

const p = sql.placeholder

/** The dispatcher's queries, prepared once per database (lists travel as one JSON parameter). */
function dispatchQueries(db: Db) {
  const claimable = or(isNull(outbox.claimUntil), lt(outbox.claimUntil, p('now')))
  return {
    claim: db
      .update(outbox)
      .set({ claimToken: sql`${p('token')}`, claimUntil: sql`${p('claimUntil')}` })
      .where(
        and(
          inArray(
            outbox.id,
            db
              .select({ id: outbox.id })
              .from(outbox)
              .where(claimable)
              .orderBy(asc(outbox.id))
              .limit(p('limit')),
          ),
          claimable,
        ),
      )
      .returning()
      .prepare(),
    /** The clients with a webhook URL and a live grant for each of `userIds`. */
    subscribers: db
      .select({
        userId: grants.userId,
        clientId: grants.clientId,
        scope: grants.scope,
        status: clients.webhookStatus,
      })
      .from(grants)
      .innerJoin(clients, eq(clients.id, grants.clientId))
      .where(
        and(
          inJson(grants.userId, 'userIds'),
          isNull(grants.revokedAt),
          isNotNull(clients.webhookUrl),
        ),
      )
      .prepare(),
    /** The records of unsent and in-flight deliveries for the `[user, type]` pairs (JSON). */
    waiting: db
      .select({
        id: sql<string>`d.id`,
        status: sql<string>`d.status`,
        userId: sql<string>`d.user_id`,
        type: sql<string>`d.data_type`,
        clientId: sql<string>`d.client_id`,
        eventType: sql<string>`d.type`,
        key: sql<string>`k.value`,
      })
      // CROSS JOIN fixes the join order (SQLite does not reorder it): each pair, then its
      // deliveries by index, then their record keys.
      .from(
        sql`json_each(${p('pairs')}) as w cross join ${deliveries} as d cross join json_each(d.record_keys) as k`,
      )
      .where(
        sql`d.user_id = json_extract(w.value, '$[0]') and d.data_type = json_extract(w.value, '$[1]') and d.status in ('pending', 'held', 'delivering')`,
      )
      .prepare(),
    /** Of `clientIds`, those with a webhook URL, and whether they can receive now. */
    targets: db
      .select({ id: clients.id, status: clients.webhookStatus })
      .from(clients)
      .where(and(inJson(clients.id, 'clientIds'), isNotNull(clients.webhookUrl)))
      .prepare(),
  }
}

const prepared = new WeakMap<Db, ReturnType<typeof dispatchQueries>>()
function queriesFor(db: Db) {
  let q = prepared.get(db)
  if (!q) {
    q = dispatchQueries(db)
    prepared.set(db, q)
  }
  return q
}

/** The clients with a webhook URL and a live grant for each user. */
async function subscribersOf(db: Db, userIds: readonly string[]) {
  const byUser = new Map<string, Subscriber[]>()
  const rows = await queriesFor(db).subscribers.all({ userIds: JSON.stringify(userIds) })
  for (const row of rows) {
    const list = byUser.get(row.userId) ?? []
    list.push({
      clientId: row.clientId,
      scopes: new Set(splitScope(row.scope)),
      active: row.status === 'active',
    })
    byUser.set(row.userId, list)
  }
  return byUser
}

/**
 * For every record already in an open delivery, keyed `client|user|type|kind|key`: `waiting` if
 * one has not been sent yet (the change coalesces into it), and the deliveries in flight with it.
 */
async function openRecords(db: Db, pairs: readonly [string, string][]) {
  const waiting = new Set<string>()
  const inFlight = new Map<string, string[]>()
  if (pairs.length === 0) return { waiting, inFlight }
  for (const row of await queriesFor(db).waiting.all({ pairs: JSON.stringify(pairs) })) {
    const kind = row.eventType === 'deletion' ? 'delete' : 'upsert'
    const id = `${row.clientId}|${row.userId}|${row.type}|${kind}|${row.key}`
    if (row.status === 'delivering') inFlight.set(id, [...(inFlight.get(id) ?? []), row.id])
    else waiting.add(id)
  }
  return { waiting, inFlight }
}

async function claimOutbox(db: Db, now: number, limit: number) {
  const token = crypto.randomUUID()
  const rows = (await queriesFor(db).claim.all({
    now,
    limit,
    token,
    claimUntil: now + LEASE_MS,
  })) as OutboxRow[]
  return { token, rows: rows.sort((a, b) => a.id - b.id) }
}

interface Group {
  clientId: string
  userId: string
  type: string
  change: 'upsert' | 'delete'
  held: boolean
  /** Record key ⇒ the outbox row that first named it, in order. */
  keys: Map<string, { seq: number; at: number }>
}

export interface DispatchResult {
  /** Outbox rows taken and removed. */
  outboxRows: number
  deliveries: number
}

/**
 * One round of fan-out: claims up to `limit` outbox rows, creates their deliveries and deletes
 * the rows, in one atomic() write. Call it until it returns `outboxRows: 0`.
 */
export async function dispatchOutbox(
  db: Db,
  now: number,
  limit = DISPATCH_BATCH,
): Promise<DispatchResult> {
  const { token, rows } = await claimOutbox(db, now, limit)
  if (rows.length === 0) return { outboxRows: 0, deliveries: 0 }

  const lifecycle = rows.filter((r) => r.change === 'event')
  const changes = rows.filter((r) => r.change !== 'event' && r.recordKey !== null)
  const subscribers = await subscribersOf(db, [...new Set(changes.map((r) => r.userId))])

  const groups = new Map<string, Group>()
  for (const row of changes) {
    const change = row.change as 'upsert' | 'delete'
    for (const sub of subscribers.get(row.userId) ?? []) {
      if (!sub.scopes.has(`${row.type}:read`)) continue
      const id = `${sub.clientId}|${row.userId}|${row.type}|${change}`
      let group = groups.get(id)
      if (!group) {
        group = {
          clientId: sub.clientId,
          userId: row.userId,
          type: row.type,
          change,
          held: !sub.active,
          keys: new Map(),
        }
        groups.set(id, group)
      }
      if (!group.keys.has(row.recordKey as string)) {
        group.keys.set(row.recordKey as string, { seq: row.id, at: row.createdAt })
      }
    }
  }

  // Coalesce with deliveries that have not been sent yet.
  const pairs = new Map<string, [string, string]>()
  for (const group of groups.values()) {
    pairs.set(`${group.userId}|${group.type}`, [group.userId, group.type])
  }
  const { waiting, inFlight } = await openRecords(db, [...pairs.values()])

  const newDeliveries: DeliveryRow[] = []
  for (const group of groups.values()) {
    const prefix = `${group.clientId}|${group.userId}|${group.type}|${group.change}|`
    const fresh = [...group.keys].filter(([key]) => !waiting.has(prefix + key))
    for (const part of chunk(fresh, MAX_EVENT_RECORDS)) {
      const first = (part[0] as [string, { seq: number; at: number }])[1]
      const after = new Set(part.flatMap(([key]) => inFlight.get(prefix + key) ?? []))
      const delivery = newDeliveryRow({
        clientId: group.clientId,
        userId: group.userId,
        type: group.change === 'delete' ? 'deletion' : group.type,
        dataType: group.type,
        recordKeys: part.map(([key]) => key),
        afterIds: after.size > 0 ? [...after] : null,
        payload: null,
        sourceSeq: first.seq,
        held: group.held,
        now,
        createdAt: first.at,
      })
      newDeliveries.push(delivery)
    }
  }

  if (lifecycle.length > 0) {
    const clientIds = JSON.stringify([...new Set(lifecycle.map((r) => r.clientId as string))])
    const targets = new Map<string, boolean>()
    for (const c of await queriesFor(db).targets.all({ clientIds })) {
      targets.set(c.id, c.status === 'active')
    }
    for (const row of lifecycle) {
      const active = targets.get(row.clientId as string)
      if (active === undefined) continue // the client is gone or has no webhook URL
      newDeliveries.push(lifecycleDelivery(row, !active, now))
    }
  }
  newDeliveries.sort((a, b) => a.sourceSeq - b.sourceSeq)

  await atomic(db, [
    ...insertDeliveryStatements(db, newDeliveries),
    // The claimed rows lie between the first and last id (the primary key's range, not a scan).
    db
      .delete(outbox)
      .where(
        and(
          between(outbox.id, (rows[0] as OutboxRow).id, (rows.at(-1) as OutboxRow).id),
          eq(outbox.claimToken, token),
        ),
      ),
  ])
  return { outboxRows: rows.length, deliveries: newDeliveries.length }
}

function lifecycleDelivery(row: OutboxRow, held: boolean, now: number): DeliveryRow {
  return newDeliveryRow({
    clientId: row.clientId as string,
    userId: row.userId,
    type: row.type,
    dataType: null,
    recordKeys: null,
    payload: row.payload,
    sourceSeq: row.id,
    held,
    now,
    createdAt: row.createdAt,
  })
}
