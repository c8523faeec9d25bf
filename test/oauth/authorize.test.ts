import * as oauth from 'oauth4webapi'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FormAgent } from '../../src/kit/form-agent.ts'
import { addClient, addUser, createTestGateway, ISSUER, type TestGateway } from '../helpers/app.ts'
import {
  authorizationUrl,
  authorizeInBrowser,
  type OAuthFixture,
  oauthFixture,
} from '../helpers/oauth.ts'

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

/** Signs a fresh agent in, so that /oauth/authorize answers without the login page in the way. */
async function signedInAgent() {
  const agent = new FormAgent((url, init) => gw.fetch(url, init))
  const login = await agent.get(`${ISSUER}/login`)
  const done = await agent.submit(await login.text(), `${ISSUER}/login`, {
    email: fx.user.email,
    password: fx.user.password,
  })
  expect(done.status).toBe(303)
  return agent
}

/** The authorization request with `params` changed (null removes one). */
async function authorizeWith(params: Record<string, string | null>, agent?: FormAgent) {
  const { url, state } = await authorizationUrl(fx.as, fx.client)
  for (const [k, v] of Object.entries(params)) {
    if (v === null) url.searchParams.delete(k)
    else url.searchParams.set(k, v)
  }
  const a = agent ?? (await signedInAgent())
  return { response: await a.get(url.toString()), state }
}

function errorOf(response: Response) {
  expect(response.status).toBe(302)
  const location = new URL(response.headers.get('location') as string)
  expect(`${location.origin}${location.pathname}`).toBe(fx.client.redirectUri)
  return Object.fromEntries(location.searchParams)
}

describe('PKCE is required', () => {
  it('refuses a request without code_challenge with an invalid_request redirect carrying state and iss', async () => {
    const { response, state } = await authorizeWith({
      code_challenge: null,
      code_challenge_method: null,
    })
    expect(errorOf(response)).toStrictEqual({
      error: 'invalid_request',
      error_description: 'code_challenge is required: PKCE with S256 is mandatory.',
      state,
      iss: ISSUER,
    })
  })

  it('refuses code_challenge_method=plain (a downgrade from S256)', async () => {
    const { response, state } = await authorizeWith({ code_challenge_method: 'plain' })
    expect(errorOf(response)).toMatchObject({ error: 'invalid_request', state, iss: ISSUER })
  })

  it('refuses a missing code_challenge_method rather than assuming plain', async () => {
    const { response } = await authorizeWith({ code_challenge_method: null })
    expect(errorOf(response).error).toBe('invalid_request')
  })

  it('refuses a wrong code_verifier at the token endpoint', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    const response = await fx.exchange(flow, { code_verifier: oauth.generateRandomCodeVerifier() })
    expect(response.status).toBe(400)
    expect(await response.json()).toStrictEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier does not match the code_challenge.',
    })
  })

  it('refuses an exchange without code_verifier when a challenge was stored (downgrade to no PKCE)', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    const response = await fx.exchange(flow, { code_verifier: null })
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' })
    // …and the code was not burnt by the failed attempt: the right verifier still works once.
    expect((await fx.exchange(flow)).status).toBe(200)
  })

  it('refuses the plain-method verifier (the challenge itself) in place of the real verifier', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user)
    const challenge = await oauth.calculatePKCECodeChallenge(flow.verifier)
    const response = await fx.exchange(flow, { code_verifier: challenge })
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' })
  })
})

describe('client and redirect_uri are verified before anything is redirected', () => {
  it('shows an error page, never a redirect, for an unknown client', async () => {
    const { response } = await authorizeWith({ client_id: 'no-such-client' })
    expect(response.status).toBe(400)
    expect(response.headers.get('location')).toBeNull()
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await response.text()).toContain('Unknown application')
  })

  it.each([
    ['a different host', 'https://evil.example.test/callback'],
    ['a trailing slash', 'https://app.example.test/callback/'],
    ['an added query', 'https://app.example.test/callback?x=1'],
    ['a different case', 'https://app.example.test/Callback'],
    ['http instead of https', 'http://app.example.test/callback'],
  ])('shows an error page for an unregistered redirect_uri (%s)', async (_, uri) => {
    const { response } = await authorizeWith({ redirect_uri: uri })
    expect(response.status).toBe(400)
    expect(response.headers.get('location')).toBeNull()
    expect(await response.text()).toContain('Invalid redirect address')
  })

  it('shows an error page when redirect_uri is missing or client_id repeated', async () => {
    expect((await authorizeWith({ redirect_uri: null })).response.status).toBe(400)
    const { url } = await authorizationUrl(fx.as, fx.client)
    url.searchParams.append('client_id', fx.client.clientId)
    const response = await (await signedInAgent()).get(url.toString())
    expect(response.status).toBe(400)
    expect(response.headers.get('location')).toBeNull()
  })
})

