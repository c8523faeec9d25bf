import * as oauth from 'oauth4webapi'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FormAgent } from '../../src/kit/form-agent.ts'
import { makeSleep } from '../fixtures/records.ts'
import {
  ADMIN_KEY,
  addClient,
  addUser,
  createTestGateway,
  ISSUER,
  type TestClient,
  type TestGateway,
} from '../helpers/app.ts'
import { activityAt, dailyOn, ingest, sleepAt } from '../helpers/data.ts'
import {
  authorizationUrl,
  authorizeInBrowser,
  clientOptions,
  discover,
  oauthFixture,
} from '../helpers/oauth.ts'
import {
  expectResponseMatchesComponent,
  expectResponseMatchesSpec,
  expectWebhookMatchesSpec,
} from '../helpers/openapi.ts'
import type { Receiver } from '../helpers/receiver.ts'
import {
  deliveryRows,
  type NotifyFixture,
  notifyFixture,
  standardVerifies,
  terraVerifies,
} from '../notify/harness.ts'

/*
 * Real answers, from a real flow, checked against openapi.yaml: status documented, body valid
 * against its schema, documented headers present and well-formed.
 */

function form(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  }
}

function basic(id: string, secret: string): Record<string, string> {
  return {
    authorization: `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`,
  }
}

describe('OAuth responses match openapi.yaml', () => {
  let gw: TestGateway
  let client: TestClient
  let user: Awaited<ReturnType<typeof addUser>>
  let as: oauth.AuthorizationServer
  beforeAll(async () => {
    gw = createTestGateway()
    client = await addClient(gw)
    user = await addUser(gw)
    as = await discover(gw)
  })
  afterAll(() => gw.close())

  it('metadata', async () => {
    const path = '/.well-known/oauth-authorization-server'
    const body = await expectResponseMatchesSpec('GET', path, await gw.fetch(path))
    expect(body).toMatchObject({ issuer: ISSUER, code_challenge_methods_supported: ['S256'] })
  })

  it('token: success, then invalid_grant for the replayed code, and invalid_client', async () => {
    const oClient: oauth.Client = { client_id: client.clientId }
    const flow = await authorizeInBrowser(gw, as, client, user)
    const params = oauth.validateAuthResponse(as, oClient, flow.callbackUrl, flow.state)
    const exchange = {
      grant_type: 'authorization_code',
      code: params.get('code') as string,
      redirect_uri: client.redirectUri,
      code_verifier: flow.verifier,
    }

    const ok = await gw.fetch(
      '/oauth/token',
      form(exchange, basic(client.clientId, client.clientSecret)),
    )
    expect(ok.status).toBe(200)
    const tokens = await expectResponseMatchesSpec('POST', '/oauth/token', ok)
    expect(tokens).toMatchObject({ token_type: 'Bearer', user_id: user.userId, expires_in: 3600 })

    const replay = await gw.fetch(
      '/oauth/token',
      form(exchange, basic(client.clientId, client.clientSecret)),
    )
    expect(replay.status).toBe(400)
    expect(await expectResponseMatchesSpec('POST', '/oauth/token', replay)).toMatchObject({
      error: 'invalid_grant',
    })

    const wrongBasic = await gw.fetch(
      '/oauth/token',
      form(exchange, basic(client.clientId, 'wrong')),
    )
    expect(wrongBasic.status).toBe(401)
    expect(wrongBasic.headers.get('www-authenticate')).toMatch(/^Basic /)
    expect(await expectResponseMatchesSpec('POST', '/oauth/token', wrongBasic)).toStrictEqual({
      error: 'invalid_client',
      error_description: 'Client authentication failed.',
    })

    const wrongPost = await gw.fetch(
      '/oauth/token',
      form({ ...exchange, client_id: client.clientId, client_secret: 'wrong' }),
    )
    expect(wrongPost.status).toBe(401)
    expect(wrongPost.headers.get('www-authenticate')).toBeNull()
    await expectResponseMatchesSpec('POST', '/oauth/token', wrongPost)

    const unsupported = await gw.fetch(
      '/oauth/token',
      form({ grant_type: 'client_credentials' }, basic(client.clientId, client.clientSecret)),
    )
    expect(unsupported.status).toBe(400)
    await expectResponseMatchesSpec('POST', '/oauth/token', unsupported)

    const tooLarge = await gw.fetch(
      '/oauth/token',
      form(
        { grant_type: 'refresh_token', refresh_token: 'x'.repeat(20_000) },
        basic(client.clientId, client.clientSecret),
      ),
    )
    expect(tooLarge.status).toBe(413)
    await expectResponseMatchesSpec('POST', '/oauth/token', tooLarge)
  })

  it('introspect (active and inactive) and revoke', async () => {
    const oClient: oauth.Client = { client_id: client.clientId }
    const auth = oauth.ClientSecretBasic(client.clientSecret)
    const flow = await authorizeInBrowser(gw, as, client, user)
    const params = oauth.validateAuthResponse(as, oClient, flow.callbackUrl, flow.state)
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      oClient,
      await oauth.authorizationCodeGrantRequest(
        as,
        oClient,
        auth,
        params,
        client.redirectUri,
        flow.verifier,
        clientOptions(gw),
      ),
    )
    const credentials = basic(client.clientId, client.clientSecret)

    const active = await gw.fetch(
      '/oauth/introspect',
      form({ token: tokens.access_token }, credentials),
    )
    expect(await expectResponseMatchesSpec('POST', '/oauth/introspect', active)).toMatchObject({
      active: true,
      token_type: 'Bearer',
    })
    const refresh = await gw.fetch(
      '/oauth/introspect',
      form({ token: tokens.refresh_token as string }, credentials),
    )
    expect(await expectResponseMatchesSpec('POST', '/oauth/introspect', refresh)).toMatchObject({
      active: true,
    })

    const revoked = await gw.fetch(
      '/oauth/revoke',
      form({ token: tokens.refresh_token as string }, credentials),
    )
    expect(revoked.status).toBe(200)
    await expectResponseMatchesSpec('POST', '/oauth/revoke', revoked)

    const inactive = await gw.fetch(
      '/oauth/introspect',
      form({ token: tokens.access_token }, credentials),
    )
    expect(await expectResponseMatchesSpec('POST', '/oauth/introspect', inactive)).toStrictEqual({
      active: false,
    })

    const missing = await gw.fetch('/oauth/introspect', form({}, credentials))
    expect(missing.status).toBe(400)
    await expectResponseMatchesSpec('POST', '/oauth/introspect', missing)
  })

  it('problem+json 404s: an unknown path, and the demo callback outside mock mode', async () => {
    const unknown = await gw.fetch('/nowhere')
    expect(unknown.status).toBe(404)
    expect(await expectResponseMatchesComponent('NotFound', unknown)).toMatchObject({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
    })
    const demo = await gw.fetch('/demo/callback?code=x')
    expect(demo.status).toBe(404)
    await expectResponseMatchesSpec('GET', '/demo/callback', demo)
  })

  it('the demo callback page in mock mode', async () => {
    const mock = createTestGateway({ env: { MOCK: '1' } })
    for (const query of [
      '?code=pgc_x&state=s&iss=http%3A%2F%2F127.0.0.1%3A8787',
      '?error=access_denied',
      '',
    ]) {
      const page = await mock.fetch(`/demo/callback${query}`)
      expect(page.status).toBe(200)
      await expectResponseMatchesSpec('GET', '/demo/callback', page)
    }
    mock.close()
  })
})

