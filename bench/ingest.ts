import type autocannon from 'autocannon'
import { createUserRecord } from '../src/admin/records.ts'
import { openSqlite } from '../src/db/sqlite.ts'
import type { Benchmark } from './lib/benchmark.ts'
import {
  ADMIN_API_KEY,
  loadWithCpu,
  type MeasuredLoad,
  progress,
  seedingDeps,
  startGateway,
  tempDatabase,
  thousands,
} from './lib/gateway.ts'
import { dayNumber, lightActivity, WORKOUT, ZoneClock } from './lib/light-records.ts'
import { runLoad } from './lib/load.ts'
import { insertRows, openRawSqlite, prepareChecked, type RecordRow } from './lib/records-seed.ts'
import { detail } from './lib/report.ts'

/*
 * Ingest throughput: records per second through `PUT /admin/v1/users/{id}/activity` in batches of
 * 500 realistic workouts (per-minute heart rate), every batch with fresh summary ids so that each
 * record is an insert, from a few concurrent connections. Compared with raw better-sqlite3
 * inserts of the very rows the gateway stored (read back from its database afterwards), into the
 * same table and columns of a fresh database, in one transaction. Target: ≥ 0.3×.
 */

const USERS = 16
const BATCH = 500
const CONNECTIONS = 4
const WARMUP_SECONDS = 2
const SECONDS = 10
const TARGET = 0.3
const FIRST_DAY = dayNumber('2024-01-01')
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
/** In the batch templates' summary ids; replaced by the batch number, so every batch is new. */
const PLACEHOLDER = '@BATCH@'

interface Templates {
  /** One request body per zone, 500 workouts on consecutive days, with PLACEHOLDER ids. */
  bodies: string[]
  bytes: number
  validated: number
}

/** The batch bodies, every record checked against the ingest path (prepareBatch) first. */
function makeTemplates(): Templates {
  let bytes = 0
  let validated = 0
  const bodies = ZONES.map((zone, z) => {
    const clock = ZoneClock.of(zone)
    const records = Array.from({ length: BATCH }, (_, i) =>
      lightActivity(clock, FIRST_DAY + i, z * 10_000 + i, WORKOUT, `act_${PLACEHOLDER}_${i}`),
    )
    validated += prepareChecked('activity', records, zone, () => true).validated
    const body = JSON.stringify({ data: records })
    bytes += body.length
    return body
  })
  return { bodies, bytes: bytes / ZONES.length, validated }
}

/** Batch `n`: the template of its user's zone, with ids of its own. */
function batch(templates: Templates, users: readonly string[], n: number) {
  const u = n % users.length
  return {
    path: `/admin/v1/users/${users[u]}/activity`,
    body: (templates.bodies[u % ZONES.length] as string).replaceAll(PLACEHOLDER, `b${n}`),
  }
}

const HEADERS = {
  authorization: `Bearer ${ADMIN_API_KEY}`,
  'content-type': 'application/json',
}

/** One batch by hand before the load: a broken set-up fails loudly, not as 4xx counts. */
async function checkOneBatch(url: string, request: { path: string; body: string }) {
  const response = await fetch(`${url}${request.path}`, {
    method: 'PUT',
    headers: HEADERS,
    body: request.body,
  })
  const text = await response.text()
  const counts = response.status === 200 ? (JSON.parse(text) as { inserted?: number }) : {}
  if (counts.inserted !== BATCH) {
    throw new Error(`the first ingest batch was not ${BATCH} inserts: ${response.status} ${text}`)
  }
}

/**
 * Raw better-sqlite3: the rows the gateway stored, inserted again into a fresh migrated database
 * with the same users, with one prepared statement in one transaction. Records per second.
 */
function rawInsertRate(gatewayDb: string): { rate: number; rows: number; seconds: number } {
  const source = openRawSqlite(gatewayDb)
  let rows: RecordRow[]
  let users: unknown[]
  try {
    rows = source
      .prepare(
        'select user_id as userId, type, key, start_ms as startMs, local_day as localDay, ' +
          'body_full as bodyFull, body_lite as bodyLite from records order by seq',
      )
      .all() as RecordRow[]
    users = source.prepare('select * from users').all()
  } finally {
    source.close()
  }
  const target = tempDatabase()
  try {
    openSqlite(target.path).close()
    const client = openRawSqlite(target.path)
    try {
      const insertUser = client.prepare(
        'insert into users (id, email, password_hash, timezone, reference, display_name, created_at) ' +
          'values (@id, @email, @password_hash, @timezone, @reference, @display_name, @created_at)',
      )
      for (const user of users) insertUser.run(user)
      const now = Date.now()
      const started = performance.now()
      client.transaction(() => insertRows(client, rows, 1, now))()
      const seconds = (performance.now() - started) / 1000
      return { rate: rows.length / seconds, rows: rows.length, seconds }
    } finally {
      client.close()
    }
  } finally {
    target.cleanup()
  }
}

