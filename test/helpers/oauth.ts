import * as oauth from 'oauth4webapi'
import { FormAgent } from '../../src/kit/form-agent.ts'
import { ISSUER, type TestClient, type TestGateway } from './app.ts'

/** oauth4webapi options that route its requests into the in-process app. */
export function clientOptions(gw: TestGateway) {
  return {
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) =>
      gw.fetch(url, init as RequestInit),
    [oauth.allowInsecureRequests]: true,
  }
}

export async function discover(gw: TestGateway): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(ISSUER)
  const response = await oauth.discoveryRequest(issuer, {
    algorithm: 'oauth2',
    ...clientOptions(gw),
  })
  return oauth.processDiscoveryResponse(issuer, response)
}

export interface AuthorizeOptions {
  scope?: string
  /** Scopes to untick on the consent screen. */
  untick?: string[]
  decision?: 'allow' | 'deny'
  agent?: FormAgent
  state?: string
  extraParams?: Record<string, string>
}

export interface AuthorizeResult {
  agent: FormAgent
  /** The URL the browser was finally sent to (the client's redirect_uri with the response). */
  callbackUrl: URL
  verifier: string
  state: string
  /** Whether a consent screen was shown on the way. */
  sawConsent: boolean
}

/** Builds an authorization URL with PKCE S256. */
export async function authorizationUrl(
  as: oauth.AuthorizationServer,
  client: TestClient,
  options: { scope?: string; state?: string; extraParams?: Record<string, string> } = {},
) {
  const verifier = oauth.generateRandomCodeVerifier()
  const state = options.state ?? oauth.generateRandomState()
  const url = new URL(as.authorization_endpoint as string)
  url.searchParams.set('client_id', client.clientId)
  url.searchParams.set('redirect_uri', client.redirectUri)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('scope', options.scope ?? 'sleep:read activity:read daily:read')
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier))
  url.searchParams.set('code_challenge_method', 'S256')
  url.searchParams.set('state', state)
  for (const [k, v] of Object.entries(options.extraParams ?? {})) url.searchParams.set(k, v)
  return { url, verifier, state }
}

/**
 * Drives the whole browser part of the flow over HTTP: authorize → login form → consent form →
 * redirect to the client. Signs in only if the agent has no session yet.
 */
export async function authorizeInBrowser(
  gw: TestGateway,
  as: oauth.AuthorizationServer,
  client: TestClient,
  user: { email: string; password: string },
  options: AuthorizeOptions = {},
): Promise<AuthorizeResult> {
  const agent = options.agent ?? new FormAgent((url, init) => gw.fetch(url, init))
  const { url, verifier, state } = await authorizationUrl(as, client, options)
  let { response, url: at } = await agent.follow(
    await agent.get(url.toString()),
    url.toString(),
    ISSUER,
  )
  let sawConsent = false
  for (let step = 0; step < 4; step++) {
    if (new URL(at).origin !== new URL(ISSUER).origin || at.startsWith(client.redirectUri)) break
    if (response.status !== 200)
      throw new Error(`unexpected ${response.status} at ${at}: ${await response.text()}`)
    const html = await response.text()
    const path = new URL(at).pathname
    let next: Response
    if (path === '/login') {
      next = await agent.submit(html, at, { email: user.email, password: user.password })
    } else if (path === '/oauth/consent' || path === '/oauth/authorize') {
      sawConsent = true
      const requested = [...html.matchAll(/name="scope" value="([^"]+)"/g)].map(
        (m) => m[1] as string,
      )
      const keep = requested.filter((s) => !(options.untick ?? []).includes(s))
      next = await agent.submit(
        html,
        at,
        { scope: keep },
        {
          submit: { name: 'decision', value: options.decision ?? 'allow' },
        },
      )
    } else {
      throw new Error(`unexpected page ${at}`)
    }
    ;({ response, url: at } = await agent.follow(next, at, ISSUER))
  }
  return { agent, callbackUrl: new URL(at), verifier, state, sawConsent }
}

/** What the token endpoint answered for a completed authorization, plus how it went. */
export interface ConnectedTokens {
  access_token: string
  refresh_token: string
  token_type: string
  expires_in: number
  scope: string
  user_id: string
  flow: AuthorizeResult
}

export interface OAuthFixture {
  gw: TestGateway
  as: oauth.AuthorizationServer
  client: TestClient
  oClient: oauth.Client
  auth: oauth.ClientAuth
  user: { userId: string; email: string; password: string }
  /** Runs the browser flow and exchanges the code. */
  connect(options?: AuthorizeOptions): Promise<ConnectedTokens>
  /** Exchanges a callback's code, returning the raw token endpoint response. */
  exchange(flow: AuthorizeResult, overrides?: Record<string, string | null>): Promise<Response>
  refresh(refreshToken: string, extra?: Record<string, string>): Promise<Response>
  introspect(token: string, client?: TestClient): Promise<unknown>
}

/** A gateway with one client and one user, and shortcuts for the back-channel calls. */
export async function oauthFixture(
  gw: TestGateway,
  addClientFn: () => Promise<TestClient>,
  addUserFn: () => Promise<OAuthFixture['user']>,
): Promise<OAuthFixture> {
  const as = await discover(gw)
  const client = await addClientFn()
  const user = await addUserFn()
  const oClient: oauth.Client = { client_id: client.clientId }
  const auth = oauth.ClientSecretBasic(client.clientSecret)
  const basic = (c: TestClient) =>
    `Basic ${btoa(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`)}`
  const post = (path: string, body: Record<string, string>, c: TestClient = client) =>
    gw.fetch(`${ISSUER}${path}`, {
      method: 'POST',
      headers: { authorization: basic(c), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    })
  const exchange: OAuthFixture['exchange'] = (flow, overrides = {}) => {
    const body: Record<string, string | null> = {
      grant_type: 'authorization_code',
      code: flow.callbackUrl.searchParams.get('code'),
      redirect_uri: client.redirectUri,
      code_verifier: flow.verifier,
      ...overrides,
    }
    const clean = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null)) as Record<
      string,
      string
    >
    return post('/oauth/token', clean)
  }
  return {
    gw,
    as,
    client,
    oClient,
    auth,
    user,
    exchange,
    async connect(options = {}) {
      const flow = await authorizeInBrowser(gw, as, client, user, options)
      const params = oauth.validateAuthResponse(as, oClient, flow.callbackUrl, flow.state)
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        oClient,
        auth,
        params,
        client.redirectUri,
        flow.verifier,
        clientOptions(gw),
      )
      const tokens = await oauth.processAuthorizationCodeResponse(as, oClient, response)
      return { ...(tokens as unknown as Omit<ConnectedTokens, 'flow'>), flow }
    },
    refresh: (refreshToken, extra = {}) =>
      post('/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }),
    introspect: async (token, c = client) => (await post('/oauth/introspect', { token }, c)).json(),
  }
}