describe('page responses match openapi.yaml', () => {
  let gw: TestGateway
  let client: TestClient
  let as: oauth.AuthorizationServer
  beforeAll(async () => {
    gw = createTestGateway()
    client = await addClient(gw)
    as = await discover(gw)
  })
  afterAll(() => gw.close())

  it('authorize: the error page, the error redirect and the way to the sign-in page', async () => {
    const { url } = await authorizationUrl(as, client)
    const unknownClient = new URL(url)
    unknownClient.searchParams.set('client_id', 'nobody')
    const page = await gw.fetch(unknownClient)
    expect(page.status).toBe(400)
    await expectResponseMatchesSpec('GET', '/oauth/authorize', page)

    const noPkce = new URL(url)
    noPkce.searchParams.delete('code_challenge')
    const redirect = await gw.fetch(noPkce)
    expect(redirect.status).toBe(302)
    expect(new URL(redirect.headers.get('location') as string).searchParams.get('error')).toBe(
      'invalid_request',
    )
    await expectResponseMatchesSpec('GET', '/oauth/authorize', redirect)

    const toLogin = await gw.fetch(url)
    expect(toLogin.headers.get('location')).toMatch(/^\/login\?tx=/)
    await expectResponseMatchesSpec('GET', '/oauth/authorize', toLogin)
  })

  it('login: the form, a wrong password (401), a foreign CSRF token (403), throttling (429)', async () => {
    const victim = await addUser(gw)
    const agent = new FormAgent((url, init) => gw.fetch(url, init))
    const loginPage = await agent.get(`${ISSUER}/login`)
    expect(loginPage.status).toBe(200)
    await expectResponseMatchesSpec('GET', '/login', loginPage)
    const html = await loginPage.text()

    const wrong = await agent.submit(html, `${ISSUER}/login`, {
      email: victim.email,
      password: 'wrong password',
    })
    expect(wrong.status).toBe(401)
    await expectResponseMatchesSpec('POST', '/login', wrong)

    const stranger = new FormAgent((url, init) => gw.fetch(url, init))
    await stranger.get(`${ISSUER}/login`)
    const csrf = await stranger.submit(html, `${ISSUER}/login`, {
      email: victim.email,
      password: victim.password,
    })
    expect(csrf.status).toBe(403)
    await expectResponseMatchesSpec('POST', '/login', csrf)

    for (let i = 0; i < 4; i++) {
      await agent.submit(html, `${ISSUER}/login`, {
        email: victim.email,
        password: 'wrong password',
      })
    }
    const throttled = await agent.submit(html, `${ISSUER}/login`, {
      email: victim.email,
      password: victim.password,
    })
    expect(throttled.status).toBe(429)
    await expectResponseMatchesSpec('POST', '/login', throttled)
  })

  it('the browser flow step by step: sign-in page, consent, code, skipped consent, disconnect', async () => {
    const person = await addUser(gw)
    const agent = new FormAgent((url, init) => gw.fetch(url, init))
    const { url } = await authorizationUrl(as, client)
    const start = await agent.get(url.toString())
    expect(start.status).toBe(302)
    await expectResponseMatchesSpec('GET', '/oauth/authorize', start)
    const loginUrl = new URL(start.headers.get('location') as string, ISSUER).toString()

    const loginPage = await agent.get(loginUrl)
    expect(loginPage.status).toBe(200)
    await expectResponseMatchesSpec('GET', '/login', loginPage)
    const signedIn = await agent.submit(await loginPage.text(), loginUrl, {
      email: person.email,
      password: person.password,
    })
    expect(signedIn.status).toBe(303)
    await expectResponseMatchesSpec('POST', '/login', signedIn)
    const consentUrl = new URL(signedIn.headers.get('location') as string, ISSUER).toString()

    const again = await agent.get(loginUrl)
    expect(again.status).toBe(302)
    await expectResponseMatchesSpec('GET', '/login', again)

    const consent = await agent.get(consentUrl)
    expect(consent.status).toBe(200)
    await expectResponseMatchesSpec('GET', '/oauth/consent', consent)
    const consentHtml = await consent.text()
    const nothingTicked = await agent.submit(
      consentHtml,
      consentUrl,
      { scope: [] },
      {
        submit: { name: 'decision', value: 'allow' },
      },
    )
    expect(nothingTicked.status).toBe(400)
    await expectResponseMatchesSpec('POST', '/oauth/consent', nothingTicked)
    const allowed = await agent.submit(
      consentHtml,
      consentUrl,
      {},
      { submit: { name: 'decision', value: 'allow' } },
    )
    expect(allowed.status).toBe(303)
    expect(new URL(allowed.headers.get('location') as string).searchParams.get('code')).toMatch(
      /^pgc_/,
    )
    await expectResponseMatchesSpec('POST', '/oauth/consent', allowed)

    // Already granted: straight back with a code, no consent screen.
    const second = await agent.get((await authorizationUrl(as, client)).url.toString())
    expect(second.status).toBe(302)
    expect(new URL(second.headers.get('location') as string).searchParams.get('code')).toMatch(
      /^pgc_/,
    )
    await expectResponseMatchesSpec('GET', '/oauth/authorize', second)

    // New scope: the consent screen at the authorization endpoint itself.
    const more = await agent.get(
      (await authorizationUrl(as, client, { scope: 'profile:read' })).url.toString(),
    )
    expect(more.status).toBe(200)
    await expectResponseMatchesSpec('GET', '/oauth/authorize', more)

    const expired = await agent.get(`${ISSUER}/oauth/consent?tx=unknown`)
    expect(expired.status).toBe(400)
    await expectResponseMatchesSpec('GET', '/oauth/consent', expired)

    const accountHtml = await (await agent.get(`${ISSUER}/account`)).text()
    const disconnected = await agent.submit(
      accountHtml,
      `${ISSUER}/account`,
      {},
      {
        formSelector: 'form[action="/account/disconnect"]',
      },
    )
    expect(disconnected.status).toBe(303)
    await expectResponseMatchesSpec('POST', '/account/disconnect', disconnected)
    const notConnected = await agent.submit(
      accountHtml,
      `${ISSUER}/account`,
      {},
      {
        formSelector: 'form[action="/account/disconnect"]',
      },
    )
    expect(notConnected.status).toBe(404)
    await expectResponseMatchesSpec('POST', '/account/disconnect', notConnected)
  })

  it('signing in, the account page, and signing out', async () => {
    const someone = await addUser(gw)
    const agent = new FormAgent((url, init) => gw.fetch(url, init))
    const html = await (await agent.get(`${ISSUER}/login`)).text()
    const signedIn = await agent.submit(html, `${ISSUER}/login`, {
      email: someone.email,
      password: someone.password,
    })
    expect(signedIn.status).toBe(303)
    await expectResponseMatchesSpec('POST', '/login', signedIn)

    const account = await agent.get(`${ISSUER}/account`)
    expect(account.status).toBe(200)
    await expectResponseMatchesSpec('GET', '/account', account)
    const signedOut = await agent.submit(
      await account.text(),
      `${ISSUER}/account`,
      {},
      {
        formSelector: 'form[action="/logout"]',
      },
    )
    expect(signedOut.status).toBe(303)
    await expectResponseMatchesSpec('POST', '/logout', signedOut)
    const away = await agent.get(`${ISSUER}/account`)
    expect(away.status).toBe(302)
    await expectResponseMatchesSpec('GET', '/account', away)
  })

  it('documentation routes', async () => {
    for (const path of ['/openapi.yaml', '/openapi.json', '/docs']) {
      const response = await gw.fetch(path)
      expect(response.status).toBe(200)
      await expectResponseMatchesSpec('GET', path, response)
    }
  })
})

