import { afterEach, describe, expect, it } from 'vitest'
import { LEASE_MS, RETRY_SCHEDULE_MS } from '../../src/notify/policy.ts'
import { createNotifier } from '../../src/notify/worker.ts'
import { addUser } from '../helpers/app.ts'
import { activityAt, ingest, sleepAt } from '../helpers/data.ts'
import { oauthFixture } from '../helpers/oauth.ts'
import { closedPort, type Receiver, type Reply, startReceiver } from '../helpers/receiver.ts'
import {
  attemptRows,
  bodies,
  dataOf,
  deliveryRows,
  type NotifyFixture,
  notifyFixture,
  schemaErrors,
  terraVerifies,
} from './harness.ts'

let t: NotifyFixture | undefined
const extra: Receiver[] = []
afterEach(async () => {
  await t?.close()
  t = undefined
  for (const r of extra.splice(0)) await r.close()
})

const only = async <T>(rows: Promise<T[]>): Promise<T> => {
  const list = await rows
  expect(list).toHaveLength(1)
  return list[0] as T
}

/**
 * Drives one failing delivery through the whole schedule with the test clock: before each due
 * time nothing is sent, at it exactly one attempt is. Returns the times of the attempts.
 */
async function runSchedule(fx: NotifyFixture, sent: () => number): Promise<number[]> {
  const times = [fx.gw.clock.ms]
  await fx.notifier.drain()
  expect(sent()).toBe(1)
  for (const delay of RETRY_SCHEDULE_MS.slice(1)) {
    fx.gw.clock.advance(delay - 1)
    await fx.notifier.drain()
    expect(sent()).toBe(times.length)
    fx.gw.clock.advance(1)
    await fx.notifier.drain()
    times.push(fx.gw.clock.ms)
    expect(sent()).toBe(times.length)
  }
  // Nothing after the tenth attempt, however long we wait.
  fx.gw.clock.advance(7 * 24 * 3600_000)
  await fx.notifier.drain()
  expect(sent()).toBe(times.length)
  return times
}

describe('failures are retried on the schedule, with a stable webhook-id, then failed', () => {
  const cases: {
    name: string
    reply?: Reply
    refused?: true
    error: string
    status: number | null
  }[] = [
    { name: '500', reply: 500, error: 'http_5xx', status: 500 },
    { name: '503', reply: 503, error: 'http_5xx', status: 503 },
    { name: 'a timeout', reply: 'timeout', error: 'timeout', status: null },
    { name: '302 (not followed)', reply: 302, error: 'redirect', status: 302 },
    { name: 'connection refused', refused: true, error: 'connection_refused', status: null },
  ]

  it.each(cases)('$name', async ({ reply, refused, error, status }) => {
    const elsewhere = await startReceiver()
    extra.push(elsewhere)
    const url = refused ? `http://127.0.0.1:${await closedPort()}/hook` : undefined
    t = await notifyFixture(url ? { client: { webhookUrl: url } } : {})
    if (reply === 302) t.receiver.setDefault({ status: 302, headers: { location: elsewhere.url } })
    else if (reply !== undefined) t.receiver.setDefault(reply)
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])

    let calls = 0
    const fetch = t.gw.deps.fetch
    t.gw.deps.fetch = (input, init) => {
      calls++
      return fetch(input, init)
    }
    const receiver = t.receiver
    const times = await runSchedule(t, () => (refused ? calls : receiver.requests.length))
    const start = times[0] as number
    expect(times.map((at) => (at - start) / 1000)).toStrictEqual([
      0, 10, 70, 370, 2170, 5770, 12970, 27370, 56170, 84970,
    ])

    const delivery = await only(deliveryRows(t.gw))
    expect(delivery).toMatchObject({ status: 'failed', attempts: 10, nextAttemptAt: null })
    const attempts = await attemptRows(t.gw, delivery.id)
    expect(
      attempts.map((a) => [a.number, a.trigger, a.startedAt, a.statusCode, a.error]),
    ).toStrictEqual(times.map((at, i) => [i + 1, 'auto', at, status, error]))
    for (const a of attempts) {
      expect(a.durationMs).toBeGreaterThanOrEqual(error === 'timeout' ? 250 : 0)
      expect((a.responseExcerpt ?? '').length).toBeLessThanOrEqual(1024)
    }
    if (error === 'connection_refused') expect(attempts[0]?.responseExcerpt).toMatch(/ECONNREFUSED/)
    if (!refused) {
      expect(new Set(t.receiver.requests.map((r) => r.headers['webhook-id']))).toStrictEqual(
        new Set([delivery.eventId]),
      )
      // Each retry is signed afresh at its own time.
      for (const [i, r] of t.receiver.requests.entries()) {
        expect(await terraVerifies(r, t.secret, times[i] as number)).toBe(true)
      }
    }
    expect(elsewhere.requests).toStrictEqual([])

    const view = await (await t.gw.admin(`/deliveries/${delivery.id}`)).json()
    expect(view.status).toBe('failed')
    expect(view.attempts).toHaveLength(10)
    expect(view.attempts[9]).toStrictEqual({
      number: 10,
      trigger: 'auto',
      started_at: new Date(times[9] as number).toISOString(),
      duration_ms: expect.any(Number),
      status_code: status,
      error,
      response_excerpt: expect.any(String),
    })
  })
})

