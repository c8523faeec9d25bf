import type { DataType } from '../src/data/models/index.ts'
import type { PreparedRecord } from '../src/data/store.ts'
import { openSqlite } from '../src/db/sqlite.ts'
import { prepareBatch } from '../src/ingest/routes.ts'
import { makeActivity, makeDaily, makeSleep } from '../test/fixtures/records.ts'
import type { Benchmark } from './lib/benchmark.ts'
import {
  memoryOf,
  mintAccessTokens,
  progress,
  seedClientAndUsers,
  seedingDeps,
  startGateway,
  tempDatabase,
  thousands,
} from './lib/gateway.ts'
import { dayNumber, dayString } from './lib/light-records.ts'
import type { LoadResult } from './lib/load.ts'
import { insertRows, openRawSqlite, type RecordRow } from './lib/records-seed.ts'
import { detail } from './lib/report.ts'

/*
 * Memory: one user with five full years (1,826 days) of the test fixtures' realistic, fully
 * populated records (~33 KB sleep, ~53 KB activity, ~22 KB daily with samples), which one client
 * then pages through with `with_samples=true&limit=500`, type by type. Prints the gateway
 * process's peak resident set (VmHWM); target < 256 MB. Nothing is asserted.
 */

const DAYS = 1826
const LIMIT = 500
const TARGET_MB = 256
/** The fixtures' user lives at a fixed UTC-05:00; Bogotá has had no DST since 1993. */
const ZONE = 'America/Bogota'
/** The fixtures' day (7 March 2026) is the last of the five years. */
const FIXTURE_DAY = dayNumber('2026-03-07')
const FIRST_DAY = FIXTURE_DAY - (DAYS - 1)
const DAY_MS = 86_400_000
/** Every n-th day is rebuilt as a record and run through prepareBatch, and must match. */
const CHECK_EVERY = 61
const TYPES: readonly DataType[] = ['sleep', 'activity', 'daily']
const SAMPLE_MS = 20

const FIXTURES: Record<DataType, () => unknown> = {
  sleep: () => makeSleep(),
  activity: () => makeActivity(),
  daily: () => makeDaily(),
}

const DATE = /(\d{4}-\d{2}-\d{2})T/g
const COMPACT = '20260307'

/** A fixture's JSON (or a stored body) moved by `days` whole days: every date, and the summary id. */
function shift(json: string, days: number): string {
  return json
    .replace(DATE, (_, date: string) => `${dayString(dayNumber(date) + days)}T`)
    .replaceAll(COMPACT, dayString(FIXTURE_DAY + days).replaceAll('-', ''))
}

function prepareOne(type: DataType, record: unknown): PreparedRecord {
  const prepared = prepareBatch(type, [record], ZONE)
  if (!prepared.ok) {
    throw new Error(`fixture ${type} is not valid: ${JSON.stringify(prepared.errors[0])}`)
  }
  return prepared.records[0] as PreparedRecord
}

/**
 * Every type's fixture for each of the five years' days, as the ingest path would store them.
 * The fixture goes through prepareBatch once; each day's row is its stored bodies with the dates
 * moved (a fixed-offset zone, so start instants move by whole days). Every CHECK_EVERY-th day is
 * instead built as a shifted record and run through prepareBatch, and must be byte-equal.
 */
function fiveYears(userId: string): {
  rows: RecordRow[]
  checked: number
  bytes: Record<DataType, number>
} {
  const rows: RecordRow[] = []
  const bytes = { sleep: 0, activity: 0, daily: 0 }
  let checked = 0
  for (const type of TYPES) {
    const fixtureJson = JSON.stringify(FIXTURES[type]())
    const base = prepareOne(type, JSON.parse(fixtureJson))
    bytes[type] = base.bodyFull.length
    for (let i = 0; i < DAYS; i++) {
      const days = FIRST_DAY + i - FIXTURE_DAY
      const row: RecordRow = {
        userId,
        type,
        key: shift(`${base.key}T`, days).slice(0, -1),
        startMs: base.startMs + days * DAY_MS,
        localDay: dayString(dayNumber(base.localDay) + days),
        bodyFull: shift(base.bodyFull, days),
        bodyLite: shift(base.bodyLite, days),
      }
      if (i % CHECK_EVERY === 0) {
        const slow = prepareOne(type, JSON.parse(shift(fixtureJson, days)))
        for (const field of ['key', 'startMs', 'localDay', 'bodyFull', 'bodyLite'] as const) {
          if (slow[field] !== row[field]) {
            throw new Error(`${type} day ${i}: the shifted ${field} differs from prepareBatch's`)
          }
        }
        checked++
      }
      rows.push(row)
    }
  }
  return { rows, checked, bytes }
}

interface PageStats {
  pages: number
  records: number
  largestBytes: number
  latenciesMs: number[]
}

