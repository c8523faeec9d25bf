import { eq } from 'drizzle-orm'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveWebhookSecrets } from '../../src/admin/records.ts'
import { hashSecret } from '../../src/crypto.ts'
import { clients, grants, tokens, webhookSecrets } from '../../src/db/schema.ts'
import {
  addUser,
  createTestGateway,
  ISSUER,
  type TestClient,
  type TestGateway,
} from '../helpers/app.ts'
import { authorizeInBrowser, discover } from '../helpers/oauth.ts'

const DAY_MS = 24 * 60 * 60 * 1000
const CREATED_AT = '2026-03-01T12:00:00.000Z'

const invalid = (detail: string, errors: { path: string; message: string }[]) => ({
  type: 'about:blank',
  title: 'Invalid request',
  status: 400,
  detail,
  errors,
  request_id: expect.any(String),
})

interface CreatedClient {
  client_id: string
  client_secret: string
  webhook_secret: string
  redirect_uris: string[]
}

describe('admin API: /clients', () => {
  let gw: TestGateway
  beforeAll(() => {
    gw = createTestGateway()
  })
  afterAll(() => gw.close())

  const create = async (json: Record<string, unknown>): Promise<CreatedClient> => {
    const response = await gw.admin('/clients', { method: 'POST', json })
    expect(response.status).toBe(201)
    return (await response.json()) as CreatedClient
  }
  const asTestClient = (c: CreatedClient): TestClient => ({
    clientId: c.client_id,
    clientSecret: c.client_secret,
    webhookSecret: c.webhook_secret,
    redirectUri: c.redirect_uris[0] as string,
  })
  const basic = (id: string, secret: string) =>
    `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`
  const tokenRequest = (authorization: string, form: Record<string, string>) =>
    gw.fetch(`${ISSUER}/oauth/token`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    })

  /** A user consents to the client through the real browser flow; returns the unredeemed code. */
  async function authorize(client: TestClient) {
    const as = await discover(gw)
    const user = await addUser(gw)
    const flow = await authorizeInBrowser(gw, as, client, user)
    const params = oauth.validateAuthResponse(
      as,
      { client_id: client.clientId },
      flow.callbackUrl,
      flow.state,
    )
    return { user, code: params.get('code') as string, verifier: flow.verifier }
  }
  const codeGrant = (client: TestClient, code: string, verifier: string) => ({
    grant_type: 'authorization_code',
    code,
    redirect_uri: client.redirectUri,
    code_verifier: verifier,
  })

  describe('POST', () => {
    it('registers a client and shows its secrets once', async () => {
      const response = await gw.admin('/clients', {
        method: 'POST',
        json: {
          name: 'Terra',
          redirect_uris: ['https://api.tryterra.co/auth/callback', 'http://127.0.0.1:9000/cb'],
          webhook_url: 'https://api.tryterra.co/hooks/mockwear',
        },
      })
      expect(response.status).toBe(201)
      expect(response.headers.get('cache-control')).toBe('no-store')
      const body = (await response.json()) as CreatedClient
      expect(body).toStrictEqual({
        client_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        client_secret: expect.stringMatching(/^pgs_[\w-]{43}$/),
        webhook_secret: expect.stringMatching(/^pgw_[\w-]{43}$/),
        name: 'Terra',
        redirect_uris: ['https://api.tryterra.co/auth/callback', 'http://127.0.0.1:9000/cb'],
        webhook_url: 'https://api.tryterra.co/hooks/mockwear',
        signature_scheme: 'terra',
        payload_mode: 'full',
        webhook_status: 'active',
        created_at: CREATED_AT,
        updated_at: CREATED_AT,
      })
      expect(response.headers.get('location')).toBe(`/admin/v1/clients/${body.client_id}`)

      // Stored: the client secret only as a hash; the webhook secret as is (it must sign).
      const row = await gw.deps.db
        .select()
        .from(clients)
        .where(eq(clients.id, body.client_id))
        .get()
      expect(row?.secretHash).toBe(await hashSecret(body.client_secret))
      expect(JSON.stringify(row)).not.toContain(body.client_secret)
      expect(await liveWebhookSecrets(gw.deps, body.client_id)).toStrictEqual([body.webhook_secret])

      // GET never shows a secret.
      const got = await gw.admin(`/clients/${body.client_id}`)
      const text = await got.text()
      expect(text).not.toContain(body.client_secret)
      expect(text).not.toContain(body.webhook_secret)
      const { client_secret: _c, webhook_secret: _w, ...view } = body
      expect(JSON.parse(text)).toStrictEqual(view)
    })

    it('makes a Standard Webhooks secret (whsec_ + base64 of 32 bytes) for the standard scheme', async () => {
      const body = await create({
        name: 'Std',
        redirect_uris: ['com.example.app:/oauth/cb'],
        signature_scheme: 'standard',
        payload_mode: 'ping',
      })
      expect(body).toMatchObject({
        signature_scheme: 'standard',
        payload_mode: 'ping',
        webhook_url: null,
      })
      expect(body.webhook_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
      expect(atob(body.webhook_secret.slice('whsec_'.length))).toHaveLength(32)
    })

    it('accepts loopback http, https and reverse-domain schemes as redirect URIs', async () => {
      const uris = [
        'http://localhost:3000/callback',
        'http://[::1]:8080/cb',
        'http://127.0.0.1/cb?x=1',
        'https://example.com/cb',
        'com.example.app:/oauth2redirect',
      ]
      expect((await create({ name: 'Native', redirect_uris: uris })).redirect_uris).toStrictEqual(
        uris,
      )
    })

    it('names every invalid field', async () => {
      const response = await gw.admin('/clients', {
        method: 'POST',
        json: {
          name: '  ',
          redirect_uris: [
            'http://example.com/cb',
            'https://example.com/cb#frag',
            'javascript:alert(1)',
            '/relative/cb',
            ' https://example.com/cb',
            'https://user:pw@example.com/cb',
            'https://ok.example/cb',
            'https://ok.example/cb',
          ],
          webhook_url: 'ftp://example.com/hooks',
          signature_scheme: 'hmac',
          redirect_uri: 'https://typo.example/cb',
        },
      })
      expect(response.status).toBe(400)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(await response.json()).toStrictEqual(
        invalid('The client is not valid.', [
          { path: 'name', message: 'Must not be empty.' },
          {
            path: 'redirect_uris[0]',
            message:
              'Must use https; http is allowed only for loopback hosts (127.0.0.1, localhost, [::1]).',
          },
          { path: 'redirect_uris[1]', message: 'Must not contain a fragment (#…).' },
          {
            path: 'redirect_uris[2]',
            message:
              'Must use https, http on a loopback host, or a reverse-domain private-use scheme such as com.example.app:/callback.',
          },
          {
            path: 'redirect_uris[3]',
            message: 'Must be an absolute URI, e.g. https://app.example.com/oauth/callback.',
          },
          {
            path: 'redirect_uris[4]',
            message: 'Must not contain whitespace or control characters.',
          },
          { path: 'redirect_uris[5]', message: 'Must not contain user credentials.' },
          { path: 'redirect_uris[7]', message: 'Is listed twice.' },
          { path: 'webhook_url', message: 'Must be an http or https URL.' },
          {
            path: 'signature_scheme',
            message: 'Invalid option: expected one of "terra"|"standard"',
          },
          { path: 'redirect_uri', message: 'is not a known field (check the spelling)' },
        ]),
      )
    })

    it('requires at least one redirect URI', async () => {
      const response = await gw.admin('/clients', {
        method: 'POST',
        json: { name: 'x', redirect_uris: [] },
      })
      expect(await response.json()).toStrictEqual(
        invalid('The client is not valid.', [
          { path: 'redirect_uris', message: 'At least one redirect URI is required.' },
        ]),
      )
      const missing = await gw.admin('/clients', { method: 'POST', json: { name: 'x' } })
      expect(await missing.json()).toStrictEqual(
        invalid('The client is not valid.', [
          { path: 'redirect_uris', message: 'Invalid input: expected array, received undefined' },
        ]),
      )
    })
  })

  describe('the JSON body reader', () => {
    const post = (init: RequestInit) =>
      gw.fetch(`${ISSUER}/admin/v1/clients`, {
        method: 'POST',
        ...init,
        headers: { authorization: `Bearer ${gw.deps.config.adminApiKey}`, ...init.headers },
      })
    const valid = JSON.stringify({ name: 'x', redirect_uris: ['https://x.example/cb'] })

    it('refuses a body without Content-Type, or of another type, with 415', async () => {
      for (const headers of [
        {},
        { 'content-type': 'text/plain' },
        { 'content-type': 'application/json; charset=latin1' },
      ]) {
        const response = await post({ headers, body: valid })
        expect(response.status).toBe(415)
        expect(response.headers.get('content-type')).toBe('application/problem+json')
        expect(await response.json()).toMatchObject({
          status: 415,
          title: 'Unsupported Media Type',
        })
      }
      expect(
        (
          await post({
            headers: { 'content-type': 'Application/JSON; charset=UTF-8' },
            body: valid,
          })
        ).status,
      ).toBe(201)
    })

    it('answers malformed JSON with 400 naming the position', async () => {
      const response = await post({
        headers: { 'content-type': 'application/json' },
        body: '{\n  "name": "x",\n  "redirect_uris": ["https://x.example/cb",]\n}',
      })
      expect(response.status).toBe(400)
      expect(await response.json()).toStrictEqual({
        type: 'about:blank',
        title: 'Malformed JSON',
        status: 400,
        detail: 'The body is not valid JSON at line 3, column 44: expected a value but found "]".',
        request_id: expect.any(String),
      })
      const empty = await post({ headers: { 'content-type': 'application/json' }, body: '' })
      expect(await empty.json()).toMatchObject({
        status: 400,
        detail: 'The body is empty; a JSON object was expected.',
      })
      const notObject = await post({ headers: { 'content-type': 'application/json' }, body: '[1]' })
      expect(await notObject.json()).toStrictEqual(
        invalid('The client is not valid.', [
          { path: '', message: 'Invalid input: expected object, received array' },
        ]),
      )
    })

    it('refuses a body over 1 MB with 413, whether or not Content-Length says so', async () => {
      const big = JSON.stringify({
        name: 'x'.repeat(1024 * 1024),
        redirect_uris: ['https://x.example/cb'],
      })
      const declared = await post({ headers: { 'content-type': 'application/json' }, body: big })
      expect(declared.status).toBe(413)
      expect(await declared.json()).toMatchObject({
        status: 413,
        title: 'Content Too Large',
        detail: 'The body is larger than the limit of 1048576 bytes.',
      })
      const bytes = new TextEncoder().encode(big)
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024)
            controller.enqueue(bytes.slice(i, i + 64 * 1024))
          controller.close()
        },
      })
      const chunked = await post({
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit)
      expect(chunked.status).toBe(413)
    })
  })

  describe('GET (list)', () => {
    it('pages through every client by creation time with an opaque next_token', async () => {
      const local = createTestGateway()
      try {
        const ids: string[] = []
        for (let i = 0; i < 5; i++) {
          // Two clients share each instant, so the id breaks the tie.
          if (i % 2 === 0) local.clock.advance(1000)
          const response = await local.admin('/clients', {
            method: 'POST',
            json: { name: `c${i}`, redirect_uris: ['https://x.example/cb'] },
          })
          ids.push(((await response.json()) as CreatedClient).client_id)
        }
        const seen: string[] = []
        let next: string | null = null
        let pages = 0
        do {
          const query: string = next
            ? `?limit=2&next_token=${encodeURIComponent(next)}`
            : '?limit=2'
          const response = await local.admin(`/clients${query}`)
          expect(response.status).toBe(200)
          const body = (await response.json()) as {
            data: { client_id: string }[]
            next_token: string | null
          }
          expect(body.data.length).toBeLessThanOrEqual(2)
          seen.push(...body.data.map((c) => c.client_id))
          next = body.next_token
          pages += 1
        } while (next)
        expect(pages).toBe(3)
        const rows = await local.deps.db.select().from(clients).all()
        const expected = rows
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map((r) => r.id)
        expect(seen).toStrictEqual(expected)
        expect([...seen].sort()).toStrictEqual([...ids].sort())
        // A full page of exactly the rest has no next_token.
        const all = (await (await local.admin('/clients?limit=5')).json()) as {
          next_token: unknown
        }
        expect(all.next_token).toBeNull()
      } finally {
        local.close()
      }
    })

    it('validates limit and next_token', async () => {
      for (const limit of ['0', '101', 'abc', '1.5']) {
        const response = await gw.admin(`/clients?limit=${limit}`)
        expect(response.status).toBe(400)
        expect(await response.json()).toStrictEqual(
          invalid('The query is not valid.', [
            { path: 'limit', message: 'Must be a whole number from 1 to 100.' },
          ]),
        )
      }
      const response = await gw.admin('/clients?next_token=bm90LWEtdG9rZW4')
      expect(await response.json()).toStrictEqual(
        invalid('The query parameters are not valid.', [
          { path: 'next_token', message: 'Not a next_token from a previous page.' },
        ]),
      )
    })
  })

  describe('PATCH', () => {
    it('changes the given fields only; webhook_url null removes the webhook', async () => {
      const created = await create({
        name: 'Before',
        redirect_uris: ['https://x.example/cb'],
        webhook_url: 'https://x.example/hooks',
      })
      gw.clock.advance(5000)
      const response = await gw.admin(`/clients/${created.client_id}`, {
        method: 'PATCH',
        json: {
          name: 'After',
          redirect_uris: ['https://y.example/cb'],
          webhook_url: null,
          payload_mode: 'ping',
          webhook_status: 'disabled',
        },
      })
      expect(response.status).toBe(200)
      const expected = {
        client_id: created.client_id,
        name: 'After',
        redirect_uris: ['https://y.example/cb'],
        webhook_url: null,
        signature_scheme: 'terra',
        payload_mode: 'ping',
        webhook_status: 'disabled',
        created_at: (created as unknown as { created_at: string }).created_at,
        updated_at: new Date(gw.clock.ms).toISOString(),
      }
      expect(await response.json()).toStrictEqual(expected)
      expect(await (await gw.admin(`/clients/${created.client_id}`)).json()).toStrictEqual(expected)

      // Re-enabling a disabled webhook, as the contract describes.
      const enabled = await gw.admin(`/clients/${created.client_id}`, {
        method: 'PATCH',
        json: { webhook_status: 'active' },
      })
      expect(await enabled.json()).toMatchObject({ webhook_status: 'active', name: 'After' })
    })

    it('replaces the webhook secret when the signature scheme changes, and shows the new one', async () => {
      const created = await create({ name: 'Scheme', redirect_uris: ['https://x.example/cb'] })
      // Same scheme: nothing to rotate, no secret in the answer.
      const same = await gw.admin(`/clients/${created.client_id}`, {
        method: 'PATCH',
        json: { signature_scheme: 'terra' },
      })
      expect(await same.json()).not.toHaveProperty('webhook_secret')
      expect(await liveWebhookSecrets(gw.deps, created.client_id)).toStrictEqual([
        created.webhook_secret,
      ])

      const response = await gw.admin(`/clients/${created.client_id}`, {
        method: 'PATCH',
        json: { signature_scheme: 'standard' },
      })
      const body = (await response.json()) as Record<string, unknown>
      expect(body).toMatchObject({
        signature_scheme: 'standard',
        webhook_secret: expect.stringMatching(/^whsec_/),
      })
      // The old terra-format secret cannot sign Standard Webhooks: it is gone at once.
      expect(await liveWebhookSecrets(gw.deps, created.client_id)).toStrictEqual([
        body.webhook_secret,
      ])
      const rows = await gw.deps.db
        .select()
        .from(webhookSecrets)
        .where(eq(webhookSecrets.clientId, created.client_id))
        .all()
      expect(rows).toHaveLength(1)
    })

    it('validates like POST, and 404s for an unknown client', async () => {
      const created = await create({ name: 'V', redirect_uris: ['https://x.example/cb'] })
      const response = await gw.admin(`/clients/${created.client_id}`, {
        method: 'PATCH',
        json: { redirect_uris: [], webhook_status: 'paused', client_secret: 'mine' },
      })
      expect(await response.json()).toStrictEqual(
        invalid('The client update is not valid.', [
          { path: 'redirect_uris', message: 'At least one redirect URI is required.' },
          {
            path: 'webhook_status',
            message: 'Invalid option: expected one of "active"|"disabled"',
          },
          { path: 'client_secret', message: 'is not a known field (check the spelling)' },
        ]),
      )
      const missing = await gw.admin('/clients/no-such-client', {
        method: 'PATCH',
        json: { name: 'x' },
      })
      expect(missing.status).toBe(404)
    })
  })

  describe('POST /{id}/rotate-secret', () => {
    it('client: the old secret stops working at once, the new one works', async () => {
      const created = await create({ name: 'Rotating', redirect_uris: ['https://x.example/cb'] })
      const client = asTestClient(created)
      const { code, verifier } = await authorize(client)

      const response = await gw.admin(`/clients/${client.clientId}/rotate-secret`, {
        method: 'POST',
        json: { which: 'client' },
      })
      expect(response.status).toBe(200)
      expect(response.headers.get('cache-control')).toBe('no-store')
      const body = (await response.json()) as { client_secret: string }
      expect(body).toStrictEqual({
        client_id: client.clientId,
        client_secret: expect.stringMatching(/^pgs_/),
      })
      expect(body.client_secret).not.toBe(client.clientSecret)

      const old = await tokenRequest(
        basic(client.clientId, client.clientSecret),
        codeGrant(client, code, verifier),
      )
      expect(old.status).toBe(401)
      expect(await old.json()).toMatchObject({ error: 'invalid_client' })

      const fresh = await tokenRequest(
        basic(client.clientId, body.client_secret),
        codeGrant(client, code, verifier),
      )
      expect(fresh.status).toBe(200)
      expect(await fresh.json()).toMatchObject({
        token_type: 'Bearer',
        access_token: expect.any(String),
      })
    })

    it('webhook: the old secret keeps signing for 24 hours beside the new one', async () => {
      const created = await create({ name: 'Hooks', redirect_uris: ['https://x.example/cb'] })
      const rotatedAt = gw.clock.ms
      const response = await gw.admin(`/clients/${created.client_id}/rotate-secret`, {
        method: 'POST',
        json: { which: 'webhook' },
      })
      expect(response.status).toBe(200)
      const body = (await response.json()) as { webhook_secret: string }
      expect(body).toStrictEqual({
        client_id: created.client_id,
        webhook_secret: expect.stringMatching(/^pgw_/),
        previous_secret_expires_at: new Date(rotatedAt + DAY_MS).toISOString(),
      })
      const rows = await gw.deps.db
        .select({ secret: webhookSecrets.secret, expiresAt: webhookSecrets.expiresAt })
        .from(webhookSecrets)
        .where(eq(webhookSecrets.clientId, created.client_id))
        .all()
      expect(rows).toHaveLength(2)
      expect(rows).toContainEqual({ secret: created.webhook_secret, expiresAt: rotatedAt + DAY_MS })
      expect(rows).toContainEqual({ secret: body.webhook_secret, expiresAt: null })
      expect(await liveWebhookSecrets(gw.deps, created.client_id)).toStrictEqual([
        body.webhook_secret,
        created.webhook_secret,
      ])

      gw.clock.advance(DAY_MS)
      expect(await liveWebhookSecrets(gw.deps, created.client_id)).toStrictEqual([
        body.webhook_secret,
      ])

      // The next rotation clears out secrets past their expiry.
      const again = (await (
        await gw.admin(`/clients/${created.client_id}/rotate-secret`, {
          method: 'POST',
          json: { which: 'webhook' },
        })
      ).json()) as { webhook_secret: string }
      const after = await gw.deps.db
        .select({ secret: webhookSecrets.secret })
        .from(webhookSecrets)
        .where(eq(webhookSecrets.clientId, created.client_id))
        .all()
      expect(after.map((r) => r.secret).sort()).toStrictEqual(
        [body.webhook_secret, again.webhook_secret].sort(),
      )
    })

    it('validates which, and 404s for an unknown client', async () => {
      const created = await create({ name: 'W', redirect_uris: ['https://x.example/cb'] })
      const response = await gw.admin(`/clients/${created.client_id}/rotate-secret`, {
        method: 'POST',
        json: { which: 'both' },
      })
      expect(await response.json()).toStrictEqual(
        invalid('The rotation request is not valid.', [
          { path: 'which', message: 'Invalid option: expected one of "client"|"webhook"' },
        ]),
      )
      const missing = await gw.admin('/clients/nope/rotate-secret', {
        method: 'POST',
        json: { which: 'client' },
      })
      expect(missing.status).toBe(404)
    })
  })

  describe('DELETE', () => {
    it('deletes the client with its grants and tokens, which stop working', async () => {
      const created = await create({ name: 'Doomed', redirect_uris: ['https://x.example/cb'] })
      const client = asTestClient(created)
      const { code, verifier } = await authorize(client)
      const issued = (await (
        await tokenRequest(
          basic(client.clientId, client.clientSecret),
          codeGrant(client, code, verifier),
        )
      ).json()) as { access_token: string; refresh_token: string }
      const introspectAt = (token: string) =>
        gw.fetch(`${ISSUER}/oauth/introspect`, {
          method: 'POST',
          headers: {
            authorization: basic(client.clientId, client.clientSecret),
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ token }).toString(),
        })
      expect(await (await introspectAt(issued.access_token)).json()).toMatchObject({ active: true })

      const response = await gw.admin(`/clients/${client.clientId}`, { method: 'DELETE' })
      expect(response.status).toBe(204)
      expect(await response.text()).toBe('')

      expect((await gw.admin(`/clients/${client.clientId}`)).status).toBe(404)
      const db = gw.deps.db
      expect(
        await db.select().from(tokens).where(eq(tokens.clientId, client.clientId)).all(),
      ).toStrictEqual([])
      expect(
        await db.select().from(grants).where(eq(grants.clientId, client.clientId)).all(),
      ).toStrictEqual([])
      expect(
        await db
          .select()
          .from(webhookSecrets)
          .where(eq(webhookSecrets.clientId, client.clientId))
          .all(),
      ).toStrictEqual([])
      // Neither the client's credentials nor its tokens do anything any more.
      const after = await introspectAt(issued.access_token)
      expect(after.status).toBe(401)
      expect(await after.json()).toMatchObject({ error: 'invalid_client' })
      const refresh = await tokenRequest(basic(client.clientId, client.clientSecret), {
        grant_type: 'refresh_token',
        refresh_token: issued.refresh_token,
      })
      expect(refresh.status).toBe(401)
    })

    it('404s for an unknown client, as problem+json', async () => {
      for (const [method, path] of [
        ['GET', '/clients/nope'],
        ['DELETE', '/clients/nope'],
      ] as const) {
        const response = await gw.admin(path, { method })
        expect(response.status).toBe(404)
        expect(response.headers.get('content-type')).toBe('application/problem+json')
        expect(await response.json()).toStrictEqual({
          type: 'about:blank',
          title: 'Not Found',
          status: 404,
          detail: 'There is no client with id "nope".',
          request_id: expect.any(String),
        })
      }
    })
  })
})
