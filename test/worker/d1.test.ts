import { and, count, eq, sql } from 'drizzle-orm'
import { verifyTerraWebhookSignature } from 'terra-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { atomic } from '../../src/db/index.ts'
import {
  deliveries,
  deliveryAttempts,
  outbox,
  rateLimitWindows,
  records,
  settings,
} from '../../src/db/schema.ts'
import { LEASE_MS } from '../../src/notify/policy.ts'
import { addClient, addUser, TestClock } from '../helpers/app.ts'
import { ingest, pull, sleepAt } from '../helpers/data.ts'
import { oauthFixture } from '../helpers/oauth.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { type D1Harness, startD1, type WorkerIsolate } from './d1-gateway.ts'

/*
 * What differs on Workers + D1, shown against a real local D1 (workerd, through wrangler):
 * batch() atomicity, the 100-parameter limit, deliveries that survive a dropped or cut-off
 * waitUntil, and rate limits shared by isolates. The whole product on workerd is exercised by the
 * conformance kit against `npm run dev:worker` in CI.
 */

// Real time: webhook signatures carry it, and verifiers check it.
const clock = new TestClock(Date.now())
let d1: D1Harness
let receiver: Receiver

beforeAll(async () => {
  d1 = await startD1(clock)
  receiver = await startReceiver()
}, 120_000)

afterAll(async () => {
  await receiver?.close()
  await d1?.dispose()
})

/** A client with a webhook, a user who granted it everything, and a token. */
async function connected(gw: WorkerIsolate, webhookUrl: string | null = receiver.url) {
  const fixture = await oauthFixture(
    gw,
    () => addClient(gw, { webhookUrl }),
    () => addUser(gw, { timezone: 'UTC' }),
  )
  const tokens = await fixture.connect()
  return { ...fixture, tokens }
}

function sleeps(n: number, prefix: string) {
  return Array.from({ length: n }, (_, i) =>
    sleepAt(`${prefix}-${i}`, new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString()),
  )
}

