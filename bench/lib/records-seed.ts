import Database from 'better-sqlite3'
import { localDay, timestampToMs } from '../../src/data/date-range.ts'
import {
  type DataRecordByType,
  type DataType,
  recordKey,
  stripSamples,
} from '../../src/data/models/index.ts'
import type { PreparedRecord } from '../../src/data/store.ts'
import { prepareBatch } from '../../src/ingest/routes.ts'

/*
 * Writing benchmark data straight into the `records` table: the rows the ingest path would write
 * (src/ingest/routes.ts prepareBatch → src/data/store.ts upsertRecords), without drizzle building
 * and preparing a statement per 8 rows, which is far too slow for a million records.
 */

/** The columns upsertRecords writes, in one reusable statement. */
export const INSERT_RECORD_SQL =
  'insert into records (user_id, type, key, start_ms, local_day, seq, body_full, body_lite, ' +
  'created_at, updated_at, deleted_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)'

/**
 * A raw better-sqlite3 connection to a file already migrated with `openSqlite()`, with the same
 * pragmas src/db/sqlite.ts sets (WAL, foreign keys, busy timeout, synchronous=NORMAL).
 */
export function openRawSqlite(path: string): Database.Database {
  const client = new Database(path)
  client.pragma('journal_mode = WAL')
  client.pragma('foreign_keys = ON')
  client.pragma('busy_timeout = 5000')
  client.pragma('synchronous = NORMAL')
  return client
}

export interface RecordRow extends PreparedRecord {
  userId: string
  type: DataType
}

/**
 * Inserts rows with one prepared statement, giving them consecutive change sequence numbers from
 * `firstSeq`, and moves the `record_seq` counter past them (as upsertRecords' bump would).
 * Runs inside the caller's transaction, if any. Returns the next free sequence number.
 */
export function insertRows(
  client: Database.Database,
  rows: readonly RecordRow[],
  firstSeq: number,
  now: number,
): number {
  const insert = statementFor(client)
  let seq = firstSeq
  for (const r of rows) {
    insert.run(
      r.userId,
      r.type,
      r.key,
      r.startMs,
      r.localDay,
      seq++,
      r.bodyFull,
      r.bodyLite,
      now,
      now,
    )
  }
  client
    .prepare(
      "insert into counters (name, value) values ('record_seq', ?) " +
        'on conflict (name) do update set value = excluded.value',
    )
    .run(seq - 1)
  return seq
}

const statements = new WeakMap<Database.Database, Database.Statement>()
function statementFor(client: Database.Database): Database.Statement {
  let s = statements.get(client)
  if (!s) {
    s = client.prepare(INSERT_RECORD_SQL)
    statements.set(client, s)
  }
  return s
}

/**
 * What prepareBatch produces for one record that is known to be valid, without the zod parse:
 * the same key, start instant, local day and bodies, provided the record's keys are already in
 * the models' order (zod's output order). {@link prepareChecked} proves that on a sample.
 */
export function prepareValid<T extends DataType>(
  type: T,
  record: DataRecordByType[T],
  timezone: string,
  localDayOf: (ms: number) => string = (ms) => localDay(ms, timezone),
): PreparedRecord {
  const key = recordKey(type, record)
  const startMs = timestampToMs(record.metadata.start_time)
  return {
    key,
    startMs,
    localDay: type === 'daily' ? key : localDayOf(startMs),
    bodyFull: JSON.stringify(record),
    bodyLite: JSON.stringify(stripSamples(record)),
  }
}

/**
 * Prepares records for storage. The records at `sampled` indexes go through the ingest path's own
 * prepareBatch (zod validation with DATA_RECORD_SCHEMAS, key, local day, both bodies); each of them
 * must be valid and byte-equal to what {@link prepareValid} makes of it, which is then used for the
 * others. Throws, naming the first difference, otherwise.
 */
export function prepareChecked<T extends DataType>(
  type: T,
  records: readonly DataRecordByType[T][],
  timezone: string,
  sampled: (index: number) => boolean,
  localDayOf?: (ms: number) => string,
): { rows: PreparedRecord[]; validated: number } {
  const indexes = records.map((_, i) => i).filter(sampled)
  const checked = prepareBatch(
    type,
    indexes.map((i) => records[i]),
    timezone,
  )
  if (!checked.ok) {
    const e = checked.errors[0]
    const index = indexes[e?.index ?? 0] ?? 0
    throw new Error(
      `generated ${type} record ${index} is not valid: ${e?.path} ${e?.message}\n` +
        JSON.stringify(records[index]).slice(0, 2000),
    )
  }
  const byIndex = new Map(indexes.map((i, j) => [i, checked.records[j] as PreparedRecord]))
  const rows = records.map((record, i) => {
    const fast = prepareValid(type, record, timezone, localDayOf)
    const slow = byIndex.get(i)
    if (slow) {
      for (const field of ['key', 'startMs', 'localDay', 'bodyFull', 'bodyLite'] as const) {
        if (fast[field] !== slow[field]) {
          throw new Error(
            `generated ${type} record ${i}: ${field} differs from the ingest path's\n` +
              `  ingest:    ${String(slow[field]).slice(0, 600)}\n  generated: ${String(fast[field]).slice(0, 600)}`,
          )
        }
      }
      return slow
    }
    return fast
  })
  return { rows, validated: indexes.length }
}
