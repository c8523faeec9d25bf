import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_USERS, demoClientSecret, demoUserId, demoWebhookSecret } from '../../src/mock/demo.ts'
import { type MockProvider, startMockProvider } from '../../src/testing.ts'

/*
 * `partner-gateway/testing` from the outside: everything below goes over real HTTP to the
 * in-process gateway, the way a user's test would.
 */

const http = { [oauth.allowInsecureRequests]: true }
const CALLBACK = 'http://localhost:3000/callback'

/** An access token for a demo user, through discovery, authorize (auto-consent) and token. */
async function accessToken(provider: MockProvider, email: string, scope: string): Promise<string> {
  const issuer = new URL(provider.issuer)
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...http, algorithm: 'oauth2' }),
  )
  const client = { client_id: provider.client.id }
  const verifier = oauth.generateRandomCodeVerifier()
  const url = new URL(String(as.authorization_endpoint))
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: CALLBACK,
    scope,
    state: 's',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    login_hint: email,
  }).toString()
  const redirect = await fetch(url, { redirect: 'manual' })
  const params = oauth.validateAuthResponse(
    as,
    client,
    new URL(String(redirect.headers.get('location'))),
    's',
  )
  const tokens = await oauth.processAuthorizationCodeResponse(
    as,
    client,
    await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(provider.client.secret),
      params,
      CALLBACK,
      verifier,
      http,
    ),
  )
  return tokens.access_token
}

function admin(provider: MockProvider, path: string, init: RequestInit = {}) {
  return fetch(`${provider.issuer}/admin/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${provider.adminKey}`, ...init.headers },
  })
}