describe('D1 limits and atomicity', () => {
  it('D1 refuses a statement with more than 100 bound parameters (why the code chunks)', async () => {
    const params = Array.from({ length: 101 }, (_, i) => i)
    const statement = d1.env.DB.prepare(`select ${params.map(() => '?').join(', ')}`)
    await expect(statement.bind(...params).all()).rejects.toThrow(/too many SQL variables/)
    const fits = d1.env.DB.prepare(
      `select ${params
        .slice(1)
        .map(() => '?')
        .join(', ')}`,
    )
    await expect(fits.bind(...params.slice(1)).all()).resolves.toMatchObject({ success: true })
  })

  it('atomic() commits every statement or none (batch() rolls back on a failing statement)', async () => {
    const { deps } = await d1.isolate()
    const { db } = deps
    const value = (key: string) => db.select().from(settings).where(eq(settings.key, key)).all()
    await expect(
      atomic(db, [
        db.insert(settings).values({ key: 'atomic-a', value: 'first' }),
        db.insert(settings).values({ key: 'atomic-b', value: 'second' }),
        // primary-key violation: the two rows above must not survive it
        db.insert(settings).values({ key: 'atomic-a', value: 'duplicate' }),
      ]),
    ).rejects.toThrow()
    expect(await value('atomic-a')).toEqual([])
    expect(await value('atomic-b')).toEqual([])

    await atomic(db, [
      db.insert(settings).values({ key: 'atomic-a', value: 'first' }),
      db.insert(settings).values({ key: 'atomic-b', value: 'second' }),
    ])
    expect(await value('atomic-a')).toEqual([{ key: 'atomic-a', value: 'first' }])
    expect(await value('atomic-b')).toEqual([{ key: 'atomic-b', value: 'second' }])
  })

  it('an ingest batch with one invalid record writes nothing, neither records nor outbox rows', async () => {
    const gw = await d1.isolate()
    const { user } = await connected(gw)
    const batch: unknown[] = sleeps(3, 'invalid-batch')
    ;(batch[2] as { metadata: { start_time: string } }).metadata.start_time = 'yesterday'
    const result = await ingest(gw, user.userId, 'sleep', batch)
    expect(result.status).toBe(422)
    expect(result.body.errors).toEqual([
      expect.objectContaining({ index: 2, path: expect.stringContaining('start_time') }),
    ])
    const [stored] = await gw.deps.db
      .select({ n: count() })
      .from(records)
      .where(eq(records.userId, user.userId))
      .all()
    const [queued] = await gw.deps.db
      .select({ n: count() })
      .from(outbox)
      .where(eq(outbox.userId, user.userId))
      .all()
    expect({ records: stored?.n, outbox: queued?.n }).toEqual({ records: 0, outbox: 0 })
  })

  it('chunks statements past 100 parameters: 250 records in, unchanged on re-send, out in one page, 25 webhook events', async () => {
    const gw = await d1.isolate()
    const { user, tokens } = await connected(gw)
    const before = receiver.requests.length
    // ~32 KB each: 250 stay under the 10 MB ingest limit
    const batch = sleeps(250, 'chunked')

    const first = await ingest(gw, user.userId, 'sleep', batch)
    expect(first).toEqual({
      status: 200,
      body: { received: 250, inserted: 250, updated: 0, unchanged: 0, events: 250 },
    })
    await gw.settle()
    expect(receiver.requests.length - before).toBe(25)

    const again = await ingest(gw, user.userId, 'sleep', batch)
    expect(again.body).toEqual({
      received: 250,
      inserted: 0,
      updated: 0,
      unchanged: 250,
      events: 0,
    })

    const page = await pull(
      gw,
      tokens.access_token,
      '/v1/sleep?start_date=2026-01-01&end_date=2027-12-31&limit=500',
    )
    expect(page.status).toBe(200)
    expect(page.body.data).toHaveLength(250)
    expect(
      page.body.data.map((r: { metadata: { summary_id: string } }) => r.metadata.summary_id),
    ).toEqual(batch.map((r) => r.metadata.summary_id))
    expect(page.body.next_token).toBeNull()

    // Deleting the user removes its 250 records (and tells the client).
    expect((await gw.admin(`/users/${user.userId}`, { method: 'DELETE' })).status).toBe(204)
    const [left] = await gw.deps.db
      .select({ n: count() })
      .from(records)
      .where(eq(records.userId, user.userId))
      .all()
    expect(left?.n).toBe(0)
  })
})