describe('after the last attempt', () => {
  async function failBoth(fx: NotifyFixture) {
    fx.receiver.setDefault(500)
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await ingest(fx.gw, fx.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    await fx.notifier.drain()
    for (const delay of RETRY_SCHEDULE_MS.slice(1)) {
      fx.gw.clock.advance(delay)
      await fx.notifier.drain()
    }
    const rows = await deliveryRows(fx.gw)
    expect(rows.map((d) => [d.type, d.status, d.attempts])).toStrictEqual([
      ['sleep', 'failed', 10],
      ['activity', 'failed', 10],
    ])
    expect(fx.receiver.requests).toHaveLength(20)
    return rows as [(typeof rows)[0], (typeof rows)[0]]
  }

  it('redeliver sends the same event again as a manual attempt; recover sends what failed since', async () => {
    t = await notifyFixture()
    const failedAt = t.gw.clock.ms
    const [sleep, activity] = await failBoth(t)

    // Still failing: one manual attempt, and the delivery is failed again (no new schedule).
    t.gw.clock.advance(60_000)
    expect((await t.gw.admin(`/deliveries/${sleep.id}/redeliver`, { method: 'POST' })).status).toBe(
      202,
    )
    await t.notifier.drain()
    t.gw.clock.advance(24 * 3600_000)
    await t.notifier.drain()
    expect(t.receiver.requests).toHaveLength(21)
    expect((await deliveryRows(t.gw))[0]).toMatchObject({ status: 'failed', attempts: 11 })

    t.receiver.setDefault(200)
    const response = await t.gw.admin(`/deliveries/${sleep.id}/redeliver`, { method: 'POST' })
    expect(response.status).toBe(202)
    expect(await response.json()).toStrictEqual({
      id: sleep.id,
      event_id: sleep.eventId,
      client_id: t.fx.client.clientId,
      user_id: t.userId,
      type: 'sleep',
      status: 'pending',
      attempts: 11,
      next_attempt_at: new Date(t.gw.clock.ms).toISOString(),
      last_status_code: 500,
      created_at: new Date(failedAt).toISOString(),
    })
    await t.notifier.drain()
    const last = t.receiver.requests.at(-1)
    expect(last?.headers['webhook-id']).toBe(sleep.eventId)
    expect(await terraVerifies(last as never, t.secret, t.gw.clock.ms)).toBe(true)
    const view = await (await t.gw.admin(`/deliveries/${sleep.id}`)).json()
    expect(view.status).toBe('succeeded')
    expect(
      (view.attempts as Record<string, unknown>[])
        .slice(-2)
        .map((a) => [a.number, a.trigger, a.status_code, a.error]),
    ).toStrictEqual([
      [11, 'manual', 500, 'http_5xx'],
      [12, 'manual', 200, null],
    ])

    // Recover: only deliveries whose failure is at or after `since`.
    const fx = t
    const recover = (since: string) =>
      fx.gw.admin(`/clients/${fx.fx.client.clientId}/recover`, { method: 'POST', json: { since } })
    const later = new Date(t.gw.clock.ms).toISOString()
    expect(await (await recover(later)).json()).toStrictEqual({
      client_id: t.fx.client.clientId,
      since: later,
      recovered: 0,
    })
    const response2 = await recover(new Date(failedAt).toISOString())
    expect(response2.status).toBe(202)
    expect((await response2.json()).recovered).toBe(1)
    await t.notifier.drain()
    expect(t.receiver.requests.at(-1)?.headers['webhook-id']).toBe(activity.eventId)
    expect(JSON.parse(t.receiver.requests.at(-1)?.body ?? '{}').type).toBe('activity')
    expect((await deliveryRows(t.gw)).map((d) => d.status)).toStrictEqual([
      'succeeded',
      'succeeded',
    ])
    const activityLog = await attemptRows(t.gw, activity.id)
    expect(activityLog.at(-1)).toMatchObject({ number: 11, trigger: 'manual', statusCode: 200 })
  })

  it('validates recover and redeliver requests', async () => {
    t = await notifyFixture()
    const bad = await t.gw.admin(`/clients/${t.fx.client.clientId}/recover`, {
      method: 'POST',
      json: { since: '2026-03-01T00:00:00' },
    })
    expect(bad.status).toBe(400)
    expect((await bad.json()).errors).toStrictEqual([
      {
        path: 'since',
        message: 'Must be an RFC 3339 date-time with an offset, e.g. 2026-03-01T00:00:00Z.',
      },
    ])
    const unknown = await t.gw.admin('/clients/nope/recover', {
      method: 'POST',
      json: { since: '2026-03-01T00:00:00Z' },
    })
    expect(unknown.status).toBe(404)
    expect((await t.gw.admin('/deliveries/nope/redeliver', { method: 'POST' })).status).toBe(404)
  })
})

describe('Retry-After and jitter', () => {
  it('waits for Retry-After (seconds or an HTTP date) when it is longer than the schedule', async () => {
    t = await notifyFixture()
    const inHalfAnHour = new Date(t.gw.clock.ms + 10_000 + 120_000 + 1800_000).toUTCString()
    t.receiver.plan(
      { status: 503, headers: { 'retry-after': '120' } },
      { status: 429, headers: { 'retry-after': inHalfAnHour } },
      { status: 503, headers: { 'retry-after': '1' } },
    )
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    const start = t.gw.clock.ms
    await t.notifier.drain()
    const next = async () => (await only(deliveryRows(t?.gw as never))).nextAttemptAt
    expect(await next()).toBe(start + 120_000) // not 10 s
    t.gw.clock.advance(120_000)
    await t.notifier.drain()
    expect(await next()).toBe(Date.parse(inHalfAnHour)) // not 1 min (whole seconds: HTTP dates)
    t.gw.clock.ms = Date.parse(inHalfAnHour)
    await t.notifier.drain()
    // A Retry-After shorter than the schedule does not bring the retry forward: 5 min.
    expect(await next()).toBe(t.gw.clock.ms + 300_000)
    t.gw.clock.advance(300_000)
    await t.notifier.drain()
    expect((await only(deliveryRows(t.gw))).status).toBe('succeeded')
    expect(t.receiver.requests).toHaveLength(4)
  })

  it('spreads each delay by ±20 % from the injected random source', async () => {
    const draws = [0, 0.999_999, 0.25]
    t = await notifyFixture({ random: () => draws.shift() ?? 0.5 })
    t.receiver.setDefault(500)
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    const waits: number[] = []
    for (let i = 0; i < 3; i++) {
      await t.notifier.drain()
      const due = (await only(deliveryRows(t.gw))).nextAttemptAt as number
      waits.push(due - t.gw.clock.ms)
      t.gw.clock.ms = due
    }
    expect(waits).toStrictEqual([8_000, 72_000, 270_000]) // 10 s × 0.8, 1 min × 1.2, 5 min × 0.9
  })
})

describe('410 Gone', () => {
  it('disables the client’s webhook and holds its events until it is re-enabled', async () => {
    t = await notifyFixture()
    t.receiver.plan(410)
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await t.notifier.drain()
    const fx = t
    const client = async () =>
      (await (await fx.gw.admin(`/clients/${fx.fx.client.clientId}`)).json()).webhook_status
    expect(await client()).toBe('disabled')
    const [gone] = await deliveryRows(t.gw)
    expect(gone).toMatchObject({
      status: 'held',
      attempts: 1,
      lastStatusCode: 410,
      nextAttemptAt: null,
    })
    expect((await attemptRows(t.gw, gone?.id as string))[0]?.error).toBe('gone')

    // Events keep being recorded while it is disabled, and nothing is sent, however long.
    await ingest(t.gw, t.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s2', '2026-02-26T23:00:00Z')])
    t.gw.clock.advance(48 * 3600_000)
    await t.notifier.drain()
    expect(t.receiver.requests).toHaveLength(1)
    expect((await deliveryRows(t.gw)).map((d) => d.status)).toStrictEqual(['held', 'held', 'held'])
    const held = await (await t.gw.admin('/deliveries?status=held')).json()
    expect(held.data).toHaveLength(3)
    // Redelivering one by hand is refused while the webhook is disabled.
    expect((await t.gw.admin(`/deliveries/${gone?.id}/redeliver`, { method: 'POST' })).status).toBe(
      409,
    )

    const patch = await t.gw.admin(`/clients/${t.fx.client.clientId}`, {
      method: 'PATCH',
      json: { webhook_status: 'active' },
    })
    expect(patch.status).toBe(200)
    expect((await deliveryRows(t.gw)).map((d) => d.status)).toStrictEqual([
      'pending',
      'pending',
      'pending',
    ])
    await t.notifier.drain()
    expect(await client()).toBe('active')
    expect((await deliveryRows(t.gw)).map((d) => d.status)).toStrictEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ])
    const received = bodies(t.receiver).slice(1)
    // s1 and s2 waited in two deliveries (the second was created while s1's was held: s2 is
    // another record, so it is not coalesced).
    expect(
      received.map((b) => `${b.type}:${dataOf(b).map((r) => r.metadata.summary_id)}`).sort(),
    ).toStrictEqual(['activity:a1', 'sleep:s1', 'sleep:s2'])
    expect(t.receiver.requests.slice(1).map((r) => r.headers['webhook-id'])).toContain(
      gone?.eventId,
    )
  })
})