describe('admin responses match openapi.yaml', () => {
  let gw: TestGateway
  beforeAll(() => {
    gw = createTestGateway()
  })
  afterAll(() => gw.close())

  it('clients: create, list, get, update, rotate both secrets, delete', async () => {
    const created = await gw.admin('/clients', {
      method: 'POST',
      json: {
        name: 'Terra',
        redirect_uris: ['https://app.example.com/callback'],
        webhook_url: null,
      },
    })
    expect(created.status).toBe(201)
    const client = (await expectResponseMatchesSpec('POST', '/admin/v1/clients', created)) as {
      client_id: string
    }
    const at = `/admin/v1/clients/${client.client_id}`

    const list = await gw.admin('/clients?limit=1')
    expect(list.status).toBe(200)
    await expectResponseMatchesSpec('GET', '/admin/v1/clients', list)

    const one = await gw.admin(`/clients/${client.client_id}`)
    expect(await expectResponseMatchesSpec('GET', at, one)).toMatchObject({ name: 'Terra' })

    const patched = await gw.admin(`/clients/${client.client_id}`, {
      method: 'PATCH',
      json: { signature_scheme: 'standard', webhook_status: 'active' },
    })
    expect(patched.status).toBe(200)
    expect(await expectResponseMatchesSpec('PATCH', at, patched)).toMatchObject({
      signature_scheme: 'standard',
      webhook_secret: expect.stringMatching(/^whsec_/),
    })

    for (const which of ['client', 'webhook']) {
      const rotated = await gw.admin(`/clients/${client.client_id}/rotate-secret`, {
        method: 'POST',
        json: { which },
      })
      expect(rotated.status).toBe(200)
      await expectResponseMatchesSpec('POST', `${at}/rotate-secret`, rotated)
    }

    const deleted = await gw.admin(`/clients/${client.client_id}`, { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    await expectResponseMatchesSpec('DELETE', at, deleted)
    const gone = await gw.admin(`/clients/${client.client_id}`)
    expect(gone.status).toBe(404)
    await expectResponseMatchesSpec('GET', at, gone)
  })

  it('clients: 400, 401 and 415', async () => {
    const invalid = await gw.admin('/clients', {
      method: 'POST',
      json: { name: '', redirect_uris: ['http://evil.example.com/cb'], redirect_uri: 'x' },
    })
    expect(invalid.status).toBe(400)
    const problem = (await expectResponseMatchesSpec('POST', '/admin/v1/clients', invalid)) as {
      errors: { path: string }[]
    }
    expect(problem.errors.map((e) => e.path).sort()).toStrictEqual([
      'name',
      'redirect_uri',
      'redirect_uris[0]',
    ])

    const noKey = await gw.fetch('/admin/v1/clients')
    expect(noKey.status).toBe(401)
    await expectResponseMatchesSpec('GET', '/admin/v1/clients', noKey)
    const wrongKey = await gw.fetch('/admin/v1/clients', {
      headers: { authorization: 'Bearer nope' },
    })
    expect(wrongKey.status).toBe(401)
    await expectResponseMatchesSpec('GET', '/admin/v1/clients', wrongKey)

    const notJson = await gw.admin('/clients', { method: 'POST', body: 'name=x' })
    expect(notJson.status).toBe(415)
    await expectResponseMatchesSpec('POST', '/admin/v1/clients', notJson)
  })

  it('users: create, conflict, get, delete', async () => {
    const input = { email: 'ada@example.com', password: 'correct horse', timezone: 'Europe/London' }
    const created = await gw.admin('/users', { method: 'POST', json: input })
    expect(created.status).toBe(201)
    const user = (await expectResponseMatchesSpec('POST', '/admin/v1/users', created)) as {
      user_id: string
    }
    const at = `/admin/v1/users/${user.user_id}`

    const again = await gw.admin('/users', { method: 'POST', json: input })
    expect(again.status).toBe(409)
    await expectResponseMatchesSpec('POST', '/admin/v1/users', again)

    const one = await gw.admin(`/users/${user.user_id}`)
    expect(await expectResponseMatchesSpec('GET', at, one)).toMatchObject({
      email: 'ada@example.com',
      reference: null,
    })

    const deleted = await gw.admin(`/users/${user.user_id}`, { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    await expectResponseMatchesSpec('DELETE', at, deleted)
    const gone = await gw.admin(`/users/${user.user_id}`, { method: 'DELETE' })
    expect(gone.status).toBe(404)
    await expectResponseMatchesSpec('DELETE', at, gone)
  })

  it('ingest: stored, refused records, unknown type, delete', async () => {
    const user = await addUser(gw)
    const at = `/admin/v1/users/${user.userId}/sleep`
    const sleep = makeSleep()
    const stored = await gw.admin(`/users/${user.userId}/sleep`, {
      method: 'PUT',
      json: { data: [sleep] },
    })
    expect(stored.status).toBe(200)
    expect(await expectResponseMatchesSpec('PUT', at, stored)).toStrictEqual({
      received: 1,
      inserted: 1,
      updated: 0,
      unchanged: 0,
      events: 1,
    })

    const refused = await gw.admin(`/users/${user.userId}/sleep`, {
      method: 'PUT',
      json: { data: [{ metadata: {} }] },
    })
    expect(refused.status).toBe(422)
    await expectResponseMatchesSpec('PUT', at, refused)

    const unknownType = await gw.admin(`/users/${user.userId}/steps`, {
      method: 'PUT',
      json: { data: [] },
    })
    expect(unknownType.status).toBe(404)
    await expectResponseMatchesSpec('PUT', `/admin/v1/users/${user.userId}/steps`, unknownType)

    const key = sleep.metadata.summary_id as string
    const deleted = await gw.admin(`/users/${user.userId}/sleep/${encodeURIComponent(key)}`, {
      method: 'DELETE',
    })
    expect(deleted.status).toBe(204)
    await expectResponseMatchesSpec('DELETE', `${at}/${key}`, deleted)
  })
})

/** Every key, at any depth, of a JSON value. */
function keysDeep(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysDeep)
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, child]) => [key, ...keysDeep(child)])
}