describe('deliveries without waitUntil', () => {
  it('the cron delivers an event whose waitUntil never ran', async () => {
    const dropping = await d1.isolate({ deferred: 'drop' })
    const { user, client } = await connected(dropping)
    const before = receiver.requests.length
    const result = await ingest(dropping, user.userId, 'sleep', sleeps(1, 'dropped'))
    expect(result.body).toMatchObject({ inserted: 1, events: 1 })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(receiver.requests.length).toBe(before)
    const [queued] = await dropping.deps.db
      .select({ n: count() })
      .from(outbox)
      .where(eq(outbox.userId, user.userId))
      .all()
    expect(queued?.n).toBe(1)

    // A later cron event, in whichever isolate runs it.
    const other = await d1.isolate()
    await other.cron()
    expect(receiver.requests.length).toBe(before + 1)
    const sent = receiver.requests.at(-1)
    expect(JSON.parse(sent?.body ?? '{}')).toMatchObject({
      type: 'sleep',
      user: { user_id: user.userId },
      data: [{ metadata: { summary_id: 'dropped-0' } }],
    })
    expect(
      await verifyTerraWebhookSignature(
        sent?.body ?? '',
        sent?.headers['terra-signature'] ?? '',
        client.webhookSecret,
      ),
    ).toBe(true)
    const rows = await other.deps.db
      .select({ status: deliveries.status })
      .from(deliveries)
      .where(and(eq(deliveries.userId, user.userId), eq(deliveries.type, 'sleep')))
      .all()
    expect(rows).toEqual([{ status: 'succeeded' }])
  })

  it('a kick cut off mid-send (isolate evicted) is taken back by the cron once its lease expires', async () => {
    // This isolate's network never answers: its send hangs as if the isolate had been evicted.
    const evicted = await d1.isolate({ fetch: () => new Promise<Response>(() => {}) })
    const { user } = await connected(evicted)
    const before = receiver.requests.length
    await ingest(evicted, user.userId, 'sleep', sleeps(1, 'evicted'))
    const delivering = async () =>
      (
        await evicted.deps.db
          .select({ status: deliveries.status })
          .from(deliveries)
          .where(eq(deliveries.userId, user.userId))
          .all()
      ).map((r) => r.status)
    for (let i = 0; i < 100 && (await delivering())[0] !== 'delivering'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(await delivering()).toEqual(['delivering'])

    const other = await d1.isolate()
    await other.cron() // the lease is still valid: nothing is taken back yet
    expect(receiver.requests.length).toBe(before)

    clock.advance(LEASE_MS + 1000)
    await other.cron()
    expect(receiver.requests.length).toBe(before + 1)
    expect(JSON.parse(receiver.requests.at(-1)?.body ?? '{}')).toMatchObject({
      data: [{ metadata: { summary_id: 'evicted-0' } }],
    })
    expect(await delivering()).toEqual(['succeeded'])
    const attempts = await other.deps.db
      .select({ error: deliveryAttempts.error, status: deliveryAttempts.statusCode })
      .from(deliveryAttempts)
      .innerJoin(deliveries, eq(deliveries.id, deliveryAttempts.deliveryId))
      .where(eq(deliveries.userId, user.userId))
      .orderBy(deliveryAttempts.number)
      .all()
    expect(attempts).toEqual([
      { error: 'interrupted', status: null },
      { error: null, status: 200 },
    ])
  })
})

describe('rate limits across isolates', () => {
  it('counts one (client, user) limit in D1 for every isolate, and the cron expires old windows', async () => {
    const env = { RATE_LIMIT_USER_PER_MINUTE: '3' }
    const first = await d1.isolate({ env })
    const second = await d1.isolate({ env })
    const { tokens } = await connected(first, null)
    const path = '/v1/sleep?start_date=2026-01-01&end_date=2026-01-02'
    const statuses = []
    for (const gw of [first, second, first, second]) {
      statuses.push((await pull(gw, tokens.access_token, path)).status)
    }
    expect(statuses).toEqual([200, 200, 200, 429])
    const limited = await pull(second, tokens.access_token, path)
    expect(limited.response.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(limited.response.headers.get('ratelimit')).toMatch(/"user";r=0;/)

    const windows = () =>
      first.deps.db.select({ n: count() }).from(rateLimitWindows).where(sql`1 = 1`).all()
    expect((await windows())[0]?.n).toBeGreaterThan(0)
    clock.advance(2 * 60 * 60 * 1000)
    await second.cron()
    expect((await windows())[0]?.n).toBe(0)
  })
})

describe('readiness on Workers', () => {
  it('/readyz checks D1 and the applied migrations, and names a pending one', async () => {
    const gw = await d1.isolate()
    const ready = await gw.fetch('/readyz')
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as { status: string; checks: { name: string }[] }
    expect(body.status).toBe('ready')
    expect(body.checks).toContainEqual(
      expect.objectContaining({
        name: 'migrations',
        status: 'ok',
        detail: 'all 2 migrations applied',
      }),
    )
    // wrangler records applied files in d1_migrations; one that lacks the latest is not ready.
    await gw.deps.db.run(
      sql`create table d1_migrations (id integer primary key autoincrement, name text unique, applied_at text)`,
    )
    await gw.deps.db.run(sql`insert into d1_migrations (name) values ('0000_init.sql')`)
    try {
      const pending = await gw.fetch('/readyz')
      expect(pending.status).toBe(503)
      expect(await pending.json()).toMatchObject({
        detail: expect.stringContaining(
          '1 of 2 migrations not applied (0001_rate_limit_windows.sql)',
        ),
        checks: expect.arrayContaining([
          expect.objectContaining({
            name: 'migrations',
            status: 'fail',
            action: expect.stringContaining('wrangler d1 migrations apply DB --remote'),
          }),
        ]),
      })
    } finally {
      await gw.deps.db.run(sql`drop table d1_migrations`)
    }
  })
})
