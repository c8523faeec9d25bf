import { afterEach, describe, expect, it } from 'vitest'
import { addUser } from '../helpers/app.ts'
import { activityAt, ingest, sleepAt } from '../helpers/data.ts'
import { oauthFixture } from '../helpers/oauth.ts'
import { deliveryRows, type NotifyFixture, notifyFixture } from './harness.ts'

let t: NotifyFixture | undefined
afterEach(async () => {
  await t?.close()
  t = undefined
})

describe('GET /admin/v1/deliveries', () => {
  it('lists deliveries newest first, filtered by status, client and user, paged by next_token', async () => {
    t = await notifyFixture()
    const second = await oauthFixture(
      t.gw,
      async () => t?.fx.client as never,
      () => addUser(t?.gw as never),
    )
    await second.connect()
    t.receiver.plan(500) // the first event fails once and waits for its retry
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await t.notifier.drain()
    t.gw.clock.advance(1000)
    await ingest(t.gw, t.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    t.gw.clock.advance(1000)
    await ingest(t.gw, second.user.userId, 'sleep', [sleepAt('x1', '2026-02-27T23:00:00Z')])
    await t.notifier.drain()
    const rows = await deliveryRows(t.gw)
    const [sleep, activity, other] = rows
    const view = (d: (typeof rows)[number]) => ({
      id: d.id,
      event_id: d.eventId,
      client_id: d.clientId,
      user_id: d.userId,
      type: d.type,
      status: d.status,
      attempts: d.attempts,
      next_attempt_at: d.nextAttemptAt === null ? null : new Date(d.nextAttemptAt).toISOString(),
      last_status_code: d.lastStatusCode,
      created_at: new Date(d.createdAt).toISOString(),
    })
    const list = async (query: string) => {
      const response = await t?.gw.admin(`/deliveries${query}`)
      expect(response?.status).toBe(200)
      return response?.json()
    }

    expect(await list('')).toStrictEqual({
      data: [other, activity, sleep].map((d) => view(d as never)),
      next_token: null,
    })
    expect((await list('?status=pending')).data).toStrictEqual([
      {
        ...view(sleep as never),
        status: 'pending',
        attempts: 1,
        last_status_code: 500,
        next_attempt_at: new Date(Date.parse('2026-03-01T12:00:10Z')).toISOString(),
      },
    ])
    expect(
      (await list(`?user_id=${t.userId}&status=succeeded`)).data.map(
        (d: { type: string }) => d.type,
      ),
    ).toStrictEqual(['activity'])
    expect((await list(`?client_id=${t.fx.client.clientId}`)).data).toHaveLength(3)
    expect((await list('?client_id=nobody')).data).toStrictEqual([])

    const page1 = await list('?limit=2')
    expect(page1.data.map((d: { id: string }) => d.id)).toStrictEqual([other?.id, activity?.id])
    const page2 = await list(`?limit=2&next_token=${page1.next_token}`)
    expect(page2).toStrictEqual({ data: [view(sleep as never)], next_token: null })
  })

  it('rejects bad parameters and unknown ids, and needs the admin key', async () => {
    t = await notifyFixture()
    const bad = await t.gw.admin('/deliveries?status=lost&limit=0')
    expect(bad.status).toBe(400)
    expect((await bad.json()).errors.map((e: { path: string }) => e.path).sort()).toStrictEqual([
      'limit',
      'status',
    ])
    expect((await t.gw.admin('/deliveries?next_token=garbage!')).status).toBe(400)
    const missing = await t.gw.admin('/deliveries/nope')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toBe('application/problem+json')
    const anonymous = await t.gw.fetch('http://127.0.0.1:8787/admin/v1/deliveries')
    expect(anonymous.status).toBe(401)
  })
})

describe('GET /admin/v1/deliveries/{id}', () => {
  it('adds the attempt log', async () => {
    t = await notifyFixture()
    t.receiver.plan({ status: 503, body: 'busy, try later' })
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await t.notifier.drain()
    t.gw.clock.advance(10_000)
    await t.notifier.drain()
    const [d] = await deliveryRows(t.gw)
    const response = await t.gw.admin(`/deliveries/${d?.id}`)
    const { attempts, ...rest } = await response.json()
    expect(rest).toStrictEqual({
      id: d?.id,
      event_id: d?.eventId,
      client_id: t.fx.client.clientId,
      user_id: t.userId,
      type: 'sleep',
      status: 'succeeded',
      next_attempt_at: null,
      last_status_code: 200,
      created_at: '2026-03-01T12:00:00.000Z',
    })
    // The detail replaces the list's count of attempts with the attempts themselves.
    expect(attempts).toStrictEqual([
      {
        number: 1,
        trigger: 'auto',
        started_at: '2026-03-01T12:00:00.000Z',
        duration_ms: expect.any(Number),
        status_code: 503,
        error: 'http_5xx',
        response_excerpt: 'busy, try later',
      },
      {
        number: 2,
        trigger: 'auto',
        started_at: '2026-03-01T12:00:10.000Z',
        duration_ms: expect.any(Number),
        status_code: 200,
        error: null,
        response_excerpt: 'answered 200',
      },
    ])
  })

  it('refuses to redeliver a delivery that is being sent', async () => {
    t = await notifyFixture()
    await ingest(t.gw, t.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    t.receiver.setDefault({ status: 200, delayMs: 300 })
    await t.notifier.kick()
    const [d] = await deliveryRows(t.gw)
    expect(d?.status).toBe('delivering')
    const response = await t.gw.admin(`/deliveries/${d?.id}/redeliver`, { method: 'POST' })
    expect(response.status).toBe(409)
    await t.notifier.drain()
  })
})
