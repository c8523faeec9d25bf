import * as oauth from 'oauth4webapi'
import { authorizationUrl, authorizeInBrowser, followRedirects, newAgent } from './browser.ts'
import type { Check } from './check.ts'
import type { KitContext, Tokens } from './context.ts'
import { bodySummary, describeError, expect, fail, isRecord } from './util.ts'

/*
 * Discovery and the OAuth 2.0 authorization server, as Terra uses it: RFC 8414 metadata, the
 * authorization code flow with PKCE (oauth4webapi, which also checks `iss` and `state`), token,
 * refresh with rotation, two refusals a partner must get right, introspection and revocation.
 */

export const DISCOVERY = 'discovery: metadata'
export const DISCOVERY_SECURITY = 'discovery: PKCE S256 and iss'
export const AUTHORIZATION = 'oauth: authorization (login + consent)'
export const PKCE_REQUIRED = 'oauth: PKCE required'
export const TOKEN = 'oauth: token exchange'
export const WRONG_VERIFIER = 'oauth: wrong code_verifier refused'
export const REFRESH = 'oauth: refresh rotation'
export const INTROSPECT_ACTIVE = 'oauth: introspect active token'
export const REVOKE = 'oauth: revoke'
export const INTROSPECT_REVOKED = 'oauth: introspect after revoke'

const ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'revocation_endpoint',
  'introspection_endpoint',
] as const

const discovery: Check = {
  name: DISCOVERY,
  async run(ctx) {
    const issuer = ctx.options.issuer
    let issuerUrl: URL
    try {
      issuerUrl = new URL(issuer)
    } catch {
      fail(`--issuer ${JSON.stringify(issuer)} is not a URL`)
    }
    const response = await oauth.discoveryRequest(issuerUrl, {
      algorithm: 'oauth2',
      ...ctx.oauthOptions(),
    })
    const raw = response.clone()
    if (response.status !== 200) {
      fail(
        `${response.url || issuer} answered ${response.status}: ${bodySummary(await raw.text())}`,
      )
    }
    const as = await oauth.processDiscoveryResponse(issuerUrl, response)
    const json = (await raw.json()) as Record<string, unknown>
    if (json.issuer !== issuer) {
      const hint =
        typeof json.issuer === 'string' &&
        json.issuer.replace(/\/$/, '') === issuer.replace(/\/$/, '')
          ? ' (pass --issuer exactly as the deployment states it)'
          : ''
      fail(
        `issuer is ${JSON.stringify(json.issuer)}, not byte-equal to ${JSON.stringify(issuer)}${hint}`,
      )
    }
    for (const name of ENDPOINTS) {
      const value = json[name]
      expect(typeof value === 'string', `${name} is missing`)
      let url: URL
      try {
        url = new URL(value)
      } catch {
        fail(`${name} ${JSON.stringify(value)} is not an absolute URL`)
      }
      expect(
        url.protocol === 'https:' || (ctx.insecure && url.protocol === 'http:'),
        `${name} ${value} is not https`,
      )
    }
    const grants = json.grant_types_supported
    expect(Array.isArray(grants), 'grant_types_supported is missing')
    for (const g of ['authorization_code', 'refresh_token']) {
      expect(grants.includes(g), `grant_types_supported lacks ${g}`)
    }
    const extra = grants.filter((g) => g !== 'authorization_code' && g !== 'refresh_token')
    expect(
      extra.length === 0,
      `grant_types_supported has more than the contract: ${extra.join(', ')}`,
    )
    const responseTypes = json.response_types_supported
    expect(
      Array.isArray(responseTypes) && responseTypes.includes('code'),
      'response_types_supported lacks code',
    )
    const scopes = json.scopes_supported
    if (Array.isArray(scopes)) {
      const missing = ctx.scope.split(' ').filter((s) => s && !scopes.includes(s))
      expect(missing.length === 0, `scopes_supported lacks ${missing.join(', ')}`)
    }
    ctx.as = as
    return ctx.insecure
      ? `issuer ${issuer} (plain http: fine for a test run only)`
      : `issuer ${issuer}`
  },
}

