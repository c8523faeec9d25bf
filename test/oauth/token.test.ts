import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { schema } from '../../src/db/index.ts'
import { addClient, addUser, createTestGateway, ISSUER, type TestGateway } from '../helpers/app.ts'
import { authorizeInBrowser, type OAuthFixture, oauthFixture } from '../helpers/oauth.ts'

let gw: TestGateway
let fx: OAuthFixture
beforeEach(async () => {
  gw = createTestGateway()
  fx = await oauthFixture(
    gw,
    () => addClient(gw),
    () => addUser(gw),
  )
})
afterEach(() => gw.close())

const json = async (r: Response) => ({ status: r.status, body: await r.json() })

describe('authorization codes', () => {
  it('are single-use, and a replay revokes every token issued from the code', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    const first = await json(await fx.exchange(flow))
    expect(first.status).toBe(200)
    const refreshed = await json(await fx.refresh(first.body.refresh_token))
    expect(refreshed.status).toBe(200)

    expect(await json(await fx.exchange(flow))).toStrictEqual({
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description:
          'The authorization code was already used; tokens issued from it are revoked.',
      },
    })
    for (const token of [
      first.body.access_token,
      first.body.refresh_token,
      refreshed.body.access_token,
      refreshed.body.refresh_token,
    ]) {
      expect(await fx.introspect(token)).toStrictEqual({ active: false })
    }
  })

  it('expire after 60 seconds', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    gw.clock.advance(60_001)
    expect(await json(await fx.exchange(flow))).toStrictEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'The authorization code has expired.' },
    })
  })

  it('still work just inside 60 seconds', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    gw.clock.advance(59_000)
    expect((await fx.exchange(flow)).status).toBe(200)
  })

  it('are bound to the redirect_uri', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    const r = await json(
      await fx.exchange(flow, { redirect_uri: 'https://app.example.test/other' }),
    )
    expect(r.body.error).toBe('invalid_grant')
  })

  it('are bound to the client they were issued to', async () => {
    const other = await addClient(gw, { name: 'Other app' })
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    const response = await gw.fetch(`${ISSUER}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: flow.callbackUrl.searchParams.get('code') as string,
        redirect_uri: fx.client.redirectUri,
        code_verifier: flow.verifier,
        client_id: other.clientId,
        client_secret: other.clientSecret,
      }),
    })
    expect((await json(response)).body.error).toBe('invalid_grant')
    // The rightful client can still use it.
    expect((await fx.exchange(flow)).status).toBe(200)
  })

  it('carry the user id and the granted scope into the token response, uncached', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, { untick: ['sleep:read'] })
    const response = await fx.exchange(flow)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('pragma')).toBe('no-cache')
    const body = await response.json()
    expect(body).toStrictEqual({
      access_token: expect.stringMatching(/^pga_[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^pgr_[A-Za-z0-9_-]{43}$/),
      scope: 'activity:read daily:read',
      user_id: fx.user.userId,
    })
  })

  it('are stored only as hashes, as are tokens, sessions and client secrets', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    const tokens = await (await fx.exchange(flow)).json()
    const dump = JSON.stringify([
      await gw.deps.db.select().from(schema.tokens).all(),
      await gw.deps.db.select().from(schema.authorizationCodes).all(),
      await gw.deps.db.select().from(schema.clients).all(),
      await gw.deps.db.select().from(schema.sessions).all(),
      await gw.deps.db.select().from(schema.users).all(),
    ])
    for (const secret of [
      tokens.access_token,
      tokens.refresh_token,
      flow.callbackUrl.searchParams.get('code') as string,
      fx.client.clientSecret,
      fx.user.password,
    ]) {
      expect(dump).not.toContain(secret)
    }
  })
})

describe('client authentication', () => {
  const tokenRequest = (headers: Record<string, string>, body: Record<string, string>) =>
    gw.fetch(`${ISSUER}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body),
    })

  it('answers a wrong Basic secret with 401 invalid_client and a Basic challenge', async () => {
    const response = await tokenRequest(
      { authorization: `Basic ${btoa(`${fx.client.clientId}:wrong`)}` },
      { grant_type: 'refresh_token', refresh_token: 'x' },
    )
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="partner-gateway"/)
    expect(await response.json()).toStrictEqual({
      error: 'invalid_client',
      error_description: 'Client authentication failed.',
    })
  })

  it('answers a wrong client_secret_post with 401 invalid_client', async () => {
    const response = await tokenRequest(
      {},
      {
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: fx.client.clientId,
        client_secret: 'wrong',
      },
    )
    expect(response.status).toBe(401)
    expect((await response.json()).error).toBe('invalid_client')
  })

  it('answers an unknown client the same way as a wrong secret', async () => {
    const response = await tokenRequest(
      { authorization: `Basic ${btoa('nobody:wrong')}` },
      { grant_type: 'refresh_token', refresh_token: 'x' },
    )
    expect(response.status).toBe(401)
    expect(await response.json()).toStrictEqual({
      error: 'invalid_client',
      error_description: 'Client authentication failed.',
    })
  })

  it('requires client authentication at all (no public clients)', async () => {
    const response = await tokenRequest(
      {},
      { grant_type: 'refresh_token', refresh_token: 'x', client_id: fx.client.clientId },
    )
    expect(response.status).toBe(401)
    expect((await response.json()).error).toBe('invalid_client')
  })

  it('refuses two authentication methods in one request', async () => {
    const response = await tokenRequest(
      { authorization: `Basic ${btoa(`${fx.client.clientId}:${fx.client.clientSecret}`)}` },
      { grant_type: 'refresh_token', refresh_token: 'x', client_secret: fx.client.clientSecret },
    )
    expect((await json(response)).body.error).toBe('invalid_request')
  })

  it('accepts client_secret_post', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    const response = await tokenRequest(
      {},
      {
        grant_type: 'authorization_code',
        code: flow.callbackUrl.searchParams.get('code') as string,
        redirect_uri: fx.client.redirectUri,
        code_verifier: flow.verifier,
        client_id: fx.client.clientId,
        client_secret: fx.client.clientSecret,
      },
    )
    expect(response.status).toBe(200)
  })
})