describe('latest-version rendering', () => {
  it('a record updated while its delivery is failing goes out with the new version, once', async () => {
    t = await notifyFixture()
    t.receiver.plan(500)
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await t.notifier.drain()
    const v2 = sleepAt('s1', '2026-02-27T23:00:00Z')
    v2.scores = { sleep: 88 }
    expect((await ingest(t.gw, t.userId, 'sleep', [v2])).body.updated).toBe(1)
    await t.notifier.drain() // fans out the change: coalesced into the waiting delivery
    expect(await deliveryRows(t.gw)).toHaveLength(1)
    t.gw.clock.advance(10_000)
    await t.notifier.drain()
    t.gw.clock.advance(7 * 24 * 3600_000)
    await t.notifier.drain()
    const received = bodies(t.receiver)
    expect(received).toHaveLength(2)
    // The failed attempt carried v1, the retry carries v2.
    expect(dataOf(received[0])[0]?.scores).toStrictEqual({ sleep: 84 })
    expect(dataOf(received[1])[0]?.scores).toStrictEqual({ sleep: 88 })
    expect(t.receiver.requests.map((r) => r.headers['webhook-id'])).toStrictEqual([
      t.receiver.requests[0]?.headers['webhook-id'],
      t.receiver.requests[0]?.headers['webhook-id'],
    ])
    expect(schemaErrors('SleepEvent', received[1])).toStrictEqual([])
  })
})

