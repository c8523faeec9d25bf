import { statSync } from 'node:fs'
import type autocannon from 'autocannon'
import { SleepRecord } from '../src/data/models/index.ts'
import { openSqlite } from '../src/db/sqlite.ts'
import type { Benchmark } from './lib/benchmark.ts'
import {
  adjacentHelloWorld,
  loadWithCpu,
  type MeasuredLoad,
  mintAccessTokens,
  progress,
  seedClientAndUsers,
  seedingDeps,
  startGateway,
  tempDatabase,
  thousands,
} from './lib/gateway.ts'
import { dayNumber, dayString, LIGHT } from './lib/light-records.ts'
import { runLoad } from './lib/load.ts'
import { openRawSqlite } from './lib/records-seed.ts'
import { detail } from './lib/report.ts'
import { type SeedSummary, seedDataset } from './lib/year-dataset.ts'

/*
 * The pull API under Terra's typical load: 7-day `GET /v1/sleep` pages for random users, each
 * with that user's bearer token, against a database holding a year of sleep, activity and daily
 * records with samples for 1,000 users (~1.1 M records). Target: ≥ 0.35× hello-world.
 */

const USERS = 1_000
const DAYS = 365
const FIRST_DAY = dayNumber('2025-01-01')
const WINDOW_DAYS = 7
const CONNECTIONS = 50
const WARMUP_SECONDS = 3
const SECONDS = 10
/** Pages fetched one by one before the load, to check them and count their records. */
const CHECK_PAGES = 200
/** Distinct user-years generated; users share them in turn (see bench/lib/year-dataset.ts). */
const VARIANTS = 64
/** Every 10th generated record is run through prepareBatch (zod) and compared byte for byte. */
const SAMPLE_EVERY = 10
const TARGET = 0.35
/** Zones with and without DST, both hemispheres, a half-hour offset and one east of UTC+9. */
const ZONES = [
  'America/New_York',
  'Europe/London',
  'Asia/Tokyo',
  'Australia/Sydney',
  'America/Los_Angeles',
  'Asia/Kolkata',
  'Europe/Berlin',
  'Pacific/Auckland',
]

/** Seconds of the hello-world run measured right after the load (see adjacentHelloWorld). */
const HELLO_SECONDS = 5

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`

function describeSeed(s: SeedSummary, fileBytes: number): string[] {
  const avg = (t: keyof SeedSummary['byType']) => kb(s.byType[t].bytesFull / s.byType[t].records)
  return [
    `  seeded ${thousands(s.records)} records (${thousands(USERS)} users × ${DAYS} days × sleep, activity, daily) ` +
      `in ${s.seconds.toFixed(1)} s (prepared INSERT, a transaction per user); database ${(fileBytes / 1e9).toFixed(2)} GB`,
    `  record size with samples: sleep ${avg('sleep')} (hypnogram, HR every ${LIGHT.sleepHrMinutes} min), ` +
      `activity ${avg('activity')} (HR every ${LIGHT.activityHrMinutes} min), daily ${avg('daily')} ` +
      `(HR every ${LIGHT.dailyHrMinutes} min) ` +
      `(mean ${kb(s.bytesFull / s.records)}; without samples ${kb(s.bytesLite / s.records)}); ` +
      `${thousands(s.generated)} distinct (${VARIANTS} user-years, shared in turn), ` +
      `${thousands(s.validated)} of those (1 in ${SAMPLE_EVERY}) run through prepareBatch: valid and ` +
      'byte-equal to the stored rows',
  ]
}

/** The figure against a hello-world measured right after it, in throughput and in server CPU. */
function adjacent(measured: MeasuredLoad, hello: MeasuredLoad): string[] {
  const us = (n: number | null) => (n === null ? '?' : `${Math.round(n)} µs`)
  const cores = (n: number | null) => (n === null ? '?' : n.toFixed(2))
  const cpuRatio =
    measured.cpuUsPerResponse && hello.cpuUsPerResponse
      ? (hello.cpuUsPerResponse / measured.cpuUsPerResponse).toFixed(3)
      : '?'
  return [
    `  hello-world re-measured right after: ${Math.round(hello.result.rps)} req/s ` +
      `→ ${(measured.result.rps / hello.result.rps).toFixed(2)}x; server CPU per response ` +
      `${us(measured.cpuUsPerResponse)} vs hello-world ${us(hello.cpuUsPerResponse)} (${cpuRatio}x; ` +
      `server busy ${cores(measured.cores)} vs ${cores(hello.cores)} cores — the load generator shares the machine)`,
  ]
}

interface Page {
  user_id: string
  data: unknown[]
}

/** Fetches pages one at a time; each must be a 200 whose records all validate and belong to the user. */
async function checkPages(
  url: string,
  pick: () => { path: string; token: string; userId: string },
): Promise<{ records: number; bytes: number }> {
  let records = 0
  let bytes = 0
  for (let i = 0; i < CHECK_PAGES; i++) {
    const { path, token, userId } = pick()
    const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    const text = await response.text()
    if (response.status !== 200)
      throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 300)}`)
    const page = JSON.parse(text) as { user: Page; data: unknown[]; next_token: string | null }
    if (page.user.user_id !== userId) throw new Error(`GET ${path} answered for another user`)
    if (page.next_token !== null)
      throw new Error(`GET ${path}: a 7-day page should fit in one page`)
    for (const record of page.data) {
      const parsed = SleepRecord.safeParse(record)
      if (!parsed.success) throw new Error(`GET ${path}: invalid record ${parsed.error.message}`)
    }
    records += page.data.length
    bytes += text.length
  }
  return { records, bytes }
}

