import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { eq, sql } from 'drizzle-orm'
import { createClientRecord } from '../src/admin/records.ts'
import { loadConfig } from '../src/config.ts'
import type { PreparedRecord } from '../src/data/store.ts'
import { upsertRecords } from '../src/data/store.ts'
import { chunk } from '../src/db/index.ts'
import { deliveries, deliveryAttempts, grants, users } from '../src/db/schema.ts'
import { openSqlite } from '../src/db/sqlite.ts'
import type { Deps } from '../src/http/env.ts'
import { prepareBatch } from '../src/ingest/routes.ts'
import { dispatchOutbox } from '../src/notify/outbox-dispatch.ts'
import { RETRY_SCHEDULE_MS } from '../src/notify/policy.ts'
import { startNotifierRunner } from '../src/notify/runner.ts'
import { createNotifier } from '../src/notify/worker.ts'
import type { Benchmark } from './lib/benchmark.ts'
import type { LoadResult } from './lib/load.ts'
import { startServerProcess } from './lib/server-process.ts'

/*
 * The webhook notifier (src/notify) in this process, on a SQLite file, delivering to a receiver
 * in its own process on 127.0.0.1 (this same file, started with NOTIFIER_BENCH_RECEIVER=1).
 *
 * 1. Throughput: 10,000 events (10 sleep records each) fanned out, rendered, signed, POSTed and
 *    recorded, against a bare loop POSTing the very same bodies unsigned with the same
 *    concurrency, in the same run. Target: ≥ 0.5× the bare loop.
 * 2. Failures: another 10,000 events synced at a steady rate while the receiver fails 30 % of
 *    requests at random (seeded): every event must arrive (zero lost); duplicates and the
 *    sync-to-delivery latency (p50/p99) are printed. The retry schedule is compressed 10,000×
 *    (10 s → 1 ms … 8 h → 2.9 s) so that the tail of retries fits in the run; jitter is kept.
 *
 * Nothing is asserted on wall-clock time; the whole run is bounded (about a minute).
 */

const USERS = 1_000
const EVENTS_PER_USER = 10
const RECORDS_PER_EVENT = 10
const WARMUP_USERS = 100
const CONCURRENCY = 16
const FAIL_RATE = 0.3
const SCHEDULE_SCALE = 10_000
const TARGET = 0.5
/**
 * Phase 2 syncs arrive at a steady rate, not as a backlog, so that the latency is the notifier's
 * and not a queue's: half of what phase 1 measured, less the retries (30 % of requests fail, so
 * an event takes 1/0.7 requests on average), spread over 15 to 30 seconds.
 */
const LOAD_FACTOR = 0.5
const SYNC_SPREAD_MS = { min: 15_000, max: 30_000 }
/** Phase 2 gives up waiting for the last deliveries after this long. */
const PHASE_TIMEOUT_MS = 45_000

/** mulberry32: seedable, so the receiver's failures are the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// ---------------------------------------------------------------------------------------------
// The receiver (child process)

interface ReceiverStats {
  requests: number
  failed: number
  unsigned: number
  /** webhook-id ⇒ [first 2xx arrival (ms), number of 2xx answers]. */
  events: Record<string, [number, number]>
}

function runReceiver(port: number): void {
  let rand = prng(1)
  let failRate = 0
  let stats: ReceiverStats = { requests: 0, failed: 0, unsigned: 0, events: {} }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/ready') return void res.end('ok')
      if (req.method === 'GET' && req.url === '/stats') {
        res.setHeader('content-type', 'application/json')
        return void res.end(JSON.stringify(stats))
      }
      if (req.method === 'POST' && req.url === '/control') {
        const control = JSON.parse(Buffer.concat(chunks).toString()) as {
          failRate: number
          seed: number
        }
        failRate = control.failRate
        rand = prng(control.seed)
        stats = { requests: 0, failed: 0, unsigned: 0, events: {} }
        return void res.end('ok')
      }
      stats.requests++
      if (failRate > 0 && rand() < failRate) {
        stats.failed++
        res.statusCode = 500
        return void res.end('failing on purpose')
      }
      const id = req.headers['webhook-id']
      if (typeof id !== 'string') stats.unsigned++
      else {
        const seen = stats.events[id]
        if (seen) seen[1]++
        else stats.events[id] = [Date.now(), 1]
      }
      res.end('ok')
    })
  })
  server.listen(port, '127.0.0.1')
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}

if (process.env.NOTIFIER_BENCH_RECEIVER === '1') runReceiver(Number(process.env.PORT))

// ---------------------------------------------------------------------------------------------
// The benchmark (this process)

