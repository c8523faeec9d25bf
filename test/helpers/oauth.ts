import * as oauth from 'oauth4webapi'
import { FormAgent } from '../../src/kit/form-agent.ts'
import { ISSUER, type TestClient, type TestGateway } from './app.ts'

/** oauth4webapi options that route its requests into the in-process app. */
export function clientOptions(gw: TestGateway) {
  return {
    [oauth.customFetch]: (url: string, init: RequestInit) => gw.fetch(url, init),
    [oauth.allowInsecureRequests]: true,
  }
}

export async function discover(gw: TestGateway): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(ISSUER)
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...clientOptions(gw) })
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
  let { response, url: at } = await agent.follow(await agent.get(url.toString()), url.toString(), ISSUER)
  let sawConsent = false
  for (let step = 0; step < 4; step++) {
    if (new URL(at).origin !== new URL(ISSUER).origin) break
    if (response.status !== 200) throw new Error(`unexpected ${response.status} at ${at}: ${await response.text()}`)
    const html = await response.text()
    const path = new URL(at).pathname
    let next: Response
    if (path === '/login') {
      next = await agent.submit(html, at, { email: user.email, password: user.password })
    } else if (path === '/oauth/consent' || path === '/oauth/authorize') {
      sawConsent = true
      const requested = [...html.matchAll(/name="scope" value="([^"]+)"/g)].map((m) => m[1] as string)
      const keep = requested.filter((s) => !(options.untick ?? []).includes(s))
      next = await agent.submit(html, at, { scope: keep }, {
        submit: { name: 'decision', value: options.decision ?? 'allow' },
      })
    } else {
      throw new Error(`unexpected page ${at}`)
    }
    ;({ response, url: at } = await agent.follow(next, at, ISSUER))
  }
  return { agent, callbackUrl: new URL(at), verifier, state, sawConsent }
}