describe('other authorization errors are redirected with state and iss', () => {
  it.each([
    [{ response_type: 'token' }, 'unsupported_response_type'],
    [{ response_type: null }, 'invalid_request'],
    [{ scope: 'sleep:read weight:write' }, 'invalid_scope'],
    [{ scope: '' }, 'invalid_scope'],
    [{ code_challenge: 'too-short' }, 'invalid_request'],
    [{ prompt: 'select_account' }, 'invalid_request'],
  ] as const)('%o ⇒ %s', async (params, error) => {
    const { response, state } = await authorizeWith(params as Record<string, string | null>)
    expect(errorOf(response)).toMatchObject({ error, state, iss: ISSUER })
  })

  it('refuses a repeated parameter', async () => {
    const { url, state } = await authorizationUrl(fx.as, fx.client)
    url.searchParams.append('scope', 'profile:read')
    const response = await (await signedInAgent()).get(url.toString())
    expect(errorOf(response)).toMatchObject({ error: 'invalid_request', state, iss: ISSUER })
  })

  it('answers prompt=none for a signed-out browser with login_required', async () => {
    const agent = new FormAgent((url, init) => gw.fetch(url, init))
    const { response, state } = await authorizeWith({ prompt: 'none' }, agent)
    expect(errorOf(response)).toMatchObject({ error: 'login_required', state, iss: ISSUER })
  })

  it('sends deny back as access_denied with state and iss, and issues nothing', async () => {
    const flow = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, { decision: 'deny' })
    expect(Object.fromEntries(flow.callbackUrl.searchParams)).toStrictEqual({
      error: 'access_denied',
      error_description: 'The user denied the request.',
      state: flow.state,
      iss: ISSUER,
    })
    expect(() =>
      oauth.validateAuthResponse(fx.as, fx.oClient, flow.callbackUrl, flow.state),
    ).toThrow(oauth.AuthorizationResponseError)
  })
})

describe('consent', () => {
  it('narrows the token scope to what the user left ticked', async () => {
    const tokens = await fx.connect({ untick: ['activity:read'] })
    expect(tokens.scope).toBe('sleep:read daily:read')
  })

  it('is remembered: the same scopes again skip the screen; a new scope shows it again', async () => {
    const first = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, { scope: 'sleep:read' })
    expect(first.sawConsent).toBe(true)
    const again = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, {
      scope: 'sleep:read',
      agent: first.agent,
    })
    expect(again.sawConsent).toBe(false)
    expect(again.callbackUrl.searchParams.get('code')).toBeTruthy()
    expect(again.callbackUrl.searchParams.get('iss')).toBe(ISSUER)
    const wider = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, {
      scope: 'sleep:read daily:read',
      agent: first.agent,
    })
    expect(wider.sawConsent).toBe(true)
  })

  it('shows the screen again for a scope the user had unticked before', async () => {
    const first = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, {
      untick: ['daily:read'],
    })
    const again = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, { agent: first.agent })
    expect(again.sawConsent).toBe(true)
  })

  it('keeps previously granted scopes that a later request did not ask about', async () => {
    const first = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, {
      scope: 'sleep:read activity:read',
    })
    await authorizeInBrowser(gw, fx.as, fx.client, fx.user, {
      scope: 'daily:read',
      agent: first.agent,
    })
    const third = await authorizeInBrowser(gw, fx.as, fx.client, fx.user, {
      scope: 'sleep:read activity:read daily:read',
      agent: first.agent,
    })
    expect(third.sawConsent).toBe(false)
  })

  it('refuses an Allow with every scope unticked, and shows the screen again', async () => {
    const agent = await signedInAgent()
    const { url } = await authorizationUrl(fx.as, fx.client)
    const page = await agent.get(url.toString())
    const response = await agent.submit(
      await page.text(),
      url.toString(),
      { scope: [] },
      {
        submit: { name: 'decision', value: 'allow' },
      },
    )
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('Tick at least one item')
  })

  it('ignores scopes added to the form that were not requested', async () => {
    const tokens = await fx.connect({ scope: 'sleep:read' })
    expect(tokens.scope).toBe('sleep:read')
    const agent = await signedInAgent()
    const { url, verifier } = await authorizationUrl(fx.as, fx.client, { scope: 'daily:read' })
    const page = await agent.get(url.toString())
    const done = await agent.submit(
      await page.text(),
      url.toString(),
      { scope: ['daily:read', 'profile:read'] },
      {
        submit: { name: 'decision', value: 'allow' },
      },
    )
    const callback = new URL(done.headers.get('location') as string)
    const response = await fx.exchange(
      { agent, callbackUrl: callback, verifier, state: '', sawConsent: true },
      {},
    )
    expect((await response.json()).scope).toBe('daily:read')
  })
})