export const dataPull: Benchmark = {
  id: 'data-pull',
  name: `GET /v1/sleep (${WINDOW_DAYS}-day pages, random user tokens, ${thousands(USERS)} users × ${DAYS} days seeded)`,
  run: async () => {
    const database = tempDatabase()
    try {
      // Migrations, the client, users and grants through the gateway's own code.
      const { db, close } = openSqlite(database.path)
      const deps = seedingDeps(db, database.path)
      let seeded: Awaited<ReturnType<typeof seedClientAndUsers>>
      try {
        seeded = await seedClientAndUsers(deps, USERS, ZONES)
      } finally {
        close()
      }

      // A year of records per user, prepared as ingest would, written with raw INSERTs.
      const raw = openRawSqlite(database.path)
      let summary: SeedSummary
      try {
        let reported = 0
        summary = seedDataset(
          raw,
          seeded.users,
          { firstDay: FIRST_DAY, days: DAYS, variants: VARIANTS, sampleEvery: SAMPLE_EVERY },
          {
            now: Date.now(),
            onProgress: (p) => {
              if (p.users * 10 >= (reported + 1) * USERS) {
                reported = Math.floor((p.users * 10) / USERS)
                progress(
                  `seeding: ${reported * 10}% (${thousands(p.records)} records, ${p.seconds.toFixed(0)} s)`,
                )
              }
            },
          },
        )
        raw.pragma('wal_checkpoint(TRUNCATE)')
      } finally {
        raw.close()
      }
      const fileBytes = statSync(database.path).size

      // One access token per user, issued now so none expires during the run.
      const tokenDb = openSqlite(database.path)
      let tokens: string[]
      try {
        tokens = await mintAccessTokens(
          seedingDeps(tokenDb.db, database.path),
          seeded.clientId,
          seeded.users,
        )
      } finally {
        tokenDb.close()
      }

      const pick = () => {
        const u = Math.floor(Math.random() * USERS)
        const start = FIRST_DAY + Math.floor(Math.random() * (DAYS - WINDOW_DAYS + 1))
        return {
          path: `/v1/sleep?start_date=${dayString(start)}&end_date=${dayString(start + WINDOW_DAYS - 1)}`,
          token: tokens[u] as string,
          userId: (seeded.users[u] as { id: string }).id,
        }
      }

      const server = await startGateway(database.path)
      try {
        const checked = await checkPages(server.url, pick)
        const request: autocannon.Request = {
          method: 'GET',
          path: '/v1/sleep',
          setupRequest: (req) => {
            const { path, token } = pick()
            return { ...req, path, headers: { authorization: `Bearer ${token}` } }
          },
        }
        await runLoad({
          url: server.url,
          connections: CONNECTIONS,
          seconds: WARMUP_SECONDS,
          request,
        })
        const measured = await loadWithCpu(server.pid, {
          url: server.url,
          connections: CONNECTIONS,
          seconds: SECONDS,
          request,
        })
        await server.stop()
        const hello = await adjacentHelloWorld(HELLO_SECONDS)
        const { result } = measured
        const notes = [
          ...describeSeed(summary, fileBytes),
          `  ${CONNECTIONS} connections, random user × random ${WINDOW_DAYS}-day window per request ` +
            `(start_date/end_date as local dates, with_samples=false); p99 ${result.p99Ms} ms; ` +
            `target ≥ ${TARGET}x hello-world`,
          `  pages hold ${(checked.records / CHECK_PAGES).toFixed(2)} records on average ` +
            `(${kb(checked.bytes / CHECK_PAGES)} per response; ${CHECK_PAGES} pages checked before the load: ` +
            'every record valid against SleepRecord, every page the token\u2019s user)',
          ...adjacent(measured, hello),
          detail('GET /v1/sleep', result),
        ]
        return { result, notes }
      } finally {
        await server.stop()
      }
    } finally {
      database.cleanup()
    }
  },
}