/** Follows next_token from the first page to the last; every record must appear exactly once. */
async function pageThrough(url: string, token: string, type: DataType, stats: PageStats) {
  const seen = new Set<string>()
  const range = `start_date=${dayString(FIRST_DAY)}&end_date=${dayString(FIRST_DAY + DAYS - 1)}`
  let next: string | null = null
  do {
    const query: string = `${range}&with_samples=true&limit=${LIMIT}${next ? `&next_token=${encodeURIComponent(next)}` : ''}`
    const started = performance.now()
    const response = await fetch(`${url}/v1/${type}?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    const text = await response.text()
    stats.latenciesMs.push(performance.now() - started)
    if (response.status !== 200)
      throw new Error(`GET /v1/${type}: ${response.status} ${text.slice(0, 300)}`)
    const page = JSON.parse(text) as {
      data: { metadata: { summary_id?: string; start_time: string } }[]
      next_token: string | null
    }
    for (const record of page.data) {
      const key = record.metadata.summary_id ?? record.metadata.start_time
      if (seen.has(key)) throw new Error(`GET /v1/${type}: ${key} appeared twice`)
      seen.add(key)
    }
    stats.pages++
    stats.records += page.data.length
    stats.largestBytes = Math.max(stats.largestBytes, Buffer.byteLength(text))
    next = page.next_token
  } while (next !== null)
  if (seen.size !== DAYS) throw new Error(`GET /v1/${type}: ${seen.size} records, expected ${DAYS}`)
}

export const dataMemory: Benchmark = {
  id: 'data-memory',
  name: `5-year paging with samples (limit=${LIMIT}, one client, pages/s; the target, peak RSS, is below)`,
  run: async () => {
    const database = tempDatabase()
    try {
      const seedStarted = performance.now()
      const { db, close } = openSqlite(database.path)
      let token: string
      let userId: string
      try {
        const deps = seedingDeps(db, database.path)
        const seeded = await seedClientAndUsers(deps, 1, [ZONE])
        userId = (seeded.users[0] as { id: string }).id
        token = (await mintAccessTokens(deps, seeded.clientId, seeded.users))[0] as string
      } finally {
        close()
      }
      const { rows, checked, bytes } = fiveYears(userId)
      const raw = openRawSqlite(database.path)
      try {
        raw.transaction(() => insertRows(raw, rows, 1, Date.now()))()
        raw.pragma('wal_checkpoint(TRUNCATE)')
      } finally {
        raw.close()
      }
      const seedSeconds = (performance.now() - seedStarted) / 1000
      const storedMb = rows.reduce((n, r) => n + r.bodyFull.length + r.bodyLite.length, 0) / 1e6
      progress(
        `memory: seeded ${thousands(rows.length)} records (${storedMb.toFixed(0)} MB of JSON)`,
      )

      const server = await startGateway(database.path)
      const atStart = memoryOf(server.pid)
      let sampledPeakMb = 0
      const sampler = setInterval(() => {
        const now = memoryOf(server.pid)
        if (now) sampledPeakMb = Math.max(sampledPeakMb, now.rssMb)
      }, SAMPLE_MS)
      const stats: PageStats = { pages: 0, records: 0, largestBytes: 0, latenciesMs: [] }
      let after: ReturnType<typeof memoryOf>
      const started = performance.now()
      try {
        for (const type of TYPES) await pageThrough(server.url, token, type, stats)
        after = memoryOf(server.pid)
      } finally {
        clearInterval(sampler)
        await server.stop()
      }
      const seconds = (performance.now() - started) / 1000
      const result: LoadResult = {
        rps: stats.pages / seconds,
        p99Ms: Math.round(Math.max(...stats.latenciesMs)),
        ok: stats.pages,
        non2xx: 0,
        errors: 0,
        durationSeconds: seconds,
      }
      const mb = (n: number | undefined) => (n === undefined ? '?' : `${Math.round(n)} MB`)
      const peak = after?.peakMb
      const notes = [
        `  peak RSS ${mb(peak)} (target < ${TARGET_MB} MB${peak === undefined ? '' : peak < TARGET_MB ? ': met' : ': MISSED'}) ` +
          `= ${peak !== undefined && atStart ? (peak / atStart.rssMb).toFixed(2) : '?'}x the ${mb(atStart?.rssMb)} ` +
          `RSS right after start (VmHWM of the gateway process after the run; VmHWM at start ${mb(atStart?.peakMb)}, ` +
          `highest RSS sampled every ${SAMPLE_MS} ms while paging ${mb(sampledPeakMb)})`,
        `  one client paged ${thousands(stats.records)} records (${thousands(DAYS)} days × sleep, activity, daily) in ` +
          `${stats.pages} pages, with_samples=true, limit=${LIMIT}; largest page ${(stats.largestBytes / 1e6).toFixed(1)} MB; ` +
          `slowest page ${result.p99Ms} ms`,
        `  records: test/fixtures makeSleep/makeActivity/makeDaily (${(bytes.sleep / 1024).toFixed(0)}/` +
          `${(bytes.activity / 1024).toFixed(0)}/${(bytes.daily / 1024).toFixed(0)} KB with samples) moved day by ` +
          `day; ${storedMb.toFixed(0)} MB of stored JSON seeded in ${seedSeconds.toFixed(1)} s; ${checked} shifted ` +
          'records run through prepareBatch and byte-equal to the stored rows',
        detail('GET /v1/{type} pages', result),
      ]
      return { result, notes }
    } finally {
      database.cleanup()
    }
  },
}