describe('webhook secret rotation', () => {
  it.each([
    'terra',
    'standard',
  ] as const)('%s: two signatures, each valid with its own secret, then only the new one after 24 h', async (scheme) => {
    t = await notifyFixture({ client: { signatureScheme: scheme } })
    const oldSecret = t.secret
    const rotated = await t.gw.admin(`/clients/${t.fx.client.clientId}/rotate-secret`, {
      method: 'POST',
      json: { which: 'webhook' },
    })
    const newSecret = (await rotated.json()).webhook_secret as string
    const { standardVerifies } = await import('./harness.ts')
    const verify = scheme === 'terra' ? terraVerifies : standardVerifies
    const signatures = (r: { headers: Record<string, string> }) =>
      scheme === 'terra'
        ? (r.headers['terra-signature'] ?? '').split(',').filter((p) => p.startsWith('v1='))
        : (r.headers['webhook-signature'] ?? '').split(' ')

    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await t.notifier.drain()
    const during = t.receiver.requests[0]
    if (!during) throw new Error('nothing received')
    expect(signatures(during)).toHaveLength(2)
    expect(await verify(during, oldSecret, t.gw.clock.ms)).toBe(true)
    expect(await verify(during, newSecret, t.gw.clock.ms)).toBe(true)

    t.gw.clock.advance(24 * 3600_000 + 1)
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s2', '2026-02-26T23:00:00Z')])
    await t.notifier.drain()
    const after = t.receiver.requests[1]
    if (!after) throw new Error('nothing received')
    expect(signatures(after)).toHaveLength(1)
    expect(await verify(after, newSecret, t.gw.clock.ms)).toBe(true)
    expect(await verify(after, oldSecret, t.gw.clock.ms)).toBe(false)
  })
})