/** Sleep records ~0.7 KB each, from one template validated by the ingest path's own code. */
function recordFactory() {
  const template = {
    metadata: {
      summary_id: 'TEMPLATE_ID',
      start_time: '2026-01-01T23:00:00.000000+00:00',
      end_time: '2026-01-02T07:00:00.000000+00:00',
      upload_type: 2,
      is_nap: false,
      timestamp_localization: 0,
    },
    sleep_durations_data: {
      asleep: {
        duration_asleep_state_seconds: 25200,
        duration_deep_sleep_state_seconds: 5400,
        duration_light_sleep_state_seconds: 14400,
        duration_REM_sleep_state_seconds: 5400,
      },
      awake: {
        duration_awake_state_seconds: 1800,
        wake_up_latency_seconds: 300,
        sleep_latency_seconds: 600,
      },
      other: { duration_in_bed_seconds: 28800 },
    },
    heart_rate_data: {
      summary: { avg_hr_bpm: 56, min_hr_bpm: 48, max_hr_bpm: 71, resting_hr_bpm: 50 },
    },
    scores: { sleep: 82 },
  }
  const prepared = prepareBatch('sleep', [template], 'UTC')
  if (!prepared.ok)
    throw new Error(`the bench record is not valid: ${JSON.stringify(prepared.errors)}`)
  const [base] = prepared.records as [PreparedRecord]
  const DAY = 86_400_000
  return (id: string, day: number): PreparedRecord => {
    const start = new Date(Date.parse('2024-01-01T23:00:00Z') + day * DAY)
      .toISOString()
      .slice(0, 19)
    const end = new Date(Date.parse('2024-01-02T07:00:00Z') + day * DAY).toISOString().slice(0, 19)
    const body = (text: string) =>
      text
        .replace('TEMPLATE_ID', id)
        .replace('2026-01-01T23:00:00', start)
        .replace('2026-01-02T07:00:00', end)
    return {
      key: id,
      startMs: Date.parse(`${start}Z`),
      localDay: start.slice(0, 10),
      bodyFull: body(base.bodyFull),
      bodyLite: body(base.bodyLite),
    }
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

async function receiverStats(url: string): Promise<ReceiverStats> {
  return (await (await fetch(`${url}/stats`)).json()) as ReceiverStats
}

async function control(url: string, failRate: number, seed: number): Promise<void> {
  const response = await fetch(`${url}/control`, {
    method: 'POST',
    body: JSON.stringify({ failRate, seed }),
  })
  await response.arrayBuffer()
}

/** POSTs every body, `CONCURRENCY` at a time, unsigned: the floor the notifier is measured against. */
async function bareLoop(url: string, bodies: readonly string[]): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as string
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
        await response.arrayBuffer()
        if (response.status !== 200) throw new Error(`bare loop: ${response.status}`)
      }
    }),
  )
  return (performance.now() - started) / 1000
}

