import { eq } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import { hashSecret } from '../../src/crypto.ts'
import { clients, settings, users } from '../../src/db/schema.ts'
import { FormAgent } from '../../src/kit/form-agent.ts'
import {
  DEMO_CLIENT_ID,
  DEMO_PASSWORD,
  DEMO_USERS,
  demoAuthorizeUrl,
  demoClientSecret,
  demoPkce,
  demoUserId,
  prepareMock,
} from '../../src/mock/demo.ts'
import { exchangeCommand, shellQuote } from '../../src/mock/demo-callback.tsx'
import { createTestGateway, ISSUER, type TestGateway } from '../helpers/app.ts'

const opened: TestGateway[] = []
afterEach(() => {
  for (const gw of opened.splice(0)) gw.close()
})

/** A mock-mode gateway on a fresh database, with no ADMIN_API_KEY (so one is generated). */
function mockGateway(seed = '1'): TestGateway {
  const gw = createTestGateway({ env: { MOCK: '1', MOCK_SEED: seed, ADMIN_API_KEY: '' } })
  opened.push(gw)
  return gw
}

async function snapshot(gw: TestGateway) {
  const client = await gw.deps.db.select().from(clients).where(eq(clients.id, DEMO_CLIENT_ID)).get()
  const rows = await gw.deps.db.select({ id: users.id, email: users.email }).from(users).all()
  return {
    secretHash: client?.secretHash,
    redirectUris: client?.redirectUris,
    users: Object.fromEntries(rows.map((r) => [r.email, r.id])),
  }
}