const discoverySecurity: Check = {
  name: DISCOVERY_SECURITY,
  needs: [DISCOVERY],
  async run(ctx) {
    const as = ctx.as ?? fail('no metadata')
    const methods = as.code_challenge_methods_supported
    expect(
      Array.isArray(methods) && methods.length === 1 && methods[0] === 'S256',
      `code_challenge_methods_supported must be exactly ["S256"], is ${JSON.stringify(methods)}`,
    )
    expect(
      as.authorization_response_iss_parameter_supported === true,
      `authorization_response_iss_parameter_supported must be true, is ${JSON.stringify(as.authorization_response_iss_parameter_supported)}`,
    )
    const auth = as.token_endpoint_auth_methods_supported
    expect(
      auth === undefined || (Array.isArray(auth) && auth.includes('client_secret_basic')),
      `token_endpoint_auth_methods_supported lacks client_secret_basic: ${JSON.stringify(auth)}`,
    )
    return 'S256 only, iss parameter supported'
  },
}

/** Runs a whole authorization with the context's agent and returns the validated callback. */
async function authorize(ctx: KitContext) {
  const as = ctx.as ?? fail('no metadata')
  ctx.agent ??= newAgent(ctx)
  const request = await authorizationUrl(ctx)
  const result = await authorizeInBrowser(ctx, ctx.agent, request)
  const params = oauth.validateAuthResponse(as, ctx.client, result.callbackUrl, result.state)
  expect(params.get('code'), 'the authorization response has no code')
  return { ...result, params }
}

const authorization: Check = {
  name: AUTHORIZATION,
  needs: [DISCOVERY],
  async run(ctx) {
    const result = await authorize(ctx)
    ctx.pendingCode = { params: result.params, verifier: result.verifier }
    const consent =
      result.consentScopes === null
        ? 'consent skipped (already granted)'
        : `consent for ${result.consentScopes.join(' ')}`
    return `${result.signedIn ? `signed in as ${ctx.options.user}` : 'session reused'}, ${consent}; code with state and iss`
  },
}

function tokenResponseProblems(json: Record<string, unknown>, response: Response): string[] {
  const problems: string[] = []
  const cacheControl = response.headers.get('cache-control') ?? ''
  if (!/\bno-store\b/i.test(cacheControl)) {
    problems.push(`Cache-Control is ${JSON.stringify(cacheControl)}, not no-store`)
  }
  if (typeof json.access_token !== 'string' || json.access_token === '') {
    problems.push('no access_token')
  }
  if (typeof json.token_type !== 'string' || json.token_type.toLowerCase() !== 'bearer') {
    problems.push(`token_type is ${JSON.stringify(json.token_type)}, not Bearer`)
  }
  if (typeof json.expires_in !== 'number' || json.expires_in <= 0 || json.expires_in > 3600) {
    problems.push(`expires_in is ${JSON.stringify(json.expires_in)}, not 1..3600`)
  }
  if (typeof json.refresh_token !== 'string' || json.refresh_token === '') {
    problems.push('no refresh_token')
  }
  if (typeof json.scope !== 'string') problems.push('no scope')
  if (typeof json.user_id !== 'string' || json.user_id === '') problems.push('no user_id')
  return problems
}