export const notifier: Benchmark = {
  id: 'notifier',
  name: 'webhook notifier (delivered events)',
  run: async () => {
    const receiver = await startServerProcess({
      name: 'webhook receiver',
      script: fileURLToPath(import.meta.url),
      env: () => ({ NOTIFIER_BENCH_RECEIVER: '1' }),
      readyPath: '/ready',
    })
    const dir = mkdtempSync(join(tmpdir(), 'pg-bench-notifier-'))
    const databasePath = join(dir, 'gateway.sqlite')
    const { db, close } = openSqlite(databasePath)
    const errors: string[] = []
    const sent: string[] = []
    const deps: Deps = {
      db,
      config: loadConfig({
        MOCK: '0',
        ISSUER: 'http://127.0.0.1:8787',
        ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef',
        DATABASE_PATH: databasePath,
      }),
      now: Date.now,
      random: prng(7),
      fetch: (input, init) => {
        if (typeof init?.body === 'string') sent.push(init.body)
        return fetch(input, init)
      },
      defer: () => {},
      log: (level, fields) => {
        if (level === 'error') errors.push(JSON.stringify(fields))
      },
      remoteAddress: () => undefined,
      openapiYaml: '',
    }
    try {
      const started = performance.now()
      const { client } = await createClientRecord(deps, {
        name: 'Terra (bench)',
        redirectUris: ['https://terra.example/callback'],
        webhookUrl: `${receiver.url}/hook`,
      })
      const now = Date.now()
      const userIds = Array.from({ length: USERS }, (_, i) => `bench-user-${i}`)
      for (const part of chunk(userIds, 10)) {
        await db.insert(users).values(
          part.map((id) => ({
            id,
            email: `${id}@example.test`,
            timezone: 'UTC',
            createdAt: now,
          })),
        )
        await db.insert(grants).values(
          part.map((id) => ({
            id: `grant-${id}`,
            userId: id,
            clientId: client.id,
            scope: 'sleep:read activity:read daily:read',
            createdAt: now,
            updatedAt: now,
          })),
        )
      }
      const makeRecord = recordFactory()
      const perUser = EVENTS_PER_USER * RECORDS_PER_EVENT
      // The measured syncs write what the ingest path writes (records and their outbox rows, in
      // one transaction), with raw prepared SQL so that the figures are the notifier's own; the
      // warm-up goes through the ingest path's upsertRecords.
      const raw = new Database(databasePath)
      raw.pragma('busy_timeout = 5000')
      const insertRecord = raw.prepare(
        'insert into records (user_id, type, key, start_ms, local_day, seq, body_full, body_lite, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      const insertOutbox = raw.prepare(
        "insert into outbox (user_id, type, record_key, change, seq, created_at) values (?, 'sleep', ?, 'upsert', ?, ?)",
      )
      let seq = 1_000_000
      const writeSync = raw.transaction((userId: string, phase: string) => {
        const at = Date.now()
        for (let i = 0; i < perUser; i++) {
          const r = makeRecord(`${phase}-${userId}-${i}`, i)
          seq++
          insertRecord.run(
            userId,
            'sleep',
            r.key,
            r.startMs,
            r.localDay,
            seq,
            r.bodyFull,
            r.bodyLite,
            at,
            at,
          )
          insertOutbox.run(userId, r.key, seq, at)
        }
      })
      const sync = async (userId: string, phase: string) => {
        if (phase !== 'warm') return writeSync(userId, phase)
        await upsertRecords(
          db,
          userId,
          'sleep',
          Array.from({ length: perUser }, (_, i) => makeRecord(`${phase}-${userId}-${i}`, i)),
          Date.now(),
        )
      }
      const bodyBytes = (makeRecord('x', 0).bodyFull as string).length

      // Warm-up (not measured): the same path on a tenth of the users.
      const warm = createNotifier(deps, { concurrency: CONCURRENCY })
      for (const userId of userIds.slice(0, WARMUP_USERS)) await sync(userId, 'warm')
      await warm.drain()
      await bareLoop(`${receiver.url}/hook`, sent.splice(0))
      const setupSeconds = (performance.now() - started) / 1000

      // 1. Throughput: fan-out of the outbox into events, then their delivery.
      const ingestStarted = performance.now()
      const phase1Start = Date.now()
      for (const userId of userIds) await sync(userId, 'p1')
      const ingestSeconds = (performance.now() - ingestStarted) / 1000
      const deliveredBefore = await countSucceeded(deps)
      const throughput = createNotifier(deps, { concurrency: CONCURRENCY })
      const fanOutStarted = performance.now()
      while ((await dispatchOutbox(db, Date.now())).outboxRows > 0) {}
      const fanOutSeconds = (performance.now() - fanOutStarted) / 1000
      sent.length = 0
      const t0 = performance.now()
      await throughput.drain()
      const notifierSeconds = (performance.now() - t0) / 1000
      const delivered = (await countSucceeded(deps)) - deliveredBefore
      const bodies = sent.splice(0)
      const bareSeconds = await bareLoop(`${receiver.url}/hook`, bodies)
      const notifierRate = delivered / notifierSeconds
      const endToEndRate = delivered / (fanOutSeconds + notifierSeconds)
      const bareRate = bodies.length / bareSeconds
      const durations = (
        await db
          .select({ ms: deliveryAttempts.durationMs })
          .from(deliveryAttempts)
          .innerJoin(deliveries, eq(deliveries.id, deliveryAttempts.deliveryId))
          .where(sql`${deliveries.createdAt} >= ${phase1Start}`)
          .all()
      )
        .map((r) => r.ms ?? 0)
        .sort((a, b) => a - b)

      // 2. Failures: a steady stream of syncs while 30 % of requests fail.
      await control(receiver.url, FAIL_RATE, 42)
      const failing = createNotifier(deps, {
        concurrency: CONCURRENCY,
        schedule: RETRY_SCHEDULE_MS.map((ms) => ms / SCHEDULE_SCALE),
      })
      const runner = startNotifierRunner(deps, failing, { sweepIntervalMs: 250 })
      const phaseStart = Date.now()
      const eventsPerSecond = LOAD_FACTOR * notifierRate * (1 - FAIL_RATE)
      const spreadMs = Math.min(
        SYNC_SPREAD_MS.max,
        Math.max(SYNC_SPREAD_MS.min, ((USERS * EVENTS_PER_USER) / eventsPerSecond) * 1000),
      )
      const usersPerSecond = USERS / (spreadMs / 1000)
      let synced = 0
      while (synced < USERS && Date.now() - phaseStart < PHASE_TIMEOUT_MS) {
        const due = Math.min(
          USERS,
          Math.ceil(((Date.now() - phaseStart) / 1000) * usersPerSecond) + 1,
        )
        for (; synced < due; synced++) await sync(userIds[synced] as string, 'p2')
        await runner.kick()
        await new Promise((r) => setTimeout(r, 20))
      }
      const syncSeconds = (Date.now() - phaseStart) / 1000
      const phase2 = sql`${deliveries.createdAt} >= ${phaseStart}`
      for (;;) {
        const open = await db
          .select({ n: sql<number>`count(*)` })
          .from(deliveries)
          .where(sql`${phase2} and ${deliveries.status} != 'succeeded'`)
          .get()
        if ((open?.n ?? 0) === 0 || Date.now() - phaseStart > PHASE_TIMEOUT_MS) break
        await new Promise((r) => setTimeout(r, 100))
      }
      await runner.stop()
      const stats = await receiverStats(receiver.url)
      const expected = await db
        .select({
          eventId: deliveries.eventId,
          createdAt: deliveries.createdAt,
          status: deliveries.status,
        })
        .from(deliveries)
        .where(phase2)
        .all()
      const phase2Records = await db
        .select({ n: sql<number>`sum(json_array_length(${deliveries.recordKeys}))` })
        .from(deliveries)
        .where(phase2)
        .get()
      const latencies: number[] = []
      let lost = 0
      let duplicates = 0
      for (const d of expected) {
        const seen = stats.events[d.eventId]
        if (!seen) {
          lost++
          continue
        }
        duplicates += seen[1] - 1
        latencies.push(seen[0] - d.createdAt)
      }
      latencies.sort((a, b) => a - b)
      const receivedEvents = Object.keys(stats.events).length

      const result: LoadResult = {
        rps: notifierRate,
        p99Ms: percentile(durations, 99),
        ok: delivered,
        non2xx: 0,
        errors: errors.length,
        durationSeconds: notifierSeconds,
      }
      const ratio = notifierRate / bareRate
      const notes = [
        `  ${delivered} events of ${RECORDS_PER_EVENT} sleep records (${bodyBytes} B each), ${USERS} users, ` +
          `per-endpoint concurrency ${CONCURRENCY}:`,
        `  notifier, claimed, rendered, signed, sent and recorded: ${seconds(notifierSeconds * 1000)} = ` +
          `${Math.round(notifierRate)} events/s`,
        `  bare loop, the same ${bodies.length} bodies POSTed unsigned: ${seconds(bareSeconds * 1000)} = ` +
          `${Math.round(bareRate)} req/s`,
        `  notifier / bare loop = ${ratio.toFixed(2)}x (target >= ${TARGET}x)${ratio >= TARGET ? '' : ' [BELOW TARGET]'}; ` +
          `with the fan-out of the ${delivered * RECORDS_PER_EVENT} outbox rows into events ` +
          `(${seconds(fanOutSeconds * 1000)}) counted too: ${Math.round(endToEndRate)} events/s = ` +
          `${(endToEndRate / bareRate).toFixed(2)}x`,
        `  with ${FAIL_RATE * 100} % of requests failing (schedule compressed ${SCHEDULE_SCALE}x): ` +
          `${expected.length} events (${phase2Records?.n ?? 0} records) synced over ${seconds(syncSeconds * 1000)}; ` +
          `delivered ${expected.length - lost}/${expected.length}, lost ${lost}, duplicates ${duplicates}; ` +
          `${stats.requests} requests, ${stats.failed} answered 500 and retried`,
        `  sync-to-delivery latency: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, ` +
          `max ${latencies.at(-1)} ms`,
        `  set-up ${seconds(setupSeconds * 1000)}; the ${delivered * RECORDS_PER_EVENT} records and outbox rows written in ${seconds(ingestSeconds * 1000)}; total ${seconds(performance.now() - started)}`,
      ]
      if (receivedEvents !== expected.length - lost) {
        notes.push(`  WARNING: the receiver saw ${receivedEvents} distinct events`)
      }
      if (expected.some((d) => d.status !== 'succeeded')) {
        notes.push(
          `  WARNING: ${expected.filter((d) => d.status !== 'succeeded').length} deliveries not succeeded`,
        )
      }
      if (errors.length > 0) notes.push(`  ${errors.length} errors logged, first: ${errors[0]}`)
      return { result, notes }
    } finally {
      close()
      await receiver.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

async function countSucceeded(deps: Deps): Promise<number> {
  const row = await deps.db
    .select({ n: sql<number>`count(*)` })
    .from(deliveries)
    .where(eq(deliveries.status, 'succeeded'))
    .get()
  return row?.n ?? 0
}