describe('refresh tokens', () => {
  it('rotate: each refresh returns a new refresh token', async () => {
    const t0 = await fx.connect()
    const t1 = (await json(await fx.refresh(t0.refresh_token as string))).body
    expect(t1.refresh_token).not.toBe(t0.refresh_token)
    expect(t1).toMatchObject({ token_type: 'Bearer', scope: t0.scope, user_id: fx.user.userId })
    const t2 = await json(await fx.refresh(t1.refresh_token))
    expect(t2.status).toBe(200)
  })

  it('allow the previous refresh token again inside the grace window (concurrent refreshers)', async () => {
    const t0 = await fx.connect()
    const a = await json(await fx.refresh(t0.refresh_token as string))
    gw.clock.advance(59_000)
    const b = await json(await fx.refresh(t0.refresh_token as string))
    expect(a.status).toBe(200)
    expect(b.status).toBe(200)
    expect(await fx.introspect(a.body.access_token)).toMatchObject({ active: true })
    expect(await fx.introspect(b.body.access_token)).toMatchObject({ active: true })
  })

  it('treat reuse after the grace window as a replay: invalid_grant and the whole grant revoked', async () => {
    const t0 = await fx.connect()
    const t1 = (await json(await fx.refresh(t0.refresh_token as string))).body
    gw.clock.advance(61_000)
    expect(await json(await fx.refresh(t0.refresh_token as string))).toStrictEqual({
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description:
          'The refresh token was already used; the grant has been revoked. The user must authorize again.',
      },
    })
    expect(await fx.introspect(t1.access_token)).toStrictEqual({ active: false })
    expect((await json(await fx.refresh(t1.refresh_token))).body.error).toBe('invalid_grant')
    // The consent is gone too: the next authorization shows the consent screen again.
    const again = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, { agent: t0.flow.agent })
    expect(again.sawConsent).toBe(true)
  })

  it('may narrow the scope but never widen it', async () => {
    const t0 = await fx.connect({ scope: 'sleep:read activity:read' })
    const narrow = await json(await fx.refresh(t0.refresh_token as string, { scope: 'sleep:read' }))
    expect(narrow.body.scope).toBe('sleep:read')
    const widen = await json(
      await fx.refresh(narrow.body.refresh_token, { scope: 'sleep:read activity:read' }),
    )
    expect(widen).toStrictEqual({
      status: 400,
      body: {
        error: 'invalid_scope',
        error_description: 'The requested scope exceeds the original grant: activity:read.',
      },
    })
    const unknown = await json(
      await fx.refresh(narrow.body.refresh_token, { scope: 'sleep:read daily:read' }),
    )
    expect(unknown.body.error).toBe('invalid_scope')
  })

  it('are bound to their client', async () => {
    const other = await addClient(gw, { name: 'Other' })
    const t0 = await fx.connect()
    const response = await gw.fetch(`${ISSUER}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: t0.refresh_token as string,
        client_id: other.clientId,
        client_secret: other.clientSecret,
      }),
    })
    expect((await json(response)).body.error).toBe('invalid_grant')
    expect((await fx.refresh(t0.refresh_token as string)).status).toBe(200)
  })

  it('do not work in place of an access token, nor the other way round', async () => {
    const t0 = await fx.connect()
    expect((await json(await fx.refresh(t0.access_token))).body.error).toBe('invalid_grant')
  })
})

describe('revocation (RFC 7009)', () => {
  const revoke = (token: string, client = fx.client, hint?: string) =>
    gw.fetch(`${ISSUER}/oauth/revoke`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${client.clientId}:${client.clientSecret}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token, ...(hint ? { token_type_hint: hint } : {}) }),
    })

  it('cascades from a refresh token to every token of its authorization', async () => {
    const t0 = await fx.connect()
    const t1 = (await json(await fx.refresh(t0.refresh_token as string))).body
    const response = await revoke(t0.refresh_token as string, fx.client, 'access_token')
    expect(response.status).toBe(200)
    for (const token of [t0.access_token, t1.access_token, t1.refresh_token]) {
      expect(await fx.introspect(token)).toStrictEqual({ active: false })
    }
  })

  it('revokes only the access token when given one', async () => {
    const t0 = await fx.connect()
    await revoke(t0.access_token)
    expect(await fx.introspect(t0.access_token)).toStrictEqual({ active: false })
    expect((await fx.refresh(t0.refresh_token as string)).status).toBe(200)
  })

  it('answers 200 for unknown tokens and ignores tokens of other clients', async () => {
    const other = await addClient(gw, { name: 'Other' })
    const t0 = await fx.connect()
    expect((await revoke('pga_nonsense')).status).toBe(200)
    expect((await revoke(t0.access_token, other)).status).toBe(200)
    expect(await fx.introspect(t0.access_token)).toMatchObject({ active: true })
  })
})

describe('introspection (RFC 7662)', () => {
  it('describes an active access token', async () => {
    const t0 = await fx.connect({ untick: ['daily:read'] })
    expect(await fx.introspect(t0.access_token)).toStrictEqual({
      active: true,
      scope: 'sleep:read activity:read',
      client_id: fx.client.clientId,
      token_type: 'Bearer',
      exp: Math.floor(gw.clock.ms / 1000) + 3600,
      iat: Math.floor(gw.clock.ms / 1000),
      sub: fx.user.userId,
      user_id: fx.user.userId,
      iss: ISSUER,
    })
  })

  it('is exactly {"active":false} for expired, unknown and foreign tokens', async () => {
    const other = await addClient(gw, { name: 'Other' })
    const t0 = await fx.connect()
    expect(await fx.introspect(t0.access_token, other)).toStrictEqual({ active: false })
    expect(await fx.introspect('pga_unknown')).toStrictEqual({ active: false })
    gw.clock.advance(3600_000)
    expect(await fx.introspect(t0.access_token)).toStrictEqual({ active: false })
    expect(await fx.introspect(t0.refresh_token as string)).toMatchObject({ active: true })
  })

  it('requires client authentication', async () => {
    const response = await gw.fetch(`${ISSUER}/oauth/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=abc',
    })
    expect(response.status).toBe(401)
  })
})

