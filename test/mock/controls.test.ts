import { afterEach, describe, expect, it } from 'vitest'
import { prepareMock } from '../../src/mock/demo.ts'
import { addClient, addUser, createTestGateway, ISSUER, type TestGateway } from '../helpers/app.ts'
import { pull } from '../helpers/data.ts'
import { authorizationUrl, discover, oauthFixture } from '../helpers/oauth.ts'

let gw: TestGateway | undefined
afterEach(() => gw?.close())

async function mockGateway(env: Record<string, string> = {}) {
  const g = createTestGateway({ env: { MOCK: '1', ...env } })
  gw = g
  const banner = await prepareMock(g.deps)
  const client = {
    clientId: 'demo-terra-client',
    clientSecret: banner.match(/client_secret\s+(\S+)/)?.[1] as string,
    webhookSecret: '',
    redirectUri: `${ISSUER}/demo/callback`,
  }
  const alice = {
    userId: banner.match(/alice@mockwear\.test\s+(\S+)/)?.[1] as string,
    email: 'alice@mockwear.test',
    password: 'mockwear-demo',
  }
  return { g, client, alice }
}

describe('POST /admin/v1/mock/sync', () => {
  it('generates data up to now through the ingest path: new days appear, re-syncs are unchanged', async () => {
    const { g, alice } = await mockGateway()
    const same = await (
      await g.admin('/mock/sync', { method: 'POST', json: { user_id: alice.userId } })
    ).json()
    expect(same).toMatchObject({ users: 1, inserted: 0, updated: 0, events: 0 })
    expect(same.unchanged).toBeGreaterThan(0)
    // A minute later the band has uploaded again: at least today's daily changes, for everyone.
    g.clock.advance(60_000)
    const minute = await (await g.admin('/mock/sync', { method: 'POST' })).json()
    expect(minute.updated).toBeGreaterThanOrEqual(4)
    expect(minute.events).toBe(minute.inserted + minute.updated)
    g.clock.advance(36 * 3600_000)
    const later = await (await g.admin('/mock/sync', { method: 'POST' })).json()
    expect(later.users).toBe(4)
    expect(later.inserted).toBeGreaterThan(4)
    expect(later.events).toBe(later.inserted + later.updated)
  })

  it('404s an unknown user, and refuses a non-JSON body', async () => {
    const { g } = await mockGateway()
    expect(
      (await g.admin('/mock/sync', { method: 'POST', json: { user_id: 'nobody' } })).status,
    ).toBe(404)
    expect(
      (
        await g.admin('/mock/sync', {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: 'x',
        })
      ).status,
    ).toBe(415)
  })
})

