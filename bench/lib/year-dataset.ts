import type Database from 'better-sqlite3'
import type { DataType } from '../../src/data/models/index.ts'
import type { PreparedRecord } from '../../src/data/store.ts'
import { LIGHT, lightActivity, lightDaily, lightSleep, ZoneClock } from './light-records.ts'
import { insertRows, prepareChecked, type RecordRow } from './records-seed.ts'

/*
 * The pull benchmark's data set: for every user one sleep, one activity and one daily record per
 * day over a span of days, with samples, written with one prepared INSERT (a transaction per user).
 *
 * Generating and serialising a record costs several times more than inserting it, so the records
 * of `variants` distinct user-years are generated and prepared (as the ingest path would, see
 * prepareChecked) and every user gets the rows of one of them under its own user id: the table,
 * its indexes and the pages holding the bodies are exactly as large as with a million distinct
 * bodies; only the bodies' contents repeat across users.
 */

export interface DatasetUser {
  id: string
  timezone: string
}

export interface DatasetSpec {
  /** Days since the epoch of the first local day. */
  firstDay: number
  days: number
  /** Distinct user-years generated (each in the zone of the first user that uses it). */
  variants: number
  /** Every `sampleEvery`-th record goes through the ingest path's prepareBatch (zod) and is compared. */
  sampleEvery: number
}

const TYPES: readonly DataType[] = ['sleep', 'activity', 'daily']

/** One user-year's records in `timezone`, prepared as the ingest path would store them. */
export function generateUserYear(
  timezone: string,
  variant: number,
  spec: DatasetSpec,
): { rows: (PreparedRecord & { type: DataType })[]; validated: number } {
  const clock = ZoneClock.of(timezone)
  const rows: (PreparedRecord & { type: DataType })[] = []
  let validated = 0
  TYPES.forEach((type, t) => {
    const seedBase = (variant * 3 + t) * 100_000
    const records = []
    for (let i = 0; i < spec.days; i++) {
      const day = spec.firstDay + i
      if (type === 'sleep') records.push(lightSleep(clock, day, seedBase + i, LIGHT))
      else if (type === 'activity') records.push(lightActivity(clock, day, seedBase + i, LIGHT))
      else records.push(lightDaily(clock, day, seedBase + i, LIGHT))
    }
    const offset = variant % spec.sampleEvery
    const prepared = prepareChecked(
      type,
      records as never[],
      timezone,
      (i) => i % spec.sampleEvery === offset,
      (ms) => clock.localDay(ms),
    )
    validated += prepared.validated
    for (const r of prepared.rows) rows.push({ ...r, type })
  })
  return { rows, validated }
}

export interface SeedProgress {
  users: number
  records: number
  seconds: number
}

export interface SeedSummary {
  records: number
  /** Distinct records generated. */
  generated: number
  validated: number
  bytesFull: number
  bytesLite: number
  byType: Record<DataType, { records: number; bytesFull: number }>
  seconds: number
}

/**
 * Writes every user's records into `client` (a raw connection to a file migrated with
 * openSqlite), with consecutive change sequence numbers, reporting progress after each user.
 */
export function seedDataset(
  client: Database.Database,
  users: readonly DatasetUser[],
  spec: DatasetSpec,
  options: { now: number; onProgress?: (p: SeedProgress) => void },
): SeedSummary {
  const started = performance.now()
  const summary: SeedSummary = {
    records: 0,
    generated: 0,
    validated: 0,
    bytesFull: 0,
    bytesLite: 0,
    byType: {
      sleep: { records: 0, bytesFull: 0 },
      activity: { records: 0, bytesFull: 0 },
      daily: { records: 0, bytesFull: 0 },
    },
    seconds: 0,
  }
  const years = new Map<string, ReturnType<typeof generateUserYear>['rows']>()
  let seq = 1
  const write = client.transaction((rows: RecordRow[]) => {
    seq = insertRows(client, rows, seq, options.now)
  })
  users.forEach((user, u) => {
    const variant = u % spec.variants
    const key = `${user.timezone}|${variant}`
    let year = years.get(key)
    if (!year) {
      const generated = generateUserYear(user.timezone, variant, spec)
      year = generated.rows
      years.set(key, year)
      summary.generated += year.length
      summary.validated += generated.validated
    }
    write(year.map((r) => ({ ...r, userId: user.id })))
    for (const r of year) {
      summary.records++
      summary.bytesFull += r.bodyFull.length
      summary.bytesLite += r.bodyLite.length
      summary.byType[r.type].records++
      summary.byType[r.type].bytesFull += r.bodyFull.length
    }
    options.onProgress?.({
      users: u + 1,
      records: summary.records,
      seconds: (performance.now() - started) / 1000,
    })
  })
  summary.seconds = (performance.now() - started) / 1000
  return summary
}