describe('concurrency', () => {
  it('caps the requests in flight per endpoint, and a slow endpoint does not starve another', async () => {
    t = await notifyFixture({ notifier: { concurrency: 2, timeoutMs: 2000 } })
    t.receiver.setDefault({ status: 200, delayMs: 150 })
    const fast = await startReceiver()
    extra.push(fast)
    const users = [t.fx.user]
    for (let i = 0; i < 5; i++) {
      const other = await oauthFixture(
        t.gw,
        async () => t?.fx.client as never,
        () => addUser(t?.gw as never),
      )
      await other.connect()
      users.push(other.user)
    }
    const { addClient } = await import('../helpers/app.ts')
    const fastClient = await addClient(t.gw, { name: 'Fast', webhookUrl: fast.url })
    const fastFx = await oauthFixture(
      t.gw,
      async () => fastClient,
      async () => t?.fx.user as never,
    )
    await fastFx.connect()
    for (const user of users) {
      await ingest(t.gw, user.userId, 'sleep', [
        sleepAt(`s-${user.userId}`, '2026-02-27T23:00:00Z'),
      ])
    }
    await t.notifier.drain()
    expect(t.receiver.requests).toHaveLength(6)
    expect(t.receiver.maxConcurrent()).toBe(2)
    expect(fast.requests).toHaveLength(1)
    // The fast endpoint's event did not wait for the slow one's queue to empty.
    const slowLast = Math.max(...t.receiver.requests.map((r) => r.at))
    expect(fast.requests[0]?.at).toBeLessThan(slowLast)
  })
})

describe('leases', () => {
  it('a delivery whose worker died is taken back after the lease and sent again, logged as interrupted', async () => {
    t = await notifyFixture()
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    // Worker A claims the delivery, and its request never comes back (the process died).
    let release: (r: Response) => void = () => {}
    const dead = createNotifier(
      { ...t.gw.deps, fetch: () => new Promise<Response>((resolve) => (release = resolve)) },
      { timeoutMs: 60_000 },
    )
    await dead.kick()
    const claimed = await only(deliveryRows(t.gw))
    expect(claimed).toMatchObject({ status: 'delivering', attempts: 1 })

    // Before the lease runs out, nobody else takes it.
    t.gw.clock.advance(LEASE_MS - 1)
    await t.notifier.sweep()
    await t.notifier.drain()
    expect(t.receiver.requests).toHaveLength(0)

    t.gw.clock.advance(2)
    await t.notifier.sweep()
    await t.notifier.drain()
    expect(t.receiver.requests).toHaveLength(1)
    expect(t.receiver.requests[0]?.headers['webhook-id']).toBe(claimed.eventId)
    const log = await attemptRows(t.gw, claimed.id)
    expect(log.map((a) => [a.number, a.error, a.startedAt])).toStrictEqual([
      [1, 'interrupted', claimed.updatedAt],
      [2, null, t.gw.clock.ms],
    ])

    // Worker A's answer arrives late: it is logged, but cannot change the delivery.
    release(new Response('late', { status: 500 }))
    await dead.stop()
    const after = await only(deliveryRows(t.gw))
    expect(after.status).toBe('succeeded')
    expect(
      (await attemptRows(t.gw, claimed.id)).map((a) => [a.number, a.statusCode]),
    ).toStrictEqual([
      [1, null],
      [1, 500],
      [2, 200],
    ])
  })
})
