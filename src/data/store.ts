import { and, asc, eq, gt, gte, inArray, isNull, lt, sql } from 'drizzle-orm'
import { atomic, chunk, type Db, maxParams, prepared, type Statement } from '../db/index.ts'
import { counters, outbox, records } from '../db/schema.ts'
import type { DataType } from './models/index.ts'

/** A validated record, serialised once at ingest so that pulls only concatenate strings. */
export interface PreparedRecord {
  key: string
  startMs: number
  localDay: string
  bodyFull: string
  bodyLite: string
}

export interface UpsertCounts {
  inserted: number
  updated: number
  unchanged: number
  /** Outbox rows written (one per changed record). */
  events: number
}

const SEQ = 'record_seq'
// Bound parameters per row of each multi-row statement (plus slack for the rest of the SQL).
const RECORD_ROW_PARAMS = 12
const OUTBOX_ROW_PARAMS = 7

/**
 * Reserves `n` change sequence numbers inside the transaction. The rows written after it take
 * `value - n + i` (i = 1…n): unique and increasing because the whole batch is one transaction.
 */
function bumpSequence(db: Db, n: number): Statement {
  return db
    .insert(counters)
    .values({ name: SEQ, value: n })
    .onConflictDoUpdate({ target: counters.name, set: { value: sql`${counters.value} + ${n}` } })
}

function seqExpression(n: number, i: number) {
  return sql`(select ${counters.value} from ${counters} where ${counters.name} = ${SEQ}) - ${n - i}`
}

/**
 * Upserts a batch for one user and type: new keys are inserted, changed ones overwrite the old
 * version (Terra's superset rule), byte-identical ones are left alone and announce nothing. Data
 * and outbox rows are written in one transaction.
 */
export async function upsertRecords(
  db: Db,
  userId: string,
  type: DataType,
  batch: readonly PreparedRecord[],
  now: number,
): Promise<UpsertCounts> {
  const existing = new Map<string, { bodyFull: string | null; deletedAt: number | null }>()
  const limit = maxParams(db)
  for (const keys of chunk(
    batch.map((r) => r.key),
    limit - 10,
  )) {
    const rows = await db
      .select({ key: records.key, bodyFull: records.bodyFull, deletedAt: records.deletedAt })
      .from(records)
      .where(and(eq(records.userId, userId), eq(records.type, type), inArray(records.key, keys)))
      .all()
    for (const row of rows) existing.set(row.key, row)
  }
  let inserted = 0
  let updated = 0
  const changed: PreparedRecord[] = []
  for (const record of batch) {
    const old = existing.get(record.key)
    if (!old) inserted++
    else if (old.deletedAt !== null || old.bodyFull !== record.bodyFull) updated++
    else continue
    changed.push(record)
  }
  const counts = {
    inserted,
    updated,
    unchanged: batch.length - changed.length,
    events: changed.length,
  }
  if (changed.length === 0) return counts

  const n = changed.length
  const statements: Statement[] = [bumpSequence(db, n)]
  const recordRows = Math.floor((limit - 10) / RECORD_ROW_PARAMS)
  const outboxRows = Math.floor((limit - 10) / OUTBOX_ROW_PARAMS)
  changed.forEach((_, index) => {
    if (index % recordRows !== 0) return
    const rows = changed.slice(index, index + recordRows)
    statements.push(
      db
        .insert(records)
        .values(
          rows.map((r, j) => ({
            userId,
            type,
            key: r.key,
            startMs: r.startMs,
            localDay: r.localDay,
            seq: seqExpression(n, index + j + 1),
            bodyFull: r.bodyFull,
            bodyLite: r.bodyLite,
            createdAt: now,
            updatedAt: now,
            deletedAt: null,
          })),
        )
        .onConflictDoUpdate({
          target: [records.userId, records.type, records.key],
          set: {
            startMs: sql`excluded.start_ms`,
            localDay: sql`excluded.local_day`,
            seq: sql`excluded.seq`,
            bodyFull: sql`excluded.body_full`,
            bodyLite: sql`excluded.body_lite`,
            updatedAt: sql`excluded.updated_at`,
            deletedAt: null,
          },
        }),
    )
  })
  changed.forEach((_, index) => {
    if (index % outboxRows !== 0) return
    const rows = changed.slice(index, index + outboxRows)
    statements.push(
      db.insert(outbox).values(
        rows.map((r, j) => ({
          userId,
          type,
          recordKey: r.key,
          change: 'upsert' as const,
          seq: seqExpression(n, index + j + 1),
          createdAt: now,
        })),
      ),
    )
  })
  await atomic(db, statements)
  return counts
}

