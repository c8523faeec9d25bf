import * as oauth from 'oauth4webapi'
import { afterAll, describe, expect, it } from 'vitest'
import { stripSamples } from '../../src/data/models/index.ts'
import { FormAgent } from '../../src/kit/form-agent.ts'
import { jsonLogger } from '../../src/log.ts'
import { createNotifier } from '../../src/notify/worker.ts'
import { ADMIN_KEY, createTestGateway, ISSUER, type TestClient } from '../helpers/app.ts'
import { sleepAt } from '../helpers/data.ts'
import { clientOptions, oauthFixture } from '../helpers/oauth.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'

/*
 * The logs of a whole flow, at debug level, through the real JSON logger: every secret the flow
 * used must be absent from every line — client and webhook secrets (also rotated ones), the
 * admin key, passwords (right and wrong), the authorization code, state and PKCE verifier,
 * access and refresh tokens (also one sent, carelessly, in a query string), and the content of
 * the records ingested and sent.
 */

const MARKER = 'Quokka-Serial-7f3a91c2'
const PASSWORD = 'redaction-password-Tq83nWz'
const WRONG_PASSWORD = 'redaction-wrong-pass-Lm27vX'

let receiver: Receiver | undefined
afterAll(async () => {
  await receiver?.close()
})

describe('logs', () => {
  it('carry no secret, token, password or record content from a full flow', async () => {
    receiver = await startReceiver()
    receiver.plan({ status: 500, body: `echo ${MARKER}` })
    const lines: string[] = []
    const gw = createTestGateway({
      env: { LOG_LEVEL: 'debug' },
      deps: { log: jsonLogger('debug', (line) => lines.push(line)) },
    })
    const secrets: Record<string, string> = { 'admin key': ADMIN_KEY, password: PASSWORD }

    // The provider's back end registers the client and the user.
    const createdClient = await gw.admin('/clients', {
      method: 'POST',
      json: {
        name: 'Terra',
        redirect_uris: ['https://terra.example.test/callback'],
        webhook_url: receiver.url,
      },
    })
    expect(createdClient.status).toBe(201)
    const c = await createdClient.json()
    secrets['client secret'] = c.client_secret
    secrets['webhook secret'] = c.webhook_secret
    const createdUser = await gw.admin('/users', {
      method: 'POST',
      json: { email: 'redact@example.test', password: PASSWORD, timezone: 'Europe/Berlin' },
    })
    expect(createdUser.status).toBe(201)
    const userId = (await createdUser.json()).user_id as string
    const client: TestClient = {
      clientId: c.client_id,
      clientSecret: c.client_secret,
      webhookSecret: c.webhook_secret,
      redirectUri: 'https://terra.example.test/callback',
    }

    // A wrong password first (its own secret), then the real flow: code + PKCE with oauth4webapi.
    const browser = new FormAgent((url, init) => gw.fetch(url, init))
    const loginPage = await browser.get(`${ISSUER}/login`)
    const wrong = await browser.submit(await loginPage.text(), `${ISSUER}/login`, {
      email: 'redact@example.test',
      password: WRONG_PASSWORD,
    })
    expect(wrong.status).toBe(401)
    secrets['wrong password'] = WRONG_PASSWORD
    const fx = await oauthFixture(
      gw,
      async () => client,
      async () => ({ userId, email: 'redact@example.test', password: PASSWORD }),
    )
    const tokens = await fx.connect()
    secrets['authorization code'] = tokens.flow.callbackUrl.searchParams.get('code') as string
    secrets.state = tokens.flow.state
    secrets['code verifier'] = tokens.flow.verifier
    secrets['access token'] = tokens.access_token
    secrets['refresh token'] = tokens.refresh_token

    // Refresh (client_secret_post this time: the secret travels in the body).
    const refreshed = await gw.fetch('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }),
    })
    expect(refreshed.status).toBe(200)
    const second = await refreshed.json()
    secrets['second access token'] = second.access_token
    secrets['second refresh token'] = second.refresh_token

    // Data: a pull, a token put in the query string by a careless client, introspection.
    const pulled = await gw.fetch('/v1/sleep?start_date=2026-02-01&end_date=2026-02-28', {
      headers: { authorization: `Bearer ${second.access_token}` },
    })
    expect(pulled.status).toBe(200)
    expect((await gw.fetch(`/v1/user?access_token=${second.access_token}`)).status).toBe(401)
    const introspection = await oauth.introspectionRequest(
      fx.as,
      fx.oClient,
      fx.auth,
      second.access_token,
      clientOptions(gw),
    )
    expect((await introspection.json()).active).toBe(true)

    // Ingest, with a distinctive value in the record; a refused batch carrying it too.
    const record = stripSamples(sleepAt('redaction-1', '2026-02-27T23:00:00Z')) as {
      device_data: { serial_number: string | null }
    }
    record.device_data.serial_number = MARKER
    const ingested = await gw.admin(`/users/${userId}/sleep`, {
      method: 'PUT',
      json: { data: [record] },
    })
    expect(ingested.status).toBe(200)
    const refused = await gw.admin(`/users/${userId}/sleep`, {
      method: 'PUT',
      json: { data: [{ metadata: { summary_id: MARKER, start_time: MARKER } }] },
    })
    expect(refused.status).toBe(422)
    secrets['record content'] = MARKER

    // The webhook: refused once (the receiver echoes the record), then delivered.
    const notifier = createNotifier(gw.deps, { timeoutMs: 2000 })
    await notifier.drain()
    gw.clock.advance(10_000)
    await notifier.drain()
    expect(receiver.requests.map((r) => r.answer)).toStrictEqual([500, 200])
    expect(receiver.requests[1]?.body).toContain(MARKER)

    // Secrets rotated: the new ones are secrets too. A wrong admin key is tried.
    const rotated = await gw.admin(`/clients/${client.clientId}/rotate-secret`, {
      method: 'POST',
      json: { which: 'webhook' },
    })
    secrets['rotated webhook secret'] = (await rotated.json()).webhook_secret
    const wrongKey = 'not-the-admin-key-Hy62pQ0rZ'
    secrets['wrong admin key'] = wrongKey
    const denied = await gw.fetch('/admin/v1/clients', {
      headers: { authorization: `Bearer ${wrongKey}` },
    })
    expect(denied.status).toBe(401)
    const revoked = await oauth.revocationRequest(
      fx.as,
      fx.oClient,
      fx.auth,
      second.refresh_token,
      clientOptions(gw),
    )
    expect(revoked.status).toBe(200)
    await notifier.stop()

    // The log is there, one JSON object per line, at every level the flow reached…
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(
      parsed.map((l) =>
        l.msg === 'request'
          ? `${l.level} ${l.method} ${l.route} ${l.status}`
          : `${l.level} ${l.msg}`,
      ),
    ).toStrictEqual([
      'info POST /admin/v1/clients 201',
      'info POST /admin/v1/users 201',
      'info GET /login 200',
      'info POST /login 401',
      'info GET /.well-known/oauth-authorization-server 200',
      'info GET /oauth/authorize 302',
      'info GET /login 200',
      'info POST /login 303',
      'info GET /oauth/consent 200',
      'info POST /oauth/consent 303',
      'info POST /oauth/token 200',
      'info POST /oauth/token 200',
      'info GET /v1/sleep 200',
      'info GET /v1/user 401',
      'info POST /oauth/introspect 200',
      'info PUT /admin/v1/users/:userId/:type 200',
      'info PUT /admin/v1/users/:userId/:type 422',
      'info webhook attempt failed',
      'info POST /admin/v1/clients/:id/rotate-secret 200',
      'info GET /admin/v1/clients 401',
      'info POST /oauth/revoke 200',
    ])
    // …with the request line as documented, the path without its query.
    const authorize = parsed.find((l) => l.route === '/oauth/authorize')
    expect(authorize).toStrictEqual({
      time: expect.any(String),
      level: 'info',
      msg: 'request',
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      method: 'GET',
      route: '/oauth/authorize',
      path: '/oauth/authorize',
      status: expect.any(Number),
      duration_ms: expect.any(Number),
    })
    expect(parsed.filter((l) => l.path === '/v1/user')).toHaveLength(1)

    // …and no secret appears in any line.
    expect(Object.values(secrets).every((s) => typeof s === 'string' && s.length >= 8)).toBe(true)
    const leaks = Object.entries(secrets).flatMap(([what, secret]) =>
      lines.filter((line) => line.includes(secret)).map((line) => `${what}: ${line}`),
    )
    expect(leaks).toStrictEqual([])
    expect(ISSUER).toBe('http://127.0.0.1:8787')
    gw.close()
  })
})