export const dataIngest: Benchmark = {
  id: 'data-ingest',
  name: `PUT /admin/v1/users/{id}/activity (${BATCH}-record batches/s; the target ratio, records/s vs raw inserts, is below)`,
  run: async () => {
    const database = tempDatabase()
    try {
      const { db, close } = openSqlite(database.path)
      const userIds: string[] = []
      try {
        const deps = seedingDeps(db, database.path)
        for (let i = 0; i < USERS; i++) {
          const user = await createUserRecord(deps, {
            email: `ingest${i}@example.test`,
            timezone: ZONES[i % ZONES.length] as string,
          })
          userIds.push(user.id)
        }
      } finally {
        close()
      }
      const templates = makeTemplates()

      let n = 0
      const server = await startGateway(database.path)
      let measured: MeasuredLoad
      let accepted = 0
      let firstFailure: string | null = null
      try {
        await checkOneBatch(server.url, batch(templates, userIds, n++))
        const request: autocannon.Request = {
          method: 'PUT',
          path: '/',
          headers: HEADERS,
          setupRequest: (req) => ({ ...req, ...batch(templates, userIds, n++) }),
          onResponse: (status, body) => {
            if (status !== 200 && firstFailure === null)
              firstFailure = `${status} ${body.slice(0, 300)}`
          },
        }
        const warmup = await runLoad({
          url: server.url,
          connections: CONNECTIONS,
          seconds: WARMUP_SECONDS,
          request,
        })
        accepted = 1 + warmup.ok
        measured = await loadWithCpu(server.pid, {
          url: server.url,
          connections: CONNECTIONS,
          seconds: SECONDS,
          request,
        })
      } finally {
        await server.stop()
      }

      progress('ingest: raw better-sqlite3 baseline')
      const raw = rawInsertRate(database.path)
      accepted += measured.result.ok
      // Batches still in flight when the load generator stopped may have been stored too.
      if (raw.rows % BATCH !== 0 || raw.rows < accepted * BATCH) {
        throw new Error(`${accepted} batches were accepted but ${raw.rows} records stored`)
      }
      const { result } = measured
      const ingestRate = (result.ok * BATCH) / result.durationSeconds
      const cpuPerRecord =
        measured.cpuUsPerResponse === null
          ? '?'
          : `${Math.round(measured.cpuUsPerResponse / BATCH)} µs`
      const ratio = ingestRate / raw.rate
      const notes = [
        `  ingest ${thousands(ingestRate)} records/s vs raw better-sqlite3 ${thousands(raw.rate)} records/s ` +
          `= ${ratio.toFixed(2)}x (target ≥ ${TARGET}x: ${ratio >= TARGET ? 'met' : 'MISSED'})`,
        `  batches of ${BATCH} activity records, ${(templates.bytes / BATCH / 1024).toFixed(1)} KB each ` +
          `(per-minute heart rate; ${(templates.bytes / 1024 / 1024).toFixed(2)} MB per request), fresh ` +
          `summary_ids per batch, ${USERS} users; all ${thousands(templates.validated)} template records ` +
          'run through prepareBatch; the gateway also writes an outbox row per record and its notifier consumes them',
        `  raw baseline: the ${thousands(raw.rows)} rows the gateway stored, re-inserted into a fresh ` +
          `database (same table, columns and pragmas) in one transaction in ${raw.seconds.toFixed(2)} s ` +
          `(${Math.round((raw.seconds * 1e6) / raw.rows)} µs a row); the gateway used ${cpuPerRecord} of CPU ` +
          `per record (${measured.cores?.toFixed(2) ?? '?'} cores busy)`,
        detail('PUT /admin/v1/users/{id}/activity', result),
      ]
      if (firstFailure !== null) notes.push(`  first failure: ${firstFailure}`)
      return { result, notes }
    } finally {
      database.cleanup()
    }
  },
}
