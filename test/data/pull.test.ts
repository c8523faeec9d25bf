import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { addClient, addUser, createTestGateway, type TestGateway } from '../helpers/app.ts'
import { activityAt, dailyOn, ingest, pull, sleepAt } from '../helpers/data.ts'
import { type OAuthFixture, oauthFixture } from '../helpers/oauth.ts'
import { loadTerraSchemas, terraSchemasMissingMessage } from '../helpers/terra-schemas.ts'

const terra = loadTerraSchemas()
if (!terra) console.warn(terraSchemasMissingMessage())

let gw: TestGateway
let fx: OAuthFixture
let token: string
beforeEach(async () => {
  gw = createTestGateway({
    env: { RATE_LIMIT_USER_PER_MINUTE: '100000', RATE_LIMIT_CLIENT_PER_MINUTE: '100000' },
  })
  fx = await oauthFixture(
    gw,
    () => addClient(gw),
    () => addUser(gw, { timezone: 'America/New_York' }),
  )
  token = (await fx.connect({ scope: 'sleep:read activity:read daily:read profile:read' }))
    .access_token
})
afterEach(() => gw.close())

/** Nightly sessions at 03:00 UTC on consecutive days. */
function nights(count: number, from = Date.parse('2026-02-01T03:00:00Z'), prefix = 'n') {
  return Array.from({ length: count }, (_, i) =>
    sleepAt(
      `${prefix}${String(i).padStart(3, '0')}`,
      new Date(from + i * 86400_000).toISOString(),
      '-05:00',
    ),
  )
}

describe('authentication and scopes', () => {
  it('answers no token with 401 and a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const response = await gw.fetch('/v1/sleep?start_date=2026-02-01')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="partner-gateway"')
    expect(response.headers.get('content-type')).toBe('application/problem+json')
  })

  it.each([
    ['malformed', 'not a token!'],
    ['unknown', 'pga_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
  ])('answers a %s token with invalid_token', async (_, bad) => {
    const r = await pull(gw, bad, '/v1/sleep?start_date=2026-02-01')
    expect(r.status).toBe(401)
    expect(r.response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="partner-gateway", error="invalid_token"/,
    )
  })

  it('answers an expired token with invalid_token', async () => {
    gw.clock.advance(3600_000)
    const r = await pull(gw, token, '/v1/sleep?start_date=2026-02-01')
    expect(r.status).toBe(401)
    expect(r.response.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('answers a revoked token and a refresh token with invalid_token', async () => {
    const t = await fx.connect()
    await gw.fetch('/oauth/revoke', {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${fx.client.clientId}:${fx.client.clientSecret}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: t.access_token }),
    })
    expect((await pull(gw, t.access_token, '/v1/sleep?start_date=2026-02-01')).status).toBe(401)
    expect(
      (await pull(gw, t.refresh_token as string, '/v1/sleep?start_date=2026-02-01')).status,
    ).toBe(401)
  })

  it('answers a missing scope with 403 insufficient_scope naming the scope', async () => {
    const narrow = (await fx.connect({ scope: 'sleep:read' })).access_token
    expect((await pull(gw, narrow, '/v1/sleep?start_date=2026-02-01')).status).toBe(200)
    const r = await pull(gw, narrow, '/v1/daily?start_date=2026-02-01')
    expect(r.status).toBe(403)
    expect(r.response.headers.get('www-authenticate')).toBe(
      'Bearer realm="partner-gateway", error="insufficient_scope", scope="daily:read"',
    )
  })

  it("never returns another user's records, on any path", async () => {
    const other = await addUser(gw, { timezone: 'America/New_York' })
    await ingest(gw, other.userId, 'sleep', nights(5, undefined, 'zzforeign'))
    await ingest(gw, other.userId, 'activity', [activityAt('zzforeign-a', '2026-02-02T12:00:00Z')])
    await ingest(gw, other.userId, 'daily', [dailyOn('2026-02-02', '-05:00')])
    await ingest(gw, fx.user.userId, 'sleep', nights(3))
    const otherToken = (
      await (
        await oauthFixture(
          gw,
          async () => fx.client,
          async () => other,
        )
      ).connect()
    ).access_token
    const otherPage = await pull(gw, otherToken, '/v1/sleep?start_date=2026-01-01&limit=1')
    for (const path of [
      '/v1/sleep?start_date=2026-01-01',
      '/v1/activity?start_date=2026-01-01',
      '/v1/daily?start_date=2026-01-01',
      '/v1/sleep?updated_since=2020-01-01T00:00:00Z',
      '/v1/sleep?start_date=2026-01-01&with_samples=true&limit=1',
    ]) {
      const r = await pull(gw, token, path)
      expect(r.status).toBe(200)
      expect(r.body.user.user_id).toBe(fx.user.userId)
      expect(r.text).not.toContain('zzforeign')
    }
    // A cursor minted for the other user is refused, not followed.
    const stolen = await pull(
      gw,
      token,
      `/v1/sleep?start_date=2026-01-01&next_token=${otherPage.body.next_token}`,
    )
    expect(stolen.status).toBe(400)
    expect((await pull(gw, token, '/v1/user')).body.user_id).toBe(fx.user.userId)
  })
})