/** Checks a token endpoint answer's shape and returns the tokens. */
async function readTokens(
  ctx: KitContext,
  response: Response,
  process: (response: Response) => Promise<oauth.TokenEndpointResponse>,
): Promise<Tokens & { expiresIn: number }> {
  const raw = response.clone()
  await process(response)
  const json = (await raw.json()) as Record<string, unknown>
  const problems = tokenResponseProblems(json, raw)
  if (problems.length > 0) fail(`the token response: ${problems.join('; ')}`)
  const scopes = (json.scope as string).split(' ').filter(Boolean)
  const missing = ctx.scope.split(' ').filter((s) => s && !scopes.includes(s))
  expect(missing.length === 0, `the granted scope "${json.scope}" lacks ${missing.join(', ')}`)
  return {
    accessToken: json.access_token as string,
    refreshToken: json.refresh_token as string,
    scopes,
    userId: json.user_id as string,
    expiresIn: json.expires_in as number,
  }
}

const token: Check = {
  name: TOKEN,
  needs: [AUTHORIZATION],
  async run(ctx) {
    const as = ctx.as ?? fail('no metadata')
    const flow = ctx.pendingCode ?? fail('no authorization code')
    ctx.pendingCode = undefined
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      ctx.client,
      ctx.clientAuth,
      flow.params,
      ctx.options.redirectUri,
      flow.verifier,
      ctx.oauthOptions(),
    )
    const tokens = await readTokens(ctx, response, (r) =>
      oauth.processAuthorizationCodeResponse(as, ctx.client, r),
    )
    ctx.tokens = tokens
    return `user_id ${tokens.userId}, scope "${tokens.scopes.join(' ')}", expires_in ${tokens.expiresIn}`
  },
}

/**
 * Sends an authorization request that must be refused, in the signed-in browser, and checks the
 * `invalid_request` error redirect (with `state` and `iss`, which oauth4webapi validates).
 */
async function refusedAuthorization(ctx: KitContext, pkce: false | 'plain'): Promise<string> {
  const as = ctx.as ?? fail('no metadata')
  const agent = ctx.agent ?? newAgent(ctx)
  const request = await authorizationUrl(ctx, { pkce })
  const what = pkce === false ? 'without code_challenge' : 'with code_challenge_method=plain'
  const url = request.url.toString()
  const step = await followRedirects(ctx, agent, await agent.get(url), url)
  if (!('callback' in step)) {
    fail(
      `an authorization request ${what} ended on a page (${step.page.status} at ${step.url}) instead of an invalid_request redirect: ${bodySummary(await step.page.text())}`,
    )
  }
  try {
    oauth.validateAuthResponse(as, ctx.client, step.callback, request.state)
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      expect(
        err.error === 'invalid_request',
        `an authorization request ${what} was refused with ${err.error}, not invalid_request`,
      )
      return `${what}: invalid_request`
    }
    fail(`the error redirect for a request ${what} is not valid: ${describeError(err)}`)
  }
  fail(`an authorization request ${what} was answered with a code`)
}

const pkceRequired: Check = {
  name: PKCE_REQUIRED,
  needs: [AUTHORIZATION],
  async run(ctx) {
    const none = await refusedAuthorization(ctx, false)
    const plain = await refusedAuthorization(ctx, 'plain')
    return `${none}; ${plain} (state and iss on both)`
  },
}

const wrongVerifier: Check = {
  name: WRONG_VERIFIER,
  needs: [TOKEN],
  async run(ctx) {
    const as = ctx.as ?? fail('no metadata')
    const flow = await authorize(ctx)
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      ctx.client,
      ctx.clientAuth,
      flow.params,
      ctx.options.redirectUri,
      oauth.generateRandomCodeVerifier(),
      ctx.oauthOptions(),
    )
    try {
      await oauth.processAuthorizationCodeResponse(as, ctx.client, response)
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) {
        expect(
          err.error === 'invalid_grant',
          `a wrong code_verifier was refused with ${err.error}, not invalid_grant`,
        )
        expect(err.status === 400, `a wrong code_verifier was answered ${err.status}, not 400`)
        return 'invalid_grant'
      }
      throw err
    }
    fail('the token endpoint issued tokens for a wrong code_verifier')
  },
}