describe('fault injection', () => {
  it('fails the next N data requests with the chosen status, then recovers', async () => {
    const { g, client, alice } = await mockGateway()
    const fx = await oauthFixture(
      g,
      async () => client,
      async () => alice,
    )
    const token = (await fx.connect()).access_token
    const armed = await g.admin('/mock/faults', {
      method: 'POST',
      json: { target: 'data', status: 503, count: 2 },
    })
    expect(armed.status).toBe(201)
    expect(await armed.json()).toMatchObject({ target: 'data', status: 503, remaining: 2 })
    const path = '/v1/sleep?start_date=2026-02-01'
    expect((await pull(g, token, path)).status).toBe(503)
    const second = await pull(g, token, path)
    expect(second.status).toBe(503)
    expect(second.response.headers.get('content-type')).toBe('application/problem+json')
    expect((await pull(g, token, path)).status).toBe(200)
  })

  it('answers 429 with Retry-After', async () => {
    const { g, client, alice } = await mockGateway()
    const token = (
      await (
        await oauthFixture(
          g,
          async () => client,
          async () => alice,
        )
      ).connect()
    ).access_token
    await g.admin('/mock/faults', {
      method: 'POST',
      json: { target: 'data', status: 429, retry_after: 7 },
    })
    const r = await pull(g, token, '/v1/daily?start_date=2026-02-01')
    expect(r.status).toBe(429)
    expect(r.response.headers.get('retry-after')).toBe('7')
  })

  it('fails the token endpoint with an OAuth error and the authorize endpoint with a page', async () => {
    const { g, client } = await mockGateway()
    await g.admin('/mock/faults', { method: 'POST', json: { target: 'token', status: 500 } })
    const token = await g.fetch('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=x',
    })
    expect(token.status).toBe(500)
    expect((await token.json()).error).toBe('temporarily_unavailable')
    await g.admin('/mock/faults', { method: 'POST', json: { target: 'authorize', status: 503 } })
    const { url } = await authorizationUrl(await discover(g), client)
    const page = await g.fetch(url.toString())
    expect(page.status).toBe(503)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect((await g.fetch(url.toString())).status).toBe(302)
  })

  it('stalls for delay_ms, then answers normally', async () => {
    const { g } = await mockGateway()
    await g.admin('/mock/faults', { method: 'POST', json: { target: 'token', delay_ms: 300 } })
    const started = Date.now()
    const r = await g.fetch('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=x',
    })
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect(r.status).toBe(401)
  })

  it('lists and clears armed faults; bad requests are 400 problems', async () => {
    const { g } = await mockGateway()
    await g.admin('/mock/faults', {
      method: 'POST',
      json: { target: 'data', status: 500, count: 3 },
    })
    expect((await (await g.admin('/mock/faults')).json()).data).toHaveLength(1)
    expect((await g.admin('/mock/faults', { method: 'DELETE' })).status).toBe(204)
    expect((await (await g.admin('/mock/faults')).json()).data).toStrictEqual([])
    const bad = await g.admin('/mock/faults', {
      method: 'POST',
      json: { target: 'data', status: 418 },
    })
    expect(bad.status).toBe(400)
    expect((await bad.json()).errors[0].path).toBe('status')
    expect(
      (await g.admin('/mock/faults', { method: 'POST', json: { target: 'data' } })).status,
    ).toBe(400)
  })

  it('does not exist outside mock mode', async () => {
    gw = createTestGateway()
    expect(
      (await gw.admin('/mock/faults', { method: 'POST', json: { target: 'data', status: 500 } }))
        .status,
    ).toBe(404)
    expect((await gw.admin('/mock/sync', { method: 'POST' })).status).toBe(404)
  })
})

describe('MOCK_AUTO_CONSENT', () => {
  it('completes an authorization for login_hint without any HTML', async () => {
    const { g, client } = await mockGateway({ MOCK_AUTO_CONSENT: '1' })
    const { url, state } = await authorizationUrl(await discover(g), client, {
      extraParams: { login_hint: 'kenji@mockwear.test' },
    })
    const r = await g.fetch(url.toString())
    expect(r.status).toBe(302)
    const location = new URL(r.headers.get('location') as string)
    expect(location.searchParams.get('code')).toMatch(/^pgc_/)
    expect(location.searchParams.get('state')).toBe(state)
    expect(location.searchParams.get('iss')).toBe(ISSUER)
  })

  it('is off without the flag, and never outside mock mode', async () => {
    const { g, client } = await mockGateway()
    const { url } = await authorizationUrl(await discover(g), client, {
      extraParams: { login_hint: 'kenji@mockwear.test' },
    })
    expect((await g.fetch(url.toString())).headers.get('location')).toMatch(/^\/login\?tx=/)
    gw?.close()
    const prod = createTestGateway({ env: { MOCK: '0', MOCK_AUTO_CONSENT: '1' } })
    gw = prod
    const prodClient = await addClient(prod)
    const user = await addUser(prod)
    const { url: prodUrl } = await authorizationUrl(await discover(prod), prodClient, {
      extraParams: { login_hint: user.email },
    })
    expect((await prod.fetch(prodUrl.toString())).headers.get('location')).toMatch(/^\/login\?tx=/)
  })
})