describe('responses', () => {
  it('return the user, type, records and next_token; samples only with with_samples=true', async () => {
    await ingest(gw, fx.user.userId, 'sleep', nights(2))
    const lite = await pull(gw, token, '/v1/sleep?start_date=2026-01-31&end_date=2026-02-28')
    expect(lite.status).toBe(200)
    expect(lite.response.headers.get('content-type')).toBe('application/json')
    expect(Object.keys(lite.body)).toStrictEqual(['user', 'type', 'data', 'next_token'])
    expect(lite.body.user).toStrictEqual({ user_id: fx.user.userId, provider: 'MOCKWEAR' })
    expect(lite.body.type).toBe('sleep')
    expect(lite.body.next_token).toBeNull()
    expect(
      lite.body.data.map((r: { metadata: { summary_id: string } }) => r.metadata.summary_id),
    ).toStrictEqual(['n000', 'n001'])
    expect(lite.text).not.toMatch(/samples/)
    const full = await pull(
      gw,
      token,
      '/v1/sleep?start_date=2026-01-31&end_date=2026-02-28&with_samples=true',
    )
    expect(full.body.data[0].heart_rate_data.detailed.hr_samples.length).toBeGreaterThan(0)
    expect(full.body.data[0].sleep_durations_data.hypnogram_samples.length).toBeGreaterThan(0)
  })

  it.skipIf(!terra)('every record returned validates against Terra\u2019s own schema', async () => {
    await ingest(gw, fx.user.userId, 'sleep', nights(3))
    await ingest(gw, fx.user.userId, 'activity', [
      activityAt('a1', '2026-02-02T12:00:00Z', '-05:00'),
    ])
    await ingest(gw, fx.user.userId, 'daily', [dailyOn('2026-02-02', '-05:00')])
    let checked = 0
    for (const [type, model] of [
      ['sleep', 'Sleep'],
      ['activity', 'Activity'],
      ['daily', 'Daily'],
    ] as const) {
      for (const samples of ['true', 'false']) {
        const r = await pull(gw, token, `/v1/${type}?start_date=2026-01-01&with_samples=${samples}`)
        for (const record of r.body.data) {
          expect(terra?.validate(model, record).errors).toStrictEqual([])
          checked++
        }
      }
    }
    expect(checked).toBe(10)
  })

  it('/v1/user shows the profile only with profile:read', async () => {
    expect((await pull(gw, token, '/v1/user')).body).toStrictEqual({
      user_id: fx.user.userId,
      provider: 'MOCKWEAR',
      timezone: 'America/New_York',
      scopes: ['sleep:read', 'activity:read', 'daily:read', 'profile:read'],
      created_at: new Date(gw.clock.ms).toISOString(),
      email: fx.user.email,
      display_name: null,
    })
    const narrow = (await fx.connect({ scope: 'sleep:read' })).access_token
    expect((await pull(gw, narrow, '/v1/user')).body).toStrictEqual({
      user_id: fx.user.userId,
      provider: 'MOCKWEAR',
      timezone: 'America/New_York',
      scopes: ['sleep:read'],
      created_at: new Date(gw.clock.ms).toISOString(),
    })
  })
})