const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`

describe('prepareMock', () => {
  it('is idempotent: a second start changes nothing and prints the same banner', async () => {
    const gw = mockGateway()
    expect(gw.deps.config.adminApiKey).toBeNull()
    const first = await prepareMock(gw.deps)
    const key = gw.deps.config.adminApiKey
    expect(key).toMatch(/^pgadm_[\w-]{43}$/)
    const before = await snapshot(gw)
    // A restart: the key comes back from settings, not from a new draw.
    gw.deps.config.adminApiKey = null
    const second = await prepareMock(gw.deps)
    expect(second).toBe(first)
    expect(gw.deps.config.adminApiKey).toBe(key)
    expect(await snapshot(gw)).toStrictEqual(before)
    expect(await gw.deps.db.select().from(clients).all()).toHaveLength(1)
    expect(await gw.deps.db.select().from(users).all()).toHaveLength(DEMO_USERS.length)
    expect(await gw.deps.db.select().from(settings).all()).toStrictEqual([
      { key: 'mock_admin_key', value: key },
      { key: 'mock_seeded_at', value: new Date(gw.clock.ms).toISOString() },
    ])
  })

  it('derives the client secret and user ids from MOCK_SEED alone', async () => {
    const a = mockGateway('1')
    const b = mockGateway('1')
    const c = mockGateway('2')
    for (const gw of [a, b, c]) await prepareMock(gw.deps)
    const [sa, sb, sc] = await Promise.all([snapshot(a), snapshot(b), snapshot(c)])
    expect(sb).toStrictEqual(sa)
    expect(sa.secretHash).toBe(await hashSecret(await demoClientSecret(1)))
    expect(sa.users).toStrictEqual(
      Object.fromEntries(
        await Promise.all(DEMO_USERS.map(async (u) => [u.email, await demoUserId(1, u.email)])),
      ),
    )
    expect(sc.secretHash).not.toBe(sa.secretHash)
    expect(await demoClientSecret(2)).not.toBe(await demoClientSecret(1))
    for (const u of DEMO_USERS) expect(sc.users[u.email]).not.toBe(sa.users[u.email])
    // Admin keys are random per database.
    expect(a.deps.config.adminApiKey).not.toBe(b.deps.config.adminApiKey)
    expect(await demoUserId(1, 'alice@mockwear.test')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
  })

  it('keeps an ADMIN_API_KEY from the environment and does not print it', async () => {
    const gw = createTestGateway({ env: { MOCK: '1' } })
    opened.push(gw)
    const configured = gw.deps.config.adminApiKey as string
    const banner = await prepareMock(gw.deps)
    expect(gw.deps.config.adminApiKey).toBe(configured)
    expect(banner).not.toContain(configured)
    expect(banner).toContain('(set by ADMIN_API_KEY)')
    const stored = await gw.deps.db.select().from(settings).all()
    expect(stored.filter((row) => row.key === 'mock_admin_key')).toStrictEqual([])
  })

  it('brings an existing demo client in line with a new seed and issuer, keeping added redirect URIs', async () => {
    const gw = mockGateway('1')
    await prepareMock(gw.deps)
    const before = await snapshot(gw)
    await gw.deps.db
      .update(clients)
      .set({ redirectUris: ['https://added.example/cb'] })
      .where(eq(clients.id, DEMO_CLIENT_ID))
    gw.deps.config.mockSeed = 2
    await prepareMock(gw.deps)
    const after = await snapshot(gw)
    expect(after.secretHash).toBe(await hashSecret(await demoClientSecret(2)))
    expect(after.redirectUris).toStrictEqual([
      `${ISSUER}/demo/callback`,
      'http://localhost:3000/callback',
      'https://added.example/cb',
    ])
    // Existing accounts keep their ids.
    expect(after.users).toStrictEqual(before.users)
  })

  it('prints everything a newcomer needs in the banner', async () => {
    const gw = mockGateway('1')
    const banner = await prepareMock(gw.deps)
    const { verifier } = await demoPkce(1)
    const expected = [
      ISSUER,
      `${ISSUER}/docs`,
      `${ISSUER}/account`,
      DEMO_CLIENT_ID,
      await demoClientSecret(1),
      `${ISSUER}/demo/callback`,
      'http://localhost:3000/callback',
      DEMO_PASSWORD,
      gw.deps.config.adminApiKey as string,
      await demoAuthorizeUrl(ISSUER, 1),
      verifier,
      ...DEMO_USERS.flatMap((u) => [u.email, u.timezone]),
      await demoUserId(1, 'alice@mockwear.test'),
    ]
    for (const text of expected) expect(banner).toContain(text)
  })

  it('lets the admin API in with the generated key only after start-up', async () => {
    const gw = mockGateway()
    const list = (key: string) =>
      gw.fetch(`${ISSUER}/admin/v1/clients`, { headers: { authorization: `Bearer ${key}` } })
    expect((await list('anything')).status).toBe(503)
    await prepareMock(gw.deps)
    const response = await list(gw.deps.config.adminApiKey as string)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      data: [{ client_id: DEMO_CLIENT_ID, name: 'Terra (demo)' }],
    })
  })
})

describe('the demo flow and /demo/callback', () => {
  it('takes a newcomer from the banner URL to tokens', async () => {
    const gw = mockGateway('3')
    await prepareMock(gw.deps)
    const alice = DEMO_USERS[0] as (typeof DEMO_USERS)[number]
    const agent = new FormAgent((url, init) => gw.fetch(url, init))
    const start = await demoAuthorizeUrl(ISSUER, 3)
    let { response, url } = await agent.follow(await agent.get(start), start, ISSUER)
    expect(new URL(url).pathname).toBe('/login')
    ;({ response, url } = await agent.follow(
      await agent.submit(await response.text(), url, {
        email: alice.email,
        password: DEMO_PASSWORD,
      }),
      url,
      ISSUER,
    ))
    const consent = await response.text()
    expect(consent).toContain('Terra (demo)')
    ;({ response, url } = await agent.follow(
      await agent.submit(consent, url, {}, { submit: { name: 'decision', value: 'allow' } }),
      url,
      ISSUER,
    ))
    const callback = new URL(url)
    expect(callback.pathname).toBe('/demo/callback')
    expect(callback.searchParams.get('state')).toBe('demo')
    expect(callback.searchParams.get('iss')).toBe(ISSUER)
    const code = callback.searchParams.get('code') as string
    expect(response.status).toBe(200)
    expect(response.headers.get('x-frame-options')).toBe('DENY')
    const page = await response.text()
    const { verifier } = await demoPkce(3)
    const secret = await demoClientSecret(3)
    const command = exchangeCommand({ issuer: ISSUER, clientSecret: secret, code, verifier })
    // JSX escapes the quotes; the command reads the same once unescaped.
    expect(page.replace(/&#39;/g, "'").replace(/&quot;/g, '"')).toContain(command)

    // What the printed command does.
    const token = await gw.fetch(`${ISSUER}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: basic(DEMO_CLIENT_ID, secret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: `${ISSUER}/demo/callback`,
        code_verifier: verifier,
      }).toString(),
    })
    expect(token.status).toBe(200)
    expect(await token.json()).toMatchObject({
      token_type: 'Bearer',
      scope: 'sleep:read activity:read daily:read profile:read',
      user_id: await demoUserId(3, alice.email),
    })
  })

  it('shows an error response, and escapes whatever arrives', async () => {
    const gw = mockGateway()
    await prepareMock(gw.deps)
    const error = await gw.fetch(
      `${ISSUER}/demo/callback?error=access_denied&error_description=The+user+said+no&state=demo&iss=${encodeURIComponent(ISSUER)}`,
    )
    expect(error.status).toBe(200)
    const html = await error.text()
    expect(html).toContain('access_denied')
    expect(html).toContain('The user said no')
    expect(html).not.toContain('curl')

    const hostile = await gw.fetch(
      `${ISSUER}/demo/callback?code=${encodeURIComponent("<script>x</script>'; rm -rf ~")}&iss=https://evil.example`,
    )
    const text = await hostile.text()
    expect(text).not.toContain('<script>x')
    expect(text).toContain('a real client must reject')
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`)
  })

  it('is not there when MOCK=0', async () => {
    const gw = createTestGateway()
    opened.push(gw)
    const response = await gw.fetch(`${ISSUER}/demo/callback?code=abc&state=demo`)
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(await response.json()).toMatchObject({ status: 404, title: 'Not Found' })
  })
})
