import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addClient,
  addUser,
  createTestGateway,
  ISSUER,
  type TestClient,
  type TestGateway,
} from '../helpers/app.ts'
import { authorizeInBrowser, clientOptions, discover } from '../helpers/oauth.ts'

describe('the whole authorization code flow with oauth4webapi as the client', () => {
  let gw: TestGateway
  let client: TestClient
  let user: Awaited<ReturnType<typeof addUser>>
  beforeAll(async () => {
    gw = createTestGateway()
    client = await addClient(gw)
    user = await addUser(gw)
  })
  afterAll(() => gw.close())

  it('discovers, authorizes with PKCE, exchanges, refreshes, introspects and revokes', async () => {
    const as = await discover(gw)
    expect(as.issuer).toBe(ISSUER)
    const oClient: oauth.Client = { client_id: client.clientId }
    const auth = oauth.ClientSecretBasic(client.clientSecret)

    const flow = await authorizeInBrowser(gw, as, client, user)
    expect(flow.sawConsent).toBe(true)
    const params = oauth.validateAuthResponse(as, oClient, flow.callbackUrl, flow.state)
    expect(params.get('iss')).toBe(ISSUER)

    const tokenResponse = await oauth.authorizationCodeGrantRequest(
      as,
      oClient,
      auth,
      params,
      client.redirectUri,
      flow.verifier,
      clientOptions(gw),
    )
    const tokens = await oauth.processAuthorizationCodeResponse(as, oClient, tokenResponse)
    expect(tokens.token_type).toBe('bearer')
    expect(tokens.scope).toBe('sleep:read activity:read daily:read')
    expect(tokens.user_id).toBe(user.userId)
    expect(tokens.expires_in).toBe(3600)
    expect(tokenResponse.headers.get('cache-control')).toBe('no-store')

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      oClient,
      await oauth.refreshTokenGrantRequest(
        as,
        oClient,
        auth,
        tokens.refresh_token as string,
        clientOptions(gw),
      ),
    )
    expect(refreshed.access_token).not.toBe(tokens.access_token)
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)

    const introspect = (token: string) =>
      oauth
        .introspectionRequest(as, oClient, auth, token, clientOptions(gw))
        .then((r) => oauth.processIntrospectionResponse(as, oClient, r))
    const active = await introspect(refreshed.access_token)
    expect(active).toMatchObject({
      active: true,
      client_id: client.clientId,
      sub: user.userId,
      scope: 'sleep:read activity:read daily:read',
      token_type: 'Bearer',
      iss: ISSUER,
    })

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(
        as,
        oClient,
        auth,
        refreshed.refresh_token as string,
        clientOptions(gw),
      ),
    )
    expect(await introspect(refreshed.access_token)).toStrictEqual({ active: false })
    expect(await introspect(refreshed.refresh_token as string)).toStrictEqual({ active: false })
  })
})