describe('date ranges in the user\u2019s zone', () => {
  it('treat a date-only range as whole local days, 23 hours on the spring-forward day (New York)', async () => {
    // Local midnight of 2026-03-08 is 05:00Z; of 2026-03-09 it is 04:00Z (clocks went forward).
    await ingest(gw, fx.user.userId, 'sleep', [
      sleepAt('before', '2026-03-08T04:59:59Z', '-05:00'),
      sleepAt('first', '2026-03-08T05:00:00Z', '-05:00'),
      sleepAt('last', '2026-03-09T03:59:59Z', '-04:00'),
      sleepAt('after', '2026-03-09T04:00:00Z', '-04:00'),
    ])
    const r = await pull(gw, token, '/v1/sleep?start_date=2026-03-08&end_date=2026-03-08')
    expect(
      r.body.data.map((d: { metadata: { summary_id: string } }) => d.metadata.summary_id),
    ).toStrictEqual(['first', 'last'])
  })

  it.each([
    ['Asia/Tokyo', '+09:00', '2026-03-07T15:00:00Z', '2026-03-08T15:00:00Z'],
    ['Pacific/Kiritimati', '+14:00', '2026-03-07T10:00:00Z', '2026-03-08T10:00:00Z'],
  ])('in %s a date-only day runs from local midnight to local midnight', async (zone, offset, startUtc, endUtc) => {
    const user = await addUser(gw, { timezone: zone })
    const t = (
      await (
        await oauthFixture(
          gw,
          async () => fx.client,
          async () => user,
        )
      ).connect()
    ).access_token
    const justBefore = new Date(Date.parse(startUtc) - 1000).toISOString()
    const justBeforeEnd = new Date(Date.parse(endUtc) - 1000).toISOString()
    await ingest(gw, user.userId, 'activity', [
      activityAt('before', justBefore, offset),
      activityAt('first', startUtc, offset),
      activityAt('last', justBeforeEnd, offset),
      activityAt('after', endUtc, offset),
    ])
    await ingest(gw, user.userId, 'daily', [
      dailyOn('2026-03-07', offset),
      dailyOn('2026-03-08', offset),
      dailyOn('2026-03-09', offset),
    ])
    const acts = await pull(gw, t, '/v1/activity?start_date=2026-03-08&end_date=2026-03-08')
    expect(
      acts.body.data.map((d: { metadata: { summary_id: string } }) => d.metadata.summary_id),
    ).toStrictEqual(['first', 'last'])
    const days = await pull(gw, t, '/v1/daily?start_date=2026-03-08&end_date=2026-03-08')
    expect(
      days.body.data.map((d: { metadata: { start_time: string } }) => d.metadata.start_time),
    ).toStrictEqual([`2026-03-08T00:00:00.000000${offset}`])
  })

  it('treat date-times as half-open instants, and accept unix seconds', async () => {
    await ingest(gw, fx.user.userId, 'sleep', nights(3))
    const a = await pull(
      gw,
      token,
      '/v1/sleep?start_date=2026-02-01T03:00:00Z&end_date=2026-02-03T03:00:00Z',
    )
    expect(a.body.data).toHaveLength(2)
    const b = await pull(
      gw,
      token,
      `/v1/sleep?start_date=${Date.parse('2026-02-01T03:00:00Z') / 1000}&end_date=${Date.parse('2026-02-03T03:00:01Z') / 1000}`,
    )
    expect(b.body.data).toHaveLength(3)
  })

  it.each([
    ['start after end', 'start_date=2026-03-02&end_date=2026-03-01'],
    ['a span over 1,826 days', 'start_date=2020-01-01&end_date=2026-01-01'],
    ['a bad format', 'start_date=03/01/2026'],
    ['a date-time without offset', 'start_date=2026-03-01T10:00:00'],
    ['no start', 'end_date=2026-03-01'],
    ['limit 0', 'start_date=2026-03-01&limit=0'],
    ['limit 501', 'start_date=2026-03-01&limit=501'],
    ['limit abc', 'start_date=2026-03-01&limit=abc'],
    ['with_samples=yes', 'start_date=2026-03-01&with_samples=yes'],
    ['a tampered next_token', 'start_date=2026-03-01&next_token=eyJtIjoicmFuZ2UifQ.AAAA'],
    ['a repeated parameter', 'start_date=2026-03-01&start_date=2026-03-02'],
    ['a bad updated_since', 'updated_since=yesterday'],
  ])('answer %s with 400 problem+json naming the parameter', async (_, query) => {
    const r = await pull(gw, token, `/v1/sleep?${query}`)
    expect(r.status).toBe(400)
    expect(r.response.headers.get('content-type')).toBe('application/problem+json')
    expect(r.body).toMatchObject({ type: 'about:blank', title: 'Invalid request', status: 400 })
    expect(r.body.errors.length).toBeGreaterThan(0)
  })
})

