import { eq } from 'drizzle-orm'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteUser } from '../../src/admin/users.ts'
import { verifyPassword } from '../../src/crypto.ts'
import { authorizationCodes, grants, tokens, users } from '../../src/db/schema.ts'
import { addClient, createTestGateway, type TestClient, type TestGateway } from '../helpers/app.ts'
import { authorizeInBrowser, clientOptions, discover } from '../helpers/oauth.ts'

const CREATED_AT = '2026-03-01T12:00:00.000Z'

const invalid = (errors: { path: string; message: string }[]) => ({
  type: 'about:blank',
  title: 'Invalid request',
  status: 400,
  detail: 'The user is not valid.',
  errors,
  request_id: expect.any(String),
})

describe('admin API: /users', () => {
  let gw: TestGateway
  beforeAll(() => {
    gw = createTestGateway()
  })
  afterAll(() => gw.close())

  const create = (json: Record<string, unknown>) => gw.admin('/users', { method: 'POST', json })

  it('creates a user: email lowercased, password stored as a slow hash', async () => {
    const response = await create({
      email: '  Ada.Lovelace@Example.COM ',
      password: 'analytical-engine',
      timezone: 'Europe/London',
      reference: 'crm-1815',
      display_name: 'Ada',
    })
    expect(response.status).toBe(201)
    const body = (await response.json()) as { user_id: string }
    expect(body).toStrictEqual({
      user_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: 'ada.lovelace@example.com',
      timezone: 'Europe/London',
      reference: 'crm-1815',
      display_name: 'Ada',
      created_at: CREATED_AT,
    })
    expect(response.headers.get('location')).toBe(`/admin/v1/users/${body.user_id}`)
    const row = await gw.deps.db.select().from(users).where(eq(users.id, body.user_id)).get()
    expect(row?.passwordHash).toMatch(/^pbkdf2-sha256\$/)
    expect(await verifyPassword('analytical-engine', row?.passwordHash ?? '')).toBe(true)

    const got = await gw.admin(`/users/${body.user_id}`)
    expect(got.status).toBe(200)
    expect(await got.json()).toStrictEqual(body)
  })

  it('creates a user without a password (data only) and with optional fields null', async () => {
    const response = await create({ email: 'data-only@example.com', timezone: 'Asia/Tokyo' })
    const body = (await response.json()) as { user_id: string }
    expect(body).toStrictEqual({
      user_id: expect.any(String),
      email: 'data-only@example.com',
      timezone: 'Asia/Tokyo',
      reference: null,
      display_name: null,
      created_at: CREATED_AT,
    })
    const row = await gw.deps.db.select().from(users).where(eq(users.id, body.user_id)).get()
    expect(row?.passwordHash).toBeNull()
  })

  it('refuses a time zone that is not an IANA zone, and fixes only the case of one that is', async () => {
    for (const timezone of ['Mars/Olympus_Mons', '+05:00', 'UTC+5', 'EST5EDT ', '']) {
      const response = await create({ email: 'tz@example.com', timezone })
      expect(response.status).toBe(400)
      expect(await response.json()).toStrictEqual(
        invalid([
          { path: 'timezone', message: 'Must be an IANA time zone such as Europe/Berlin.' },
        ]),
      )
    }
    const response = await create({ email: 'tz@example.com', timezone: 'europe/berlin' })
    expect(await response.json()).toMatchObject({ timezone: 'Europe/Berlin' })
    // ICU would turn Asia/Kolkata into its older alias Asia/Calcutta; the name sent is kept.
    const kolkata = await create({ email: 'tz2@example.com', timezone: 'Asia/Kolkata' })
    expect(await kolkata.json()).toMatchObject({ timezone: 'Asia/Kolkata' })
  })

  it('names every invalid field', async () => {
    const response = await create({ email: 'not-an-email', password: 'short', nickname: 'x' })
    expect(await response.json()).toStrictEqual(
      invalid([
        { path: 'email', message: 'Must be an email address.' },
        { path: 'password', message: 'Must be at least 8 characters.' },
        { path: 'timezone', message: 'Invalid input: expected string, received undefined' },
        { path: 'nickname', message: 'is not a known field (check the spelling)' },
      ]),
    )
  })

  it('answers 409 for an email that is taken, whatever its case', async () => {
    expect((await create({ email: 'dup@example.com', timezone: 'UTC' })).status).toBe(201)
    const response = await create({ email: 'DUP@example.com', timezone: 'UTC' })
    expect(response.status).toBe(409)
    expect(await response.json()).toStrictEqual({
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'A user with the email dup@example.com already exists.',
      request_id: expect.any(String),
    })
  })

  it('404s for unknown ids', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await gw.admin('/users/nobody', { method })
      expect(response.status).toBe(404)
      expect(await response.json()).toStrictEqual({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'There is no user with id "nobody".',
        request_id: expect.any(String),
      })
    }
    expect(await deleteUser(gw.deps, 'nobody')).toBe(false)
  })

  describe('DELETE', () => {
    let client: TestClient
    beforeAll(async () => {
      client = await addClient(gw)
    })

    it('revokes the user’s grants and tokens, then deletes the user', async () => {
      const email = 'leaving@example.com'
      const password = 'so-long-and-thanks'
      const created = (await (await create({ email, password, timezone: 'UTC' })).json()) as {
        user_id: string
      }
      const as = await discover(gw)
      const oClient: oauth.Client = { client_id: client.clientId }
      const auth = oauth.ClientSecretBasic(client.clientSecret)
      const flow = await authorizeInBrowser(gw, as, client, { email, password })
      const params = oauth.validateAuthResponse(as, oClient, flow.callbackUrl, flow.state)
      const issued = await oauth.processAuthorizationCodeResponse(
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
      const introspect = async (token: string) =>
        oauth.processIntrospectionResponse(
          as,
          oClient,
          await oauth.introspectionRequest(as, oClient, auth, token, clientOptions(gw)),
        )
      expect(await introspect(issued.access_token)).toMatchObject({
        active: true,
        sub: created.user_id,
      })

      const response = await gw.admin(`/users/${created.user_id}`, { method: 'DELETE' })
      expect(response.status).toBe(204)
      expect(await response.text()).toBe('')

      expect(await introspect(issued.access_token)).toStrictEqual({ active: false })
      expect(await introspect(issued.refresh_token as string)).toStrictEqual({ active: false })
      const db = gw.deps.db
      expect(
        await db.select().from(users).where(eq(users.id, created.user_id)).all(),
      ).toStrictEqual([])
      expect(
        await db.select().from(grants).where(eq(grants.userId, created.user_id)).all(),
      ).toStrictEqual([])
      expect(
        await db.select().from(tokens).where(eq(tokens.userId, created.user_id)).all(),
      ).toStrictEqual([])
      expect(
        await db
          .select()
          .from(authorizationCodes)
          .where(eq(authorizationCodes.userId, created.user_id))
          .all(),
      ).toStrictEqual([])
      expect((await gw.admin(`/users/${created.user_id}`)).status).toBe(404)
      // The refresh token cannot bring anything back.
      const refresh = await oauth.refreshTokenGrantRequest(
        as,
        oClient,
        auth,
        issued.refresh_token as string,
        clientOptions(gw),
      )
      expect(refresh.status).toBe(400)
      expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' })
      // And the email can be used again.
      expect((await create({ email, timezone: 'UTC' })).status).toBe(201)
    })
  })
})
