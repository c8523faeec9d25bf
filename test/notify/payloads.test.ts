import { afterEach, describe, expect, it } from 'vitest'
import { dispatchOutbox } from '../../src/notify/outbox-dispatch.ts'
import { makeSleep } from '../fixtures/records.ts'
import { activityAt, dailyOn, ingest, pull, sleepAt } from '../helpers/data.ts'
import {
  attemptRows,
  bodies,
  dataOf,
  deliveryRows,
  type NotifyFixture,
  notifyFixture,
  schemaErrors,
  standardVerifies,
  terraVerifies,
} from './harness.ts'

let t: NotifyFixture | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

const day = (i: number) => `2026-02-${String(1 + i).padStart(2, '0')}`
const sleeps = (n: number, prefix = 's') =>
  Array.from({ length: n }, (_, i) => sleepAt(`${prefix}${i}`, `${day(i)}T04:00:00Z`))
const summaryIds = (body: Record<string, unknown>) =>
  dataOf(body).map((r) => r.metadata.summary_id as string)

describe('full-mode data events', () => {
  it('validate against Terra’s event schemas and carry a terra-signature Terra’s SDK accepts', async () => {
    t = await notifyFixture({ reference: 'crm-4711' })
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await ingest(t.gw, t.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    await ingest(t.gw, t.userId, 'daily', [dailyOn('2026-02-28')])
    await t.notifier.drain()

    const order = ['sleep', 'activity', 'daily']
    const received = bodies(t.receiver).sort(
      (a, b) => order.indexOf(a.type as string) - order.indexOf(b.type as string),
    )
    expect(received.map((b) => b.type)).toStrictEqual(order)
    const schemaOf = { sleep: 'SleepEvent', activity: 'ActivityEvent', daily: 'DailyEvent' }
    for (const body of received) {
      expect(schemaErrors(schemaOf[body.type as keyof typeof schemaOf], body)).toStrictEqual([])
      expect(Object.keys(body)).toStrictEqual(['type', 'user', 'data', 'version'])
      expect(body.version).toBe('2022-03-16')
    }
    expect(dataOf(received[2] as Record<string, unknown>)[0]?.metadata.start_time).toBe(
      '2026-02-28T00:00:00.000000+00:00',
    )
    // Sent together, none of them knows of an earlier delivery (see the ping test for one that does).
    for (const body of received) {
      expect(body.user).toStrictEqual({
        user_id: t.userId,
        provider: 'MOCKWEAR',
        created_at: '2026-03-01T12:00:00.000000+00:00',
        last_webhook_update: null,
        scopes: 'sleep:read,activity:read,daily:read',
        reference_id: 'crm-4711',
        active: true,
      })
    }

    const ids = new Set<string>()
    for (const request of t.receiver.requests) {
      expect(request.method).toBe('POST')
      expect(request.headers['content-type']).toBe('application/json')
      expect(request.headers['user-agent']).toBe('partner-gateway/0.1.0')
      expect(request.headers['webhook-signature']).toBeUndefined()
      ids.add(request.headers['webhook-id'] as string)
      expect(await terraVerifies(request, t.secret, t.gw.clock.ms)).toBe(true)
      // Tampered with, or checked with another secret, it fails.
      const tampered = { ...request, body: request.body.replace('MOCKWEAR', 'MOCKWEAX') }
      expect(await terraVerifies(tampered, t.secret, t.gw.clock.ms)).toBe(false)
      expect(await terraVerifies(request, `${t.secret}x`, t.gw.clock.ms)).toBe(false)
    }
    expect(ids.size).toBe(3)
    // The webhook-id is the delivery's event id.
    expect(new Set((await deliveryRows(t.gw)).map((d) => d.eventId))).toStrictEqual(ids)
  })

  it('are signed in the standard scheme for a client that chose it', async () => {
    t = await notifyFixture({ client: { signatureScheme: 'standard' } })
    await ingest(t.gw, t.userId, 'sleep', sleeps(2))
    await t.notifier.drain()
    const [request] = t.receiver.requests
    if (!request) throw new Error('nothing received')
    expect(request.headers['terra-signature']).toBeUndefined()
    expect(request.headers['webhook-timestamp']).toBe(String(t.gw.clock.ms / 1000))
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
    expect(await standardVerifies(request, t.secret, t.gw.clock.ms)).toBe(true)
    const tampered = { ...request, body: request.body.replace('"s0"', '"s9"') }
    expect(await standardVerifies(tampered, t.secret, t.gw.clock.ms)).toBe(false)
    expect(await standardVerifies(request, 'whsec_c2VjcmV0', t.gw.clock.ms)).toBe(false)
    expect(schemaErrors('SleepEvent', JSON.parse(request.body))).toStrictEqual([])
  })

  it('split 25 records into three events of 10, 10 and 5 that cover every record once', async () => {
    t = await notifyFixture()
    const batch = sleeps(25)
    await ingest(t.gw, t.userId, 'sleep', batch)
    await t.notifier.drain()
    const received = bodies(t.receiver)
    expect(received.map((b) => dataOf(b).length).sort((a, b) => b - a)).toStrictEqual([10, 10, 5])
    expect(received.flatMap(summaryIds).sort()).toStrictEqual(
      batch.map((r) => r.metadata.summary_id).sort(),
    )
    for (const b of received) expect(schemaErrors('SleepEvent', b)).toStrictEqual([])
    expect(new Set(t.receiver.requests.map((r) => r.headers['webhook-id'])).size).toBe(3)
    expect((await deliveryRows(t.gw)).map((d) => [d.status, d.attempts])).toStrictEqual([
      ['succeeded', 1],
      ['succeeded', 1],
      ['succeeded', 1],
    ])
  })

  it('coalesce several changes to one record while it waits into one send of the latest version', async () => {
    t = await notifyFixture()
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await dispatchOutbox(t.gw.deps.db, t.gw.clock.ms)
    for (const score of [50, 60, 70]) {
      const next = sleepAt('s1', '2026-02-27T23:00:00Z')
      next.scores = { sleep: score }
      await ingest(t.gw, t.userId, 'sleep', [
        next,
        sleepAt(`other${score}`, '2026-02-20T23:00:00Z'),
      ])
      // Each ingest is fanned out while the first delivery still waits to be sent.
      await dispatchOutbox(t.gw.deps.db, t.gw.clock.ms)
    }
    await t.notifier.drain()
    const received = bodies(t.receiver)
    expect(received.map(summaryIds).sort()).toStrictEqual([
      ['other50'],
      ['other60'],
      ['other70'],
      ['s1'],
    ])
    const s1 = received.find((b) => summaryIds(b)[0] === 's1')
    expect(dataOf(s1)[0]?.scores).toStrictEqual({ sleep: 70 })
  })

  it('never let a newer rendering of a record overtake one in flight', async () => {
    t = await notifyFixture()
    t.receiver.setDefault({ status: 200, delayMs: 200 })
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await t.notifier.kick() // v1 is on its way
    const v2 = sleepAt('s1', '2026-02-27T23:00:00Z')
    v2.scores = { sleep: 99 }
    await ingest(t.gw, t.userId, 'sleep', [v2, sleepAt('s2', '2026-02-26T23:00:00Z')])
    await ingest(t.gw, t.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    await t.notifier.drain()
    const received = bodies(t.receiver)
    expect(received.map((b) => [b.type, summaryIds(b)])).toStrictEqual([
      ['sleep', ['s1']],
      // The unrelated activity went alongside; the second sleep event waited for the first.
      ['activity', ['a1']],
      ['sleep', ['s2', 's1']],
    ])
    expect(dataOf(received[2]).find((r) => r.metadata.summary_id === 's1')?.scores).toStrictEqual({
      sleep: 99,
    })
    const [first, , third] = t.receiver.requests
    expect((third?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(190)
  })

  it('go only to clients whose grant covers the type and that have a webhook URL', async () => {
    t = await notifyFixture({ connect: { scope: 'sleep:read' } })
    await ingest(t.gw, t.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    // A second client without a webhook URL, connected to the same user.
    const { addClient } = await import('../helpers/app.ts')
    const silent = await addClient(t.gw, { name: 'No webhook' })
    const { oauthFixture } = await import('../helpers/oauth.ts')
    const fx2 = await oauthFixture(
      t.gw,
      async () => silent,
      async () => t?.fx.user as never,
    )
    await fx2.connect()
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s2', '2026-02-26T23:00:00Z')])
    await t.notifier.drain()
    expect(bodies(t.receiver).map((b) => [b.type, summaryIds(b)])).toStrictEqual([
      ['sleep', ['s2', 's1']], // in order of start time
    ])
    expect((await deliveryRows(t.gw)).map((d) => d.clientId)).toStrictEqual([t.fx.client.clientId])
  })
})

describe('oversized events', () => {
  it('move records that do not fit into the next event (10 MB, here lowered to 100 kB)', async () => {
    t = await notifyFixture({ notifier: { maxEventBytes: 100_000 } })
    const batch = sleeps(10)
    const size = JSON.stringify(batch[0]).length
    expect(size).toBeGreaterThan(25_000)
    expect(size).toBeLessThan(33_000)
    await ingest(t.gw, t.userId, 'sleep', batch)
    await t.notifier.drain()
    const received = bodies(t.receiver)
    expect(received.map((b) => dataOf(b).length)).toStrictEqual([3, 3, 3, 1])
    for (const r of t.receiver.requests)
      expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(100_000)
    expect(received.flatMap(summaryIds).sort()).toStrictEqual(
      batch.map((r) => r.metadata.summary_id).sort(),
    )
    // The spilled records became deliveries of their own, each sent once.
    expect((await deliveryRows(t.gw)).map((d) => d.status)).toStrictEqual(
      Array(4).fill('succeeded'),
    )
  })

  it('send a single record over 10 MB without its samples, still a valid SleepEvent', async () => {
    t = await notifyFixture()
    const big = sleepAt('huge', '2026-02-27T23:00:00Z')
    const sample = (i: number) => ({
      timestamp: `2026-02-28T00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000000+00:00`,
      bpm: 60 + (i % 30),
      timer_duration_seconds: null,
      context: 1,
    })
    const perSample = JSON.stringify(sample(1000)).length + 1
    const count = Math.ceil((10_050_000 - JSON.stringify(big).length) / perSample)
    big.heart_rate_data = {
      ...makeSleep().heart_rate_data,
      detailed: {
        hr_samples: Array.from({ length: count }, (_, i) => sample(i)),
        hrv_samples_rmssd: [],
        hrv_samples_sdnn: [],
      },
    } as never
    const size = JSON.stringify(big).length
    expect(size).toBeGreaterThan(10_000_000)
    expect(size).toBeLessThan(10 * 1024 * 1024 - 100) // still within the ingest limit
    expect((await ingest(t.gw, t.userId, 'sleep', [big])).status).toBe(200)
    await t.notifier.drain()
    const [request] = t.receiver.requests
    if (!request) throw new Error('nothing received')
    expect(Buffer.byteLength(request.body)).toBeLessThan(10_000_000)
    const body = JSON.parse(request.body)
    expect(schemaErrors('SleepEvent', body)).toStrictEqual([])
    expect(body.data[0].metadata.summary_id).toBe('huge')
    expect(body.data[0].heart_rate_data.detailed.hr_samples).toBeUndefined()
    expect(body.data[0].heart_rate_data.summary).toStrictEqual(
      (big.heart_rate_data as { summary: unknown }).summary,
    )
    expect(t.gw.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        note: expect.stringMatching(
          /larger than the 10000000-byte event limit with its samples; sent without them/,
        ),
      }),
    )
    // Terra gets the samples by pulling with_samples=true.
    const pulled = await pull(
      t.gw,
      t.accessToken,
      `/v1/sleep?start_date=2026-02-27&end_date=2026-02-28&with_samples=true`,
    )
    expect(pulled.body.data[0].heart_rate_data.detailed.hr_samples).toHaveLength(count)
  })
})

describe('ping mode', () => {
  it('sends ids and a range that a pull of [start_time, end_time) returns exactly', async () => {
    t = await notifyFixture({ client: { payloadMode: 'ping' } })
    await ingest(t.gw, t.userId, 'sleep', sleeps(3))
    await t.notifier.drain()
    t.gw.clock.advance(60_000)
    await ingest(t.gw, t.userId, 'daily', [dailyOn('2026-02-27'), dailyOn('2026-02-28')])
    await t.notifier.drain()
    const [sleep, daily] = bodies(t.receiver)
    const user = (sleep as Record<string, unknown>).user
    expect(schemaErrors('TerraUser', user)).toStrictEqual([])
    expect(sleep).toStrictEqual({
      type: 'sleep',
      user,
      ping: {
        ids: ['s0', 's1', 's2'],
        start_time: '2026-02-01T04:00:00.000000+00:00',
        end_time: '2026-02-03T11:00:00.000000+00:00',
      },
    })
    expect(daily).toStrictEqual({
      type: 'daily',
      // It says when the previous event (the sleep ping) was delivered.
      user: { ...(user as object), last_webhook_update: '2026-03-01T12:00:00.000000+00:00' },
      ping: {
        ids: ['2026-02-27', '2026-02-28'],
        start_time: '2026-02-27T00:00:00.000000+00:00',
        end_time: '2026-03-01T00:00:00.000000+00:00',
      },
    })
    const ping = (sleep as { ping: { start_time: string; end_time: string } }).ping
    const q = new URLSearchParams({ start_date: ping.start_time, end_date: ping.end_time })
    const pulled = await pull(t.gw, t.accessToken, `/v1/sleep?${q}`)
    expect(dataOf(pulled.body).map((r) => r.metadata.summary_id)).toStrictEqual(['s0', 's1', 's2'])
    for (const r of t.receiver.requests)
      expect(await terraVerifies(r, t.secret, t.gw.clock.ms)).toBe(true)
  })
})

describe('attempt log of a plain success', () => {
  it('records one automatic attempt with its status and a bounded excerpt', async () => {
    t = await notifyFixture()
    t.receiver.plan({ status: 202, body: 'x'.repeat(5000) })
    await ingest(t.gw, t.userId, 'sleep', sleeps(1))
    await t.notifier.drain()
    const [delivery] = await deliveryRows(t.gw)
    const attempts = await attemptRows(t.gw, delivery?.id as string)
    expect(attempts.map(({ id, deliveryId, durationMs, ...a }) => a)).toStrictEqual([
      {
        number: 1,
        trigger: 'auto',
        startedAt: t.gw.clock.ms,
        statusCode: 202,
        error: null,
        responseExcerpt: 'x'.repeat(1024),
      },
    ])
    expect(attempts[0]?.durationMs).toBeGreaterThanOrEqual(0)
  })
})