describe('data API responses match openapi.yaml', () => {
  let gw: TestGateway
  let userId: string
  let full: string
  let sleepOnly: string
  let refreshToken: string
  const get = (path: string, token?: string) =>
    gw.fetch(path, token ? { headers: { authorization: `Bearer ${token}` } } : {})

  beforeAll(async () => {
    gw = createTestGateway({
      env: { RATE_LIMIT_USER_PER_MINUTE: '100000', RATE_LIMIT_CLIENT_PER_MINUTE: '100000' },
    })
    const fx = await oauthFixture(
      gw,
      () => addClient(gw),
      () => addUser(gw, { timezone: 'America/New_York' }),
    )
    userId = fx.user.userId
    const tokens = await fx.connect({ scope: 'sleep:read activity:read daily:read profile:read' })
    full = tokens.access_token
    refreshToken = tokens.refresh_token
    sleepOnly = (await fx.connect({ scope: 'sleep:read' })).access_token
    const stored = await Promise.all([
      ingest(gw, userId, 'sleep', [
        sleepAt('n1', '2026-02-01T03:00:00Z', '-05:00'),
        sleepAt('n2', '2026-02-02T03:00:00Z', '-05:00'),
        sleepAt('n3', '2026-02-03T03:00:00Z', '-05:00'),
      ]),
      ingest(gw, userId, 'activity', [activityAt('run1', '2026-02-01T12:30:00Z', '-05:00')]),
      ingest(gw, userId, 'daily', [
        dailyOn('2026-02-01', '-05:00'),
        dailyOn('2026-02-02', '-05:00'),
      ]),
    ])
    expect(stored.map((s) => s.status)).toStrictEqual([200, 200, 200])
  })
  afterAll(() => gw.close())

  it('200 by date range, page by page, without and with samples', async () => {
    const first = await get('/v1/sleep?start_date=2026-01-31&end_date=2026-02-28&limit=2', full)
    expect(first.status).toBe(200)
    const page = (await expectResponseMatchesSpec('GET', '/v1/sleep', first)) as {
      data: unknown[]
      next_token: string | null
    }
    expect(page).toMatchObject({ user: { user_id: userId, provider: 'MOCKWEAR' }, type: 'sleep' })
    expect(page.data).toHaveLength(2)
    expect(page).not.toHaveProperty('deleted')
    expect(keysDeep(page).filter((k) => k.includes('samples'))).toStrictEqual([])

    const next = await get(
      `/v1/sleep?limit=2&next_token=${encodeURIComponent(page.next_token as string)}`,
      full,
    )
    expect(await expectResponseMatchesSpec('GET', '/v1/sleep', next)).toMatchObject({
      data: [{ metadata: { summary_id: 'n3' } }],
      next_token: null,
    })

    for (const type of ['sleep', 'activity', 'daily']) {
      const withSamples = await get(`/v1/${type}?start_date=2026-02-01&with_samples=true`, full)
      expect(withSamples.status, type).toBe(200)
      const body = await expectResponseMatchesSpec('GET', `/v1/${type}`, withSamples)
      expect(keysDeep(body).filter((k) => k.includes('samples')).length, type).toBeGreaterThan(0)
      const without = await get(
        `/v1/${type}?start_date=1769904000&end_date=2026-03-01T00:00:00Z`,
        full,
      )
      expect(without.status, type).toBe(200)
      const lite = await expectResponseMatchesSpec('GET', `/v1/${type}`, without)
      expect(
        keysDeep(lite).filter((k) => k.includes('samples')),
        type,
      ).toStrictEqual([])
    }
  })

  it('200 with updated_since: changes oldest first, deleted keys, paged', async () => {
    const removed = await gw.admin(`/users/${userId}/daily/2026-02-01`, { method: 'DELETE' })
    expect(removed.status).toBe(204)
    const first = await get('/v1/daily?updated_since=2026-03-01T00:00:00Z&limit=1', full)
    expect(first.status).toBe(200)
    const page = (await expectResponseMatchesSpec('GET', '/v1/daily', first)) as {
      next_token: string
    }
    expect(page).toMatchObject({
      type: 'daily',
      data: [{ metadata: { start_time: expect.stringMatching(/^2026-02-02/) } }],
      deleted: [],
    })
    const next = await get(`/v1/daily?next_token=${encodeURIComponent(page.next_token)}`, full)
    expect(await expectResponseMatchesSpec('GET', '/v1/daily', next)).toMatchObject({
      data: [],
      deleted: ['2026-02-01'],
      next_token: null,
    })
  })

  it('200 from /v1/user, with and without profile:read', async () => {
    const profile = await get('/v1/user', full)
    expect(profile.status).toBe(200)
    expect(await expectResponseMatchesSpec('GET', '/v1/user', profile)).toMatchObject({
      user_id: userId,
      timezone: 'America/New_York',
      email: expect.any(String),
    })
    const plain = await get('/v1/user', sleepOnly)
    const body = await expectResponseMatchesSpec('GET', '/v1/user', plain)
    expect(body).toMatchObject({ scopes: ['sleep:read'] })
    expect(body).not.toHaveProperty('email')
  })

  it.each([
    ['no start_date', 'limit=5', 'start_date'],
    ['start after end', 'start_date=2026-03-08&end_date=2026-03-01', 'end_date'],
    ['a date-time without an offset', 'start_date=2026-03-08T00:00:00', 'start_date'],
    ['more than 1,826 days', 'start_date=2020-01-01&end_date=2025-01-01', 'end_date'],
    ['limit out of range', 'start_date=2026-02-01&limit=501', 'limit'],
    ['with_samples not true/false', 'start_date=2026-02-01&with_samples=yes', 'with_samples'],
    ['a tampered next_token', 'next_token=eyJtIjoicmFuZ2UifQ.AAAA', 'next_token'],
    ['updated_since as a date', 'updated_since=2026-02-01', 'updated_since'],
    ['a repeated parameter', 'start_date=2026-02-01&start_date=2026-02-02', 'start_date'],
  ])('400 for %s', async (_, query, path) => {
    const response = await get(`/v1/activity?${query}`, full)
    expect(response.status).toBe(400)
    const problem = (await expectResponseMatchesSpec('GET', '/v1/activity', response)) as {
      errors: { path: string }[]
    }
    expect(problem.errors.map((e) => e.path)).toContain(path)
  })

  it('401 without a token, and invalid_token for a malformed, unknown or refresh token', async () => {
    const none = await get('/v1/sleep?start_date=2026-02-01')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="partner-gateway"')
    await expectResponseMatchesSpec('GET', '/v1/sleep', none)
    for (const bad of [
      'not a token!',
      'pga_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      refreshToken,
    ]) {
      const response = await get('/v1/user', bad)
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="partner-gateway", error="invalid_token", error_description="/,
      )
      await expectResponseMatchesSpec('GET', '/v1/user', response)
    }
  })

  it('403 insufficient_scope naming the scope of each endpoint', async () => {
    for (const type of ['activity', 'daily']) {
      const response = await get(`/v1/${type}?start_date=2026-02-01`, sleepOnly)
      expect(response.status).toBe(403)
      await expectResponseMatchesSpec('GET', `/v1/${type}`, response)
    }
    // The documented header of each endpoint names its own scope, so a mix-up fails the check.
    const wrong = new Response(
      '{"type":"about:blank","title":"Forbidden","status":403,"detail":"x"}',
      {
        status: 403,
        headers: {
          'content-type': 'application/problem+json',
          'www-authenticate':
            'Bearer realm="partner-gateway", error="insufficient_scope", scope="daily:read"',
          'ratelimit-policy': '"client";q=6000;w=60, "user";q=600;w=60',
          ratelimit: '"client";r=5999;t=60, "user";r=599;t=60',
        },
      },
    )
    await expect(expectResponseMatchesSpec('GET', '/v1/sleep', wrong)).rejects.toThrow(
      /WWW-Authenticate/,
    )
  })

  it('429 with Retry-After and the RateLimit headers, on the data endpoints and /v1/user', async () => {
    const limited = createTestGateway({ env: { RATE_LIMIT_USER_PER_MINUTE: '2' } })
    try {
      const fx = await oauthFixture(
        limited,
        () => addClient(limited),
        () => addUser(limited),
      )
      const { access_token: token } = await fx.connect()
      const call = (path: string) =>
        limited.fetch(path, { headers: { authorization: `Bearer ${token}` } })
      const ok = await call('/v1/sleep?start_date=2026-02-01')
      expect(ok.status).toBe(200)
      await expectResponseMatchesSpec('GET', '/v1/sleep', ok)
      expect(ok.headers.get('ratelimit-policy')).toBe('"client";q=6000;w=60, "user";q=2;w=60')
      await call('/v1/user')
      for (const path of ['/v1/sleep?start_date=2026-02-01', '/v1/user']) {
        const spent = await call(path)
        expect(spent.status).toBe(429)
        expect(Number(spent.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
        expect(spent.headers.get('ratelimit')).toMatch(/"user";r=0;/)
        await expectResponseMatchesSpec('GET', path.split('?')[0] as string, spent)
      }
    } finally {
      limited.close()
    }
  })
})

describe('mock provider controls match openapi.yaml', () => {
  let gw: TestGateway
  let client: TestClient
  let user: Awaited<ReturnType<typeof addUser>>
  beforeAll(async () => {
    gw = createTestGateway({ env: { MOCK: '1' } })
    client = await addClient(gw)
    user = await addUser(gw)
  })
  afterAll(() => gw.close())
  const sync = (init: RequestInit & { json?: unknown } = {}) =>
    gw.admin('/mock/sync', { method: 'POST', ...init })

  it('sync: one user, everyone (no body), an unknown user, a bad body', async () => {
    const one = await sync({ json: { user_id: user.userId } })
    expect(one.status).toBe(200)
    const counts = (await expectResponseMatchesSpec('POST', '/admin/v1/mock/sync', one)) as {
      users: number
      inserted: number
      events: number
    }
    expect(counts.users).toBe(1)
    expect(counts.inserted).toBeGreaterThan(0)

    const everyone = await sync()
    expect(everyone.status).toBe(200)
    expect(await expectResponseMatchesSpec('POST', '/admin/v1/mock/sync', everyone)).toMatchObject({
      users: 1,
      inserted: 0,
    })

    const unknown = await sync({ json: { user_id: 'nobody' } })
    expect(unknown.status).toBe(404)
    await expectResponseMatchesSpec('POST', '/admin/v1/mock/sync', unknown)
    const extra = await sync({ json: { user: user.userId } })
    expect(extra.status).toBe(400)
    await expectResponseMatchesSpec('POST', '/admin/v1/mock/sync', extra)
    const text = await sync({ headers: { 'content-type': 'text/plain' }, body: 'x' })
    expect(text.status).toBe(415)
    await expectResponseMatchesSpec('POST', '/admin/v1/mock/sync', text)
    const anonymous = await gw.fetch('/admin/v1/mock/sync', { method: 'POST' })
    expect(anonymous.status).toBe(401)
    await expectResponseMatchesSpec('POST', '/admin/v1/mock/sync', anonymous)
  })

  it('faults: arm, list, refuse a bad one, clear', async () => {
    const path = '/admin/v1/mock/faults'
    const armed = await gw.admin('/mock/faults', {
      method: 'POST',
      json: { target: 'token', delay_ms: 10, count: 3 },
    })
    expect(armed.status).toBe(201)
    expect(await expectResponseMatchesSpec('POST', path, armed)).toMatchObject({
      target: 'token',
      status: null,
      delay_ms: 10,
      retry_after: 1,
      remaining: 3,
    })
    const list = await gw.admin('/mock/faults')
    expect(list.status).toBe(200)
    expect(await expectResponseMatchesSpec('GET', path, list)).toMatchObject({
      data: [{ target: 'token' }],
    })
    for (const json of [{ target: 'data', status: 418 }, { target: 'data' }, { target: 'x' }]) {
      const bad = await gw.admin('/mock/faults', { method: 'POST', json })
      expect(bad.status, JSON.stringify(json)).toBe(400)
      await expectResponseMatchesSpec('POST', path, bad)
    }
    const cleared = await gw.admin('/mock/faults', { method: 'DELETE' })
    expect(cleared.status).toBe(204)
    await expectResponseMatchesSpec('DELETE', path, cleared)
    expect(await (await gw.admin('/mock/faults')).json()).toStrictEqual({ data: [] })
  })

  it('injected faults: the data API, the token endpoint and the authorization endpoint', async () => {
    const arm = (json: Record<string, unknown>) =>
      gw.admin('/mock/faults', { method: 'POST', json })
    await arm({ target: 'data', status: 502 })
    // Before the token is checked: no token needed to meet the fault.
    const data = await gw.fetch('/v1/sleep?start_date=2026-02-01')
    expect(data.status).toBe(502)
    await expectResponseMatchesSpec('GET', '/v1/sleep', data)

    await arm({ target: 'data', status: 429, retry_after: 7 })
    const limited = await gw.fetch('/v1/user')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('7')
    // Reported: an injected 429 skips the rate limiter, so it lacks the RateLimit headers the
    // contract puts on every data response (documented as such in DataTooManyRequests).
    await expectResponseMatchesSpec('GET', '/v1/user', limited, {
      knownMissingHeaders: ['RateLimit-Policy', 'RateLimit'],
    })

    const refresh = form(
      { grant_type: 'refresh_token', refresh_token: 'x' },
      basic(client.clientId, client.clientSecret),
    )
    await arm({ target: 'token', status: 504 })
    const token = await gw.fetch('/oauth/token', refresh)
    expect(token.status).toBe(504)
    expect(await expectResponseMatchesSpec('POST', '/oauth/token', token)).toMatchObject({
      error: 'temporarily_unavailable',
    })
    await arm({ target: 'token', status: 429, retry_after: 3 })
    const slow = await gw.fetch('/oauth/token', refresh)
    expect(slow.status).toBe(429)
    expect(await expectResponseMatchesSpec('POST', '/oauth/token', slow)).toMatchObject({
      error: 'slow_down',
    })

    const { url } = await authorizationUrl(await discover(gw), client)
    for (const status of [503, 429]) {
      await arm({ target: 'authorize', status })
      const page = await gw.fetch(url)
      expect(page.status).toBe(status)
      await expectResponseMatchesSpec('GET', '/oauth/authorize', page)
    }
    const recovered = await gw.fetch(url)
    expect(recovered.status).toBe(302)
    await expectResponseMatchesSpec('GET', '/oauth/authorize', recovered)
  })

  it('MOCK_AUTO_CONSENT: login_hint completes the authorization at once', async () => {
    const auto = createTestGateway({ env: { MOCK: '1', MOCK_AUTO_CONSENT: '1' } })
    try {
      const autoClient = await addClient(auto)
      const someone = await addUser(auto)
      const { url } = await authorizationUrl(await discover(auto), autoClient, {
        extraParams: { login_hint: someone.email },
      })
      const redirect = await auto.fetch(url)
      expect(redirect.status).toBe(302)
      expect(new URL(redirect.headers.get('location') as string).searchParams.get('code')).toMatch(
        /^pgc_/,
      )
      await expectResponseMatchesSpec('GET', '/oauth/authorize', redirect)
    } finally {
      auto.close()
    }
  })

  it('404 for every control outside mock mode', async () => {
    const production = createTestGateway()
    try {
      const answers = [
        ['POST', '/mock/sync', undefined],
        ['POST', '/mock/faults', { target: 'data', status: 500 }],
        ['GET', '/mock/faults', undefined],
        ['DELETE', '/mock/faults', undefined],
      ] as const
      for (const [method, path, json] of answers) {
        const response = await production.admin(path, json ? { method, json } : { method })
        expect(response.status, `${method} ${path}`).toBe(404)
        expect(await expectResponseMatchesSpec(method, `/admin/v1${path}`, response)).toMatchObject(
          { detail: 'The mock provider controls exist only in mock mode (MOCK=1).' },
        )
      }
    } finally {
      production.close()
    }
  })
})

describe('deliveries admin responses match openapi.yaml', () => {
  let t: NotifyFixture | undefined
  afterEach(async () => {
    await t?.close()
    t = undefined
  })

  it('list, filter, page, get with attempts; 400, 401 and 404', async () => {
    t = await notifyFixture()
    const fx = t
    fx.receiver.plan(503) // the first event fails once and waits for its retry
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await fx.notifier.drain()
    fx.gw.clock.advance(1000)
    await ingest(fx.gw, fx.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    await fx.notifier.drain()
    const path = '/admin/v1/deliveries'

    for (const query of [
      '',
      '?status=pending',
      `?client_id=${fx.fx.client.clientId}&user_id=${fx.userId}&status=succeeded`,
      '?limit=1',
    ]) {
      const list = await fx.gw.admin(`/deliveries${query}`)
      expect(list.status, query).toBe(200)
      await expectResponseMatchesSpec('GET', path, list)
    }
    const page = (await (await fx.gw.admin('/deliveries?limit=1')).json()) as {
      next_token: string
    }
    const next = await fx.gw.admin(`/deliveries?limit=1&next_token=${page.next_token}`)
    const second = (await expectResponseMatchesSpec('GET', path, next)) as {
      data: { id: string; type: string; status: string; attempts: number }[]
      next_token: string | null
    }
    expect(second).toMatchObject({
      data: [{ type: 'sleep', status: 'pending', attempts: 1 }],
      next_token: null,
    })

    const id = second.data[0]?.id as string
    const one = await fx.gw.admin(`/deliveries/${id}`)
    expect(one.status).toBe(200)
    expect(await expectResponseMatchesSpec('GET', `${path}/${id}`, one)).toMatchObject({
      id,
      attempts: [{ number: 1, trigger: 'auto', status_code: 503, error: 'http_5xx' }],
    })

    for (const query of ['?status=lost&limit=0', '?next_token=garbage!']) {
      const bad = await fx.gw.admin(`/deliveries${query}`)
      expect(bad.status, query).toBe(400)
      await expectResponseMatchesSpec('GET', path, bad)
    }
    const missing = await fx.gw.admin('/deliveries/nope')
    expect(missing.status).toBe(404)
    await expectResponseMatchesSpec('GET', `${path}/nope`, missing)
    const anonymous = await fx.gw.fetch(path)
    expect(anonymous.status).toBe(401)
    await expectResponseMatchesSpec('GET', path, anonymous)
  })

  it('redeliver (202, and 409 while the webhook is disabled); re-enable with PATCH', async () => {
    t = await notifyFixture()
    const fx = t
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await fx.notifier.drain()
    const [delivery] = await deliveryRows(fx.gw)
    const at = `/admin/v1/deliveries/${delivery?.id}/redeliver`

    const again = await fx.gw.admin(`/deliveries/${delivery?.id}/redeliver`, { method: 'POST' })
    expect(again.status).toBe(202)
    expect(await expectResponseMatchesSpec('POST', at, again)).toMatchObject({
      id: delivery?.id,
      event_id: delivery?.eventId,
      status: 'pending',
      attempts: 1,
    })
    await fx.notifier.drain()
    expect(fx.receiver.requests.map((r) => r.headers['webhook-id'])).toStrictEqual([
      delivery?.eventId,
      delivery?.eventId,
    ])

    const clientAt = `/admin/v1/clients/${fx.fx.client.clientId}`
    const patch = (webhook_status: string) =>
      fx.gw.admin(`/clients/${fx.fx.client.clientId}`, {
        method: 'PATCH',
        json: { webhook_status },
      })
    const disabled = await patch('disabled')
    expect(disabled.status).toBe(200)
    await expectResponseMatchesSpec('PATCH', clientAt, disabled)
    const refused = await fx.gw.admin(`/deliveries/${delivery?.id}/redeliver`, { method: 'POST' })
    expect(refused.status).toBe(409)
    await expectResponseMatchesSpec('POST', at, refused)
    const enabled = await patch('active')
    expect(await expectResponseMatchesSpec('PATCH', clientAt, enabled)).toMatchObject({
      webhook_status: 'active',
    })

    const missing = await fx.gw.admin('/deliveries/nope/redeliver', { method: 'POST' })
    expect(missing.status).toBe(404)
    await expectResponseMatchesSpec('POST', '/admin/v1/deliveries/nope/redeliver', missing)
  })

  it('recover what failed since a time: 202, 400, 404 and 415', async () => {
    // One automatic attempt only, so that a failure is final at once.
    t = await notifyFixture({ notifier: { schedule: [0] } })
    const fx = t
    fx.receiver.plan(500)
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await fx.notifier.drain()
    expect((await deliveryRows(fx.gw)).map((d) => d.status)).toStrictEqual(['failed'])
    const at = `/admin/v1/clients/${fx.fx.client.clientId}/recover`
    const recover = (init: RequestInit & { json?: unknown }) =>
      fx.gw.admin(`/clients/${fx.fx.client.clientId}/recover`, { method: 'POST', ...init })

    const recovered = await recover({ json: { since: '2026-03-01T00:00:00+01:00' } })
    expect(recovered.status).toBe(202)
    expect(await expectResponseMatchesSpec('POST', at, recovered)).toStrictEqual({
      client_id: fx.fx.client.clientId,
      since: '2026-02-28T23:00:00.000Z',
      recovered: 1,
    })
    await fx.notifier.drain()
    expect((await deliveryRows(fx.gw)).map((d) => d.status)).toStrictEqual(['succeeded'])

    const noOffset = await recover({ json: { since: '2026-03-01T00:00:00' } })
    expect(noOffset.status).toBe(400)
    await expectResponseMatchesSpec('POST', at, noOffset)
    const text = await recover({ headers: { 'content-type': 'text/plain' }, body: 'x' })
    expect(text.status).toBe(415)
    await expectResponseMatchesSpec('POST', at, text)
    const nobody = await fx.gw.admin('/clients/nobody/recover', {
      method: 'POST',
      json: { since: '2026-03-01T00:00:00Z' },
    })
    expect(nobody.status).toBe(404)
    await expectResponseMatchesSpec('POST', '/admin/v1/clients/nobody/recover', nobody)
  })
})

describe('the webhooks the gateway sends match openapi.yaml', () => {
  let t: NotifyFixture | undefined
  afterEach(async () => {
    await t?.close()
    t = undefined
  })

  /** Each request the receiver got, checked against `webhooks.<type of its body>`. */
  function checkAll(receiver: Receiver): Record<string, unknown>[] {
    return receiver.requests.map((request) => {
      const type = (JSON.parse(request.body) as { type: string }).type
      return expectWebhookMatchesSpec(type, request) as Record<string, unknown>
    })
  }

  it('full mode, terra signatures: sleep, activity, daily, deletion, permission_change, access_revoked', async () => {
    t = await notifyFixture({
      reference: 'crm-4711',
      connect: { scope: 'sleep:read activity:read' },
    })
    const fx = t
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await ingest(fx.gw, fx.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    await fx.notifier.drain()
    // Terra asks for daily too: the grant changes (permission_change), then daily data flows.
    await authorizeInBrowser(fx.gw, fx.fx.as, fx.fx.client, fx.fx.user, {
      agent: fx.agent,
      scope: 'sleep:read activity:read daily:read',
    })
    await fx.notifier.drain()
    await ingest(fx.gw, fx.userId, 'daily', [dailyOn('2026-02-28')])
    await fx.notifier.drain()
    expect((await fx.gw.admin(`/users/${fx.userId}/sleep/s1`, { method: 'DELETE' })).status).toBe(
      204,
    )
    await fx.notifier.drain()
    expect((await fx.gw.admin(`/users/${fx.userId}`, { method: 'DELETE' })).status).toBe(204)
    await fx.notifier.drain()

    const sent = checkAll(fx.receiver)
    expect(sent.map((b) => b.type).sort()).toStrictEqual([
      'access_revoked',
      'activity',
      'daily',
      'deletion',
      'permission_change',
      'sleep',
    ])
    for (const request of fx.receiver.requests) {
      expect(request.headers['terra-signature']).toBeDefined()
      expect(request.headers['webhook-signature']).toBeUndefined()
      expect(await terraVerifies(request, fx.secret, fx.gw.clock.ms)).toBe(true)
    }
  })

  it('ping mode, standard signatures', async () => {
    t = await notifyFixture({ client: { payloadMode: 'ping', signatureScheme: 'standard' } })
    const fx = t
    await ingest(fx.gw, fx.userId, 'sleep', [sleepAt('s1', '2026-02-27T23:00:00Z')])
    await ingest(fx.gw, fx.userId, 'activity', [activityAt('a1', '2026-02-28T08:00:00Z')])
    await ingest(fx.gw, fx.userId, 'daily', [dailyOn('2026-02-28')])
    await fx.notifier.drain()
    const sent = checkAll(fx.receiver)
    expect(sent.map((b) => Object.keys(b))).toStrictEqual([
      ['type', 'user', 'ping'],
      ['type', 'user', 'ping'],
      ['type', 'user', 'ping'],
    ])
    for (const request of fx.receiver.requests) {
      expect(request.headers['terra-signature']).toBeUndefined()
      expect(await standardVerifies(request, fx.secret, fx.gw.clock.ms)).toBe(true)
    }
  })
})

describe('operations responses match openapi.yaml', () => {
  // The Node-only answers (/metrics 200, /readyz 503 with the Node probes) are checked against
  // the spec in test/observe, on the real Node wiring.
  it('health, readiness, metrics without a backend, diagnostics', async () => {
    const gw = createTestGateway()
    const admin = { headers: { authorization: `Bearer ${ADMIN_KEY}` } }
    const checks: [string, string, Response, number][] = [
      ['GET', '/healthz', await gw.fetch('/healthz'), 200],
      ['GET', '/readyz', await gw.fetch('/readyz'), 200],
      ['GET', '/metrics', await gw.fetch('/metrics'), 401],
      ['GET', '/metrics', await gw.fetch('/metrics', admin), 501],
      ['GET', '/admin/v1/diagnostics', await gw.fetch('/admin/v1/diagnostics', admin), 200],
      ['GET', '/admin/v1/diagnostics', await gw.fetch('/admin/v1/diagnostics'), 401],
    ]
    for (const [method, path, response, status] of checks) {
      expect(response.status, path).toBe(status)
      await expectResponseMatchesSpec(method, path, response)
    }
    gw.close()
  })
})
