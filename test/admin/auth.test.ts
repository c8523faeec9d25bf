import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { timingSafeEqualStrings } from '../../src/crypto.ts'
import { ADMIN_KEY, createTestGateway, ISSUER, type TestGateway } from '../helpers/app.ts'

vi.mock('../../src/crypto.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/crypto.ts')>()
  return { ...actual, timingSafeEqualStrings: vi.fn(actual.timingSafeEqualStrings) }
})

const problem = (status: number, title: string, detail: string) => ({
  type: 'about:blank',
  title,
  status,
  detail,
  request_id: expect.any(String),
})

describe('admin API authentication', () => {
  let gw: TestGateway
  beforeAll(() => {
    gw = createTestGateway()
  })
  afterAll(() => gw.close())

  const call = (authorization?: string, path = '/admin/v1/clients') =>
    gw.fetch(`${ISSUER}${path}`, authorization === undefined ? {} : { headers: { authorization } })

  it('answers 401 with a bare Bearer challenge when no key is sent', async () => {
    const response = await call()
    expect(response.status).toBe(401)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="partner-gateway-admin"')
    expect(await response.json()).toStrictEqual(
      problem(401, 'Unauthorized', 'Send the admin key as Authorization: Bearer <key>.'),
    )
  })

  it('treats another scheme (Basic) as no key', async () => {
    const response = await call(`Basic ${btoa(`admin:${ADMIN_KEY}`)}`)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="partner-gateway-admin"')
  })

  it('answers 401 invalid_token for a wrong key, the same way however close it is', async () => {
    const candidates = [
      'nope',
      '',
      ADMIN_KEY.slice(0, -1),
      `${ADMIN_KEY}x`,
      ADMIN_KEY.toUpperCase(),
      `${ADMIN_KEY.slice(0, -1)}0`,
    ]
    for (const key of candidates) {
      const response = await call(`Bearer ${key}`)
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer realm="partner-gateway-admin", error="invalid_token"',
      )
      expect(await response.json()).toStrictEqual(
        problem(401, 'Unauthorized', 'The admin key is not valid.'),
      )
    }
  })

  it('accepts the right key, compared with the constant-time function', async () => {
    vi.mocked(timingSafeEqualStrings).mockClear()
    const response = await call(`Bearer ${ADMIN_KEY}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toStrictEqual({ data: [], next_token: null })
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(vi.mocked(timingSafeEqualStrings)).toHaveBeenCalledWith(ADMIN_KEY, ADMIN_KEY)
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    expect((await call(`bearer ${ADMIN_KEY}`)).status).toBe(200)
  })

  it('guards unknown admin paths too: 401 without the key, 404 with it', async () => {
    expect((await call(undefined, '/admin/v1/nothing-here')).status).toBe(401)
    const response = await call(`Bearer ${ADMIN_KEY}`, '/admin/v1/nothing-here')
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
  })

  it('refuses everything with 503 while no admin key is configured', async () => {
    const previous = gw.deps.config.adminApiKey
    gw.deps.config.adminApiKey = null
    try {
      const response = await call(`Bearer ${ADMIN_KEY}`)
      expect(response.status).toBe(503)
      expect(await response.json()).toStrictEqual(
        problem(
          503,
          'Service Unavailable',
          'The admin API is disabled because no admin key is configured (ADMIN_API_KEY).',
        ),
      )
    } finally {
      gw.deps.config.adminApiKey = previous
    }
  })

  it('reads the key at request time (mock mode sets it after start-up)', async () => {
    const previous = gw.deps.config.adminApiKey
    gw.deps.config.adminApiKey = 'a-key-set-after-the-app-was-built'
    try {
      expect((await call('Bearer a-key-set-after-the-app-was-built')).status).toBe(200)
      expect((await call(`Bearer ${ADMIN_KEY}`)).status).toBe(401)
    } finally {
      gw.deps.config.adminApiKey = previous
    }
  })
})