describe('pagination', () => {
  async function walk(path: string, limit: number, between?: (page: number) => Promise<void>) {
    const seen: string[] = []
    let next: string | null = null
    let page = 0
    do {
      const r = await pull(gw, token, `${path}&limit=${limit}${next ? `&next_token=${next}` : ''}`)
      expect(r.status).toBe(200)
      expect(r.body.data.length).toBeLessThanOrEqual(limit)
      seen.push(
        ...r.body.data.map((d: { metadata: { summary_id: string } }) => d.metadata.summary_id),
      )
      next = r.body.next_token
      await between?.(page++)
    } while (next)
    return seen
  }

  it('walks a range with limit 1…7 without gaps or duplicates', async () => {
    const all = nights(20)
    await ingest(gw, fx.user.userId, 'sleep', all)
    const expected = all.map((s) => s.metadata.summary_id)
    for (let limit = 1; limit <= 7; limit++) {
      expect(await walk('/v1/sleep?start_date=2026-01-01', limit)).toStrictEqual(expected)
    }
  })

  it('orders records with the same start instant by key, across page boundaries', async () => {
    const same = ['c', 'a', 'e', 'b', 'd'].map((id) =>
      activityAt(id, '2026-02-10T12:00:00Z', '-05:00'),
    )
    await ingest(gw, fx.user.userId, 'activity', same)
    for (let limit = 1; limit <= 3; limit++) {
      const seen: string[] = []
      let next: string | null = null
      do {
        const r = await pull(
          gw,
          token,
          `/v1/activity?start_date=2026-02-01&limit=${limit}${next ? `&next_token=${next}` : ''}`,
        )
        seen.push(
          ...r.body.data.map((d: { metadata: { summary_id: string } }) => d.metadata.summary_id),
        )
        next = r.body.next_token
      } while (next)
      expect(seen).toStrictEqual(['a', 'b', 'c', 'd', 'e'])
    }
  })

  it('stays correct while records are ingested between pages', async () => {
    const all = nights(20)
    await ingest(gw, fx.user.userId, 'sleep', all)
    const expected = all.map((s) => s.metadata.summary_id)
    for (let limit = 1; limit <= 7; limit++) {
      let n = 0
      const seen = await walk(
        '/v1/sleep?start_date=2026-01-01&end_date=2026-02-28',
        limit,
        async () => {
          // New nights both inside the walked part (earlier) and ahead of the cursor (later), plus a
          // rewrite of an existing one.
          n++
          const early = sleepAt(
            `x${limit}-${n}-early`,
            `2026-01-0${(n % 9) + 1}T03:00:00Z`,
            '-05:00',
          )
          const rewrite = sleepAt('n010', '2026-02-11T03:00:00Z', '-05:00')
          rewrite.scores = { sleep: n }
          await ingest(gw, fx.user.userId, 'sleep', [early, rewrite])
        },
      )
      const original = seen.filter((id) => id.startsWith('n'))
      expect(original).toStrictEqual(expected)
      expect(new Set(seen).size).toBe(seen.length)
    }
  })

  it('updated_since lists changes oldest first, with deletions in deleted', async () => {
    await ingest(gw, fx.user.userId, 'sleep', nights(3))
    gw.clock.advance(60_000)
    const since = new Date(gw.clock.ms).toISOString()
    const changed = nights(1)[0] as ReturnType<typeof sleepAt>
    changed.scores = { sleep: 77 }
    await ingest(gw, fx.user.userId, 'sleep', [changed])
    await gw.admin(`/users/${fx.user.userId}/sleep/n002`, { method: 'DELETE' })
    const r = await pull(gw, token, `/v1/sleep?updated_since=${since}`)
    expect(
      r.body.data.map((d: { metadata: { summary_id: string } }) => d.metadata.summary_id),
    ).toStrictEqual(['n000'])
    expect(r.body.deleted).toStrictEqual(['n002'])
    expect(Object.keys(r.body)).toStrictEqual(['user', 'type', 'data', 'deleted', 'next_token'])
    // Deleted records are gone from date ranges.
    const range = await pull(gw, token, '/v1/sleep?start_date=2026-01-01')
    expect(
      range.body.data.map((d: { metadata: { summary_id: string } }) => d.metadata.summary_id),
    ).toStrictEqual(['n000', 'n001'])
    // Paged one at a time, the same feed.
    let next: string | null = null
    const ids: string[] = []
    do {
      const p = await pull(
        gw,
        token,
        `/v1/sleep?updated_since=${since}&limit=1${next ? `&next_token=${next}` : ''}`,
      )
      ids.push(
        ...p.body.data.map((d: { metadata: { summary_id: string } }) => d.metadata.summary_id),
        ...p.body.deleted,
      )
      next = p.body.next_token
    } while (next)
    expect(ids).toStrictEqual(['n000', 'n002'])
  })
})