/** Deletes a record, leaving a tombstone for `updated_since` and an outbox row; false if absent. */
export async function deleteRecord(
  db: Db,
  userId: string,
  type: DataType,
  key: string,
  now: number,
): Promise<boolean> {
  const live = and(
    eq(records.userId, userId),
    eq(records.type, type),
    eq(records.key, key),
    isNull(records.deletedAt),
  )
  const found = await db.select({ key: records.key }).from(records).where(live).get()
  if (!found) return false
  await atomic(db, [
    bumpSequence(db, 1),
    db
      .update(records)
      .set({
        deletedAt: now,
        updatedAt: now,
        bodyFull: null,
        bodyLite: null,
        seq: seqExpression(1, 1),
      })
      .where(live),
    db.insert(outbox).values({
      userId,
      type,
      recordKey: key,
      change: 'delete',
      seq: seqExpression(1, 1),
      createdAt: now,
    }),
  ])
  return true
}

export interface RangePosition {
  startMs: number
  key: string
}

/**
 * One page of live records whose start instant is in [startMs, endMs), in (start, key) order,
 * after `after` (keyset pagination: rows ingested between pages can neither duplicate nor hide
 * rows that were already there).
 */
export async function recordsInRange(
  db: Db,
  q: {
    userId: string
    type: DataType
    startMs: number
    endMs: number
    after: RangePosition | null
    limit: number
    withSamples: boolean
  },
): Promise<{ startMs: number; key: string; body: string | null }[]> {
  // The hottest query: prepared once per shape (samples or not, first page or not).
  const name = `recordsInRange:${q.withSamples}:${q.after !== null}`
  const query = prepared(db, name, () => {
    const p = sql.placeholder
    return db
      .select({
        startMs: records.startMs,
        key: records.key,
        body: q.withSamples ? records.bodyFull : records.bodyLite,
      })
      .from(records)
      .where(
        and(
          eq(records.userId, p('userId')),
          eq(records.type, p('type')),
          gte(records.startMs, p('startMs')),
          lt(records.startMs, p('endMs')),
          isNull(records.deletedAt),
          q.after
            ? sql`(${records.startMs}, ${records.key}) > (${p('afterStart')}, ${p('afterKey')})`
            : undefined,
        ),
      )
      .orderBy(asc(records.startMs), asc(records.key))
      .limit(p('limit'))
      .prepare()
  })
  return query.all({
    userId: q.userId,
    type: q.type,
    startMs: q.startMs,
    endMs: q.endMs,
    afterStart: q.after?.startMs ?? 0,
    afterKey: q.after?.key ?? '',
    limit: q.limit + 1,
  })
}

/** One page of changes (records and tombstones) at or after `sinceMs`, oldest change first. */
export async function changesSince(
  db: Db,
  q: {
    userId: string
    type: DataType
    sinceMs: number
    afterSeq: number
    limit: number
    withSamples: boolean
  },
): Promise<{ seq: number; key: string; body: string | null; deletedAt: number | null }[]> {
  const query = prepared(db, `changesSince:${q.withSamples}`, () => {
    const p = sql.placeholder
    return db
      .select({
        seq: records.seq,
        key: records.key,
        body: q.withSamples ? records.bodyFull : records.bodyLite,
        deletedAt: records.deletedAt,
      })
      .from(records)
      .where(
        and(
          eq(records.userId, p('userId')),
          eq(records.type, p('type')),
          gt(records.seq, p('afterSeq')),
          gte(records.updatedAt, p('sinceMs')),
        ),
      )
      .orderBy(asc(records.seq))
      .limit(p('limit'))
      .prepare()
  })
  return query.all({
    userId: q.userId,
    type: q.type,
    afterSeq: q.afterSeq,
    sinceMs: q.sinceMs,
    limit: q.limit + 1,
  })
}