describe('bad input at the token endpoint gets the RFC 6749 error, never a 500', () => {
  const basic = () => `Basic ${btoa(`${fx.client.clientId}:${fx.client.clientSecret}`)}`
  const send = (init: RequestInit) => gw.fetch(`${ISSUER}/oauth/token`, { method: 'POST', ...init })

  it.each([
    [
      'JSON instead of a form',
      { 'content-type': 'application/json' },
      '{"grant_type":"refresh_token"}',
      400,
      'invalid_request',
    ],
    ['no content type', {}, 'grant_type=refresh_token', 400, 'invalid_request'],
    [
      'a repeated parameter',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'grant_type=refresh_token&refresh_token=a&refresh_token=b',
      400,
      'invalid_request',
    ],
    [
      'an unknown grant type',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'grant_type=password&username=a&password=b',
      400,
      'unsupported_grant_type',
    ],
    [
      'client_credentials',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'grant_type=client_credentials',
      400,
      'unsupported_grant_type',
    ],
    [
      'no grant type',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'code=abc',
      400,
      'invalid_request',
    ],
    [
      'no code',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'grant_type=authorization_code&redirect_uri=x',
      400,
      'invalid_request',
    ],
    [
      'an oversized body',
      { 'content-type': 'application/x-www-form-urlencoded' },
      `grant_type=refresh_token&refresh_token=${'a'.repeat(20_000)}`,
      413,
      'invalid_request',
    ],
    [
      'malformed percent-encoding',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'grant_type=refresh_token&refresh_token=%E0%A4%A',
      400,
      'invalid_grant',
    ],
  ])('%s', async (_, headers, body, status, error) => {
    const response = await send({ headers: { authorization: basic(), ...headers }, body })
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect((await response.json()).error).toBe(error)
  })

  it('refuses GET', async () => {
    const response = await gw.fetch(`${ISSUER}/oauth/token`)
    expect(response.status).toBe(404)
  })
})