describe('startMockProvider', () => {
  let provider: MockProvider
  beforeAll(async () => {
    provider = await startMockProvider({ days: 2, database: 'temp-file' })
  })
  afterAll(() => provider?.close())

  it('serves a seeded mock provider on a free port, issuer included', async () => {
    expect(provider.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(provider.issuer).not.toBe('http://127.0.0.1:8787')
    const metadata = await fetch(`${provider.issuer}/.well-known/oauth-authorization-server`)
    expect(metadata.status).toBe(200)
    expect((await metadata.json()).issuer).toBe(provider.issuer)
  })

  it('returns the demo client and users with their real credentials', async () => {
    expect(provider.client).toStrictEqual({
      id: 'demo-terra-client',
      secret: await demoClientSecret(1),
      webhookSecret: await demoWebhookSecret(1),
      redirectUris: [`${provider.issuer}/demo/callback`, CALLBACK],
    })
    expect(provider.users).toStrictEqual(
      await Promise.all(
        DEMO_USERS.map(async (u) => ({
          email: u.email,
          password: 'mockwear-demo',
          userId: await demoUserId(1, u.email),
          timezone: u.timezone,
          displayName: u.displayName,
        })),
      ),
    )
    // The admin key opens the admin API, and only it.
    const [first] = provider.users
    const user = await admin(provider, `/users/${first?.userId}`)
    expect(user.status).toBe(200)
    expect((await user.json()).email).toBe(first?.email)
    const refused = await fetch(`${provider.issuer}/admin/v1/users/${first?.userId}`, {
      headers: { authorization: 'Bearer not-the-admin-key-0123456789' },
    })
    expect(refused.status).toBe(401)
  })

  it('seeds `days` days of data per user into a temporary SQLite file', () => {
    expect(provider.databasePath).toMatch(/partner-gateway-[^/]+\/gateway\.sqlite$/)
    const db = new Database(provider.databasePath, { readonly: true })
    try {
      const dailies = db
        .prepare("SELECT user_id, COUNT(*) AS n FROM records WHERE type = 'daily' GROUP BY user_id")
        .all() as { user_id: string; n: number }[]
      expect(new Map(dailies.map((d) => [d.user_id, d.n]))).toStrictEqual(
        new Map(provider.users.map((u) => [u.userId, 2])),
      )
    } finally {
      db.close()
    }
  })

  it('sync() runs a device sync through the admin API and reports the counts', async () => {
    const [alice] = provider.users
    const counts = await provider.sync(alice?.userId)
    expect(counts).toStrictEqual({
      users: 1,
      received: expect.any(Number),
      inserted: expect.any(Number),
      updated: expect.any(Number),
      unchanged: expect.any(Number),
      events: expect.any(Number),
    })
    expect(counts.received).toBe(counts.inserted + counts.updated + counts.unchanged)
    // Today's daily summary carries the sync instant, so a sync always changes something.
    expect(counts.updated + counts.inserted).toBeGreaterThan(0)
    expect((await provider.sync()).users).toBe(4)
    await expect(provider.sync('no-such-user')).rejects.toThrow(
      /POST \/admin\/v1\/mock\/sync answered 404: .*There is no user no-such-user/,
    )
  })

  it('fault() arms a fault the data API answers with, clearFaults() disarms', async () => {
    const [, kenji] = provider.users
    const token = await accessToken(provider, String(kenji?.email), 'sleep:read')
    const pull = () =>
      fetch(`${provider.issuer}/v1/sleep?start_date=${Math.floor(Date.now() / 1000) - 86400}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    expect(await provider.fault({ target: 'data', status: 503, count: 2 })).toStrictEqual({
      id: expect.any(Number),
      target: 'data',
      status: 503,
      delayMs: 0,
      retryAfter: 1,
      remaining: 2,
    })
    expect((await pull()).status).toBe(503)
    await provider.clearFaults()
    expect(await (await admin(provider, '/mock/faults')).json()).toStrictEqual({ data: [] })
    expect((await pull()).status).toBe(200)
    await expect(provider.fault({ target: 'data' })).rejects.toThrow(
      /answered 400: .*give a status to fail with, a delay_ms to stall for, or both/,
    )
  })

  it('receiveWebhooks() registers a receiver, which verifies and records what arrives', async () => {
    const [alice] = provider.users
    await accessToken(provider, String(alice?.email), 'daily:read')
    const webhooks = await provider.receiveWebhooks()
    expect(webhooks.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks\/terra$/)
    const client = async () =>
      (await (await admin(provider, `/clients/${provider.client.id}`)).json()).webhook_url
    expect(await client()).toBe(webhooks.url)

    await provider.sync(alice?.userId)
    const event = await webhooks.waitFor(
      (e) => e.body.type === 'daily' && e.body.user.user_id === alice?.userId,
    )
    expect(event.id).toBe(event.headers['webhook-id'])
    expect(event.id).not.toBe('')
    expect(JSON.parse(event.raw)).toStrictEqual(event.body)
    expect(event.body.data?.length).toBeGreaterThan(0)
    expect(webhooks.events).toContain(event)
    expect(webhooks.rejected).toStrictEqual([])

    // A forged request is refused (401) and kept apart, so waitFor never sees it.
    const forged = await fetch(webhooks.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'terra-signature': `t=1,v1=${'0'.repeat(64)}`,
      },
      body: JSON.stringify({ type: 'sleep', user: { user_id: 'x', provider: 'MOCKWEAR' } }),
    })
    expect(forged.status).toBe(401)
    expect(webhooks.rejected.map((r) => r.reason)).toStrictEqual([
      'no v1 signature matches the webhook secret',
    ])
    await expect(webhooks.waitFor((e) => e.body.user.user_id === 'x', 200)).rejects.toThrow(
      /no matching webhook within 200 ms; received \d+ \(.*daily for .*\); refused 1: no v1 signature matches/,
    )

    // Closing it gives the webhook_url back.
    await webhooks.close()
    expect(await client()).toBe(null)
  })

  it('close() stops the gateway and deletes the temporary database, and may be repeated', async () => {
    const dir = dirname(provider.databasePath)
    expect(existsSync(dir)).toBe(true)
    await provider.close()
    await provider.close()
    expect(existsSync(dir)).toBe(false)
    await expect(
      fetch(`${provider.issuer}/.well-known/oauth-authorization-server`),
    ).rejects.toThrow()
  })
})

describe('startMockProvider options', () => {
  it('runs several providers side by side, each with its own seed and in-memory database', async () => {
    const [a, b] = await Promise.all([
      startMockProvider({ days: 0 }),
      startMockProvider({ days: 0, seed: 7, autoConsent: false }),
    ])
    try {
      expect(a.issuer).not.toBe(b.issuer)
      expect([a.databasePath, b.databasePath]).toStrictEqual([':memory:', ':memory:'])
      expect(a.client.secret).toBe(await demoClientSecret(1))
      expect(b.client.secret).toBe(await demoClientSecret(7))
      expect(b.users[0]?.userId).toBe(await demoUserId(7, 'alice@mockwear.test'))
      // days: 0 seeds nothing; a sync then brings the last days in.
      expect((await b.sync(b.users[0]?.userId)).inserted).toBeGreaterThan(0)
      // Without auto-consent, login_hint leads to the sign-in page.
      const url = new URL(`${b.issuer}/oauth/authorize`)
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: b.client.id,
        redirect_uri: CALLBACK,
        scope: 'sleep:read',
        state: 's',
        code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
        code_challenge_method: 'S256',
        login_hint: 'alice@mockwear.test',
      }).toString()
      const answer = await fetch(url, { redirect: 'manual' })
      expect(answer.headers.get('location')).toMatch(/^\/login\?tx=/)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('refuses an invalid option with a message naming it', async () => {
    await expect(startMockProvider({ days: -1 })).rejects.toThrow(
      'days must be a whole number from 0 to 1826, not -1',
    )
    await expect(startMockProvider({ env: { ACCESS_TOKEN_TTL_SECONDS: '7200' } })).rejects.toThrow(
      /ACCESS_TOKEN_TTL_SECONDS: must be at most 3600/,
    )
  })
})