describe('pages larger than one read chunk (streamed)', () => {
  const ids = (body: { data: { metadata: { summary_id: string } }[] }) =>
    body.data.map((d) => d.metadata.summary_id)

  it('stream 120 records in one page, and split 120 over pages of 100 and 20', async () => {
    const all = nights(120, Date.parse('2025-12-01T03:00:00Z'))
    await ingest(gw, fx.user.userId, 'sleep', all)
    const expected = all.map((r) => r.metadata.summary_id)
    const whole = await pull(
      gw,
      token,
      '/v1/sleep?start_date=2025-11-01&end_date=2026-06-30&limit=500&with_samples=true',
    )
    expect(whole.response.headers.get('content-length')).toBeNull()
    expect(ids(whole.body)).toStrictEqual(expected)
    expect(whole.body.next_token).toBeNull()
    const first = await pull(
      gw,
      token,
      '/v1/sleep?start_date=2025-11-01&end_date=2026-06-30&limit=100',
    )
    expect(ids(first.body)).toStrictEqual(expected.slice(0, 100))
    const second = await pull(
      gw,
      token,
      `/v1/sleep?start_date=2025-11-01&end_date=2026-06-30&limit=100&next_token=${first.body.next_token}`,
    )
    expect(ids(second.body)).toStrictEqual(expected.slice(100))
    expect(second.body.next_token).toBeNull()
  })

  it('stream an updated_since feed with deletions spread over the chunks', async () => {
    const all = nights(130, Date.parse('2025-12-01T03:00:00Z'))
    await ingest(gw, fx.user.userId, 'sleep', all)
    const gone = ['n010', 'n060', 'n120']
    for (const id of gone)
      await gw.admin(`/users/${fx.user.userId}/sleep/${id}`, { method: 'DELETE' })
    const r = await pull(gw, token, '/v1/sleep?updated_since=2000-01-01T00:00:00Z&limit=500')
    expect(ids(r.body)).toStrictEqual(
      all.map((x) => x.metadata.summary_id).filter((id) => !gone.includes(id)),
    )
    expect(r.body.deleted).toStrictEqual(gone)
    expect(r.body.next_token).toBeNull()
  })
})

describe('headers on every data answer', () => {
  it('carry the RateLimit headers on 400 and 403 answers too', async () => {
    const narrow = (await fx.connect({ scope: 'sleep:read' })).access_token
    for (const r of [
      await pull(gw, token, '/v1/sleep?start_date=nope'),
      await pull(gw, narrow, '/v1/daily?start_date=2026-01-01'),
    ]) {
      expect([400, 403]).toContain(r.status)
      expect(r.response.headers.get('ratelimit-policy')).toMatch(
        /^"client";q=\d+;w=60, "user";q=\d+;w=60$/,
      )
      expect(r.response.headers.get('ratelimit')).toMatch(
        /^"client";r=\d+;t=\d+, "user";r=\d+;t=\d+$/,
      )
    }
  })

  it('/v1/user is not cached (it may carry the email)', async () => {
    expect((await pull(gw, token, '/v1/user')).response.headers.get('cache-control')).toBe(
      'no-store',
    )
  })

  it('refuses updated_since together with a date range', async () => {
    const r = await pull(
      gw,
      token,
      '/v1/sleep?updated_since=2026-01-01T00:00:00Z&start_date=2026-01-01',
    )
    expect(r.status).toBe(400)
    expect(r.body.errors).toStrictEqual([
      { path: 'updated_since', message: 'cannot be combined with start_date or end_date' },
    ])
  })
})

describe('rate limits', () => {
  it('send RateLimit headers, trip with 429 + Retry-After and recover in the next window', async () => {
    const limited = createTestGateway({ env: { RATE_LIMIT_USER_PER_MINUTE: '3' } })
    try {
      const f = await oauthFixture(
        limited,
        () => addClient(limited),
        () => addUser(limited),
      )
      const t = (await f.connect()).access_token
      limited.clock.ms = Date.parse('2026-03-01T12:00:30Z')
      const first = await pull(limited, t, '/v1/sleep?start_date=2026-02-01')
      expect(first.response.headers.get('ratelimit-policy')).toBe(
        '"client";q=6000;w=60, "user";q=3;w=60',
      )
      expect(first.response.headers.get('ratelimit')).toBe('"client";r=5999;t=30, "user";r=2;t=30')
      await pull(limited, t, '/v1/sleep?start_date=2026-02-01')
      await pull(limited, t, '/v1/sleep?start_date=2026-02-01')
      const fourth = await pull(limited, t, '/v1/sleep?start_date=2026-02-01')
      expect(fourth.status).toBe(429)
      expect(fourth.response.headers.get('retry-after')).toBe('30')
      expect(fourth.body).toMatchObject({ status: 429, title: 'Too Many Requests' })
      limited.clock.advance(30_000)
      expect((await pull(limited, t, '/v1/sleep?start_date=2026-02-01')).status).toBe(200)
    } finally {
      limited.close()
    }
  })
})