const refresh: Check = {
  name: REFRESH,
  needs: [TOKEN],
  async run(ctx) {
    const as = ctx.as ?? fail('no metadata')
    const before = ctx.tokens ?? fail('no tokens')
    const response = await oauth.refreshTokenGrantRequest(
      as,
      ctx.client,
      ctx.clientAuth,
      before.refreshToken,
      ctx.oauthOptions(),
    )
    const after = await readTokens(ctx, response, (r) =>
      oauth.processRefreshTokenResponse(as, ctx.client, r),
    )
    expect(after.refreshToken !== before.refreshToken, 'the refresh token was not rotated')
    expect(after.accessToken !== before.accessToken, 'the access token did not change')
    expect(
      after.userId === before.userId,
      `user_id changed on refresh: ${before.userId} ⇒ ${after.userId}`,
    )
    ctx.tokens = after
    return 'new access token, rotated refresh token'
  },
}

async function introspect(ctx: KitContext, tokenValue: string): Promise<Record<string, unknown>> {
  const as = ctx.as ?? fail('no metadata')
  const response = await oauth.introspectionRequest(
    as,
    ctx.client,
    ctx.clientAuth,
    tokenValue,
    ctx.oauthOptions(),
  )
  const raw = response.clone()
  await oauth.processIntrospectionResponse(as, ctx.client, response)
  const json: unknown = await raw.json()
  if (!isRecord(json)) fail('the introspection response is not a JSON object')
  return json
}

const introspectActive: Check = {
  name: INTROSPECT_ACTIVE,
  needs: [TOKEN],
  async run(ctx) {
    const tokens = ctx.tokens ?? fail('no tokens')
    const json = await introspect(ctx, tokens.accessToken)
    expect(json.active === true, `the access token introspects as ${JSON.stringify(json)}`)
    if (json.client_id !== undefined) {
      expect(
        json.client_id === ctx.options.clientId,
        `introspection says client_id ${JSON.stringify(json.client_id)}`,
      )
    }
    return `active${typeof json.scope === 'string' ? `, scope "${json.scope}"` : ''}`
  },
}

const revoke: Check = {
  name: REVOKE,
  needs: [TOKEN],
  async run(ctx) {
    const as = ctx.as ?? fail('no metadata')
    const tokens = ctx.tokens ?? fail('no tokens')
    const response = await oauth.revocationRequest(
      as,
      ctx.client,
      ctx.clientAuth,
      tokens.refreshToken,
      ctx.oauthOptions(),
    )
    await oauth.processRevocationResponse(response)
    return 'refresh token revoked (200)'
  },
}

const introspectRevoked: Check = {
  name: INTROSPECT_REVOKED,
  needs: [REVOKE],
  async run(ctx) {
    const tokens = ctx.tokens ?? fail('no tokens')
    for (const [what, value] of [
      ['refresh token', tokens.refreshToken],
      ['access token (same authorization)', tokens.accessToken],
    ] as const) {
      const json = await introspect(ctx, value)
      expect(
        JSON.stringify(json) === '{"active":false}',
        `the revoked ${what} introspects as ${JSON.stringify(json)}, not exactly {"active":false}`,
      )
    }
    const response = await ctx.bearer('/v1/user')
    const challenge = response.headers.get('www-authenticate') ?? ''
    expect(
      response.status === 401,
      `GET /v1/user with the revoked access token answered ${response.status}`,
    )
    expect(
      /invalid_token/.test(challenge),
      `GET /v1/user with a revoked token: WWW-Authenticate is ${JSON.stringify(challenge)}, without error="invalid_token"`,
    )
    return '{"active":false} for both tokens; the data API answers 401 invalid_token'
  },
}

/** The OAuth checks that run before the data checks. */
export const oauthChecks: Check[] = [
  discovery,
  discoverySecurity,
  authorization,
  pkceRequired,
  token,
  wrongVerifier,
  refresh,
]

/** The checks that end the session (after data and webhooks). */
export const revocationChecks: Check[] = [introspectActive, revoke, introspectRevoked]
