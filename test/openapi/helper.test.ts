import { describe, expect, it } from 'vitest'
import {
  expectResponseMatchesComponent,
  expectResponseMatchesSpec,
  expectWebhookMatchesSpec,
  matchPathTemplate,
} from '../helpers/openapi.ts'

/** The checker itself: each kind of disagreement with openapi.yaml must fail the test. */
describe('expectResponseMatchesSpec', () => {
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    })
  const tokens = {
    access_token: 'pga_x',
    token_type: 'Bearer',
    expires_in: 3600,
    refresh_token: 'pgr_x',
    scope: 'sleep:read',
    user_id: 'u1',
  }
  const noStore = { 'cache-control': 'no-store' }

  it('accepts a documented answer and returns its body', async () => {
    await expect(
      expectResponseMatchesSpec('POST', '/oauth/token', json(tokens, 200, noStore)),
    ).resolves.toStrictEqual(tokens)
  })

  it('refuses an undocumented path, method or status', async () => {
    await expect(expectResponseMatchesSpec('GET', '/nowhere', json({}))).rejects.toThrow(
      /path is not documented/,
    )
    await expect(expectResponseMatchesSpec('GET', '/oauth/token', json({}))).rejects.toThrow(
      /method is not documented/,
    )
    await expect(expectResponseMatchesSpec('POST', '/oauth/token', json({}, 418))).rejects.toThrow(
      /status is not documented/,
    )
  })

  it('refuses a body that breaks the schema', async () => {
    const { user_id: _, ...incomplete } = tokens
    await expect(
      expectResponseMatchesSpec('POST', '/oauth/token', json(incomplete, 200, noStore)),
    ).rejects.toThrow(/user_id/)
    await expect(
      expectResponseMatchesSpec(
        'POST',
        '/oauth/introspect',
        json({ active: false, scope: 'x' }, 200, noStore),
      ),
    ).rejects.toThrow(/does not match the schema/)
  })

  it('refuses a missing required header and a header with the wrong value', async () => {
    await expect(expectResponseMatchesSpec('POST', '/oauth/token', json(tokens))).rejects.toThrow(
      /Cache-Control is documented as required/,
    )
    await expect(
      expectResponseMatchesSpec(
        'POST',
        '/oauth/token',
        json(tokens, 200, { 'cache-control': 'max-age=60' }),
      ),
    ).rejects.toThrow(/header Cache-Control/)
  })

  it('lets a reported defect skip a required header, only while the header is missing', async () => {
    const tooMany = (headers: Record<string, string>) =>
      new Response(
        JSON.stringify({
          type: 'about:blank',
          title: 'Too Many Requests',
          status: 429,
          detail: 'x',
        }),
        { status: 429, headers: { 'content-type': 'application/problem+json', ...headers } },
      )
    const retry = { 'retry-after': '42' }
    const limits = {
      'ratelimit-policy': '"client";q=6000;w=60, "user";q=600;w=60',
      ratelimit: '"client";r=0;t=42, "user";r=0;t=42',
    }
    const known = { knownMissingHeaders: ['RateLimit-Policy', 'RateLimit'] }
    await expect(expectResponseMatchesSpec('GET', '/v1/user', tooMany(retry))).rejects.toThrow(
      /RateLimit-Policy is documented as required/,
    )
    await expect(
      expectResponseMatchesSpec('GET', '/v1/user', tooMany(retry), known),
    ).resolves.toMatchObject({ status: 429 })
    await expect(
      expectResponseMatchesSpec('GET', '/v1/user', tooMany({ ...retry, ...limits }), known),
    ).rejects.toThrow(/sent now: remove it from knownMissingHeaders/)
    await expect(
      expectResponseMatchesSpec('GET', '/v1/user', tooMany(retry), {
        knownMissingHeaders: ['X-Nothing'],
      }),
    ).rejects.toThrow(/not documented here/)
  })

  it('refuses an undocumented content type, and a body where none is documented', async () => {
    const html = new Response('<p>hi</p>', {
      status: 200,
      headers: { 'content-type': 'text/html', ...noStore },
    })
    await expect(expectResponseMatchesSpec('POST', '/oauth/token', html)).rejects.toThrow(
      /content type/,
    )
    const revoke = new Response('{}', { status: 200, headers: noStore })
    await expect(expectResponseMatchesSpec('POST', '/oauth/revoke', revoke)).rejects.toThrow(
      /without a body/,
    )
  })

  it('checks reusable responses too', async () => {
    const problem = { type: 'about:blank', title: 'Not Found', status: 404, detail: 'x' }
    const ok = new Response(JSON.stringify(problem), {
      status: 404,
      headers: { 'content-type': 'application/problem+json' },
    })
    await expect(expectResponseMatchesComponent('NotFound', ok)).resolves.toStrictEqual(problem)
    const bad = new Response(JSON.stringify({ ...problem, status: '404' }), {
      status: 404,
      headers: { 'content-type': 'application/problem+json' },
    })
    await expect(expectResponseMatchesComponent('NotFound', bad)).rejects.toThrow(/status/)
  })

  it('matches concrete paths to templates, literal segments first', () => {
    expect(matchPathTemplate('/admin/v1/clients/abc')).toBe('/admin/v1/clients/{client_id}')
    expect(matchPathTemplate('/admin/v1/clients/abc/rotate-secret')).toBe(
      '/admin/v1/clients/{client_id}/rotate-secret',
    )
    expect(matchPathTemplate('/admin/v1/users/u/sleep')).toBe('/admin/v1/users/{user_id}/{type}')
    expect(matchPathTemplate('/oauth/token')).toBe('/oauth/token')
    expect(matchPathTemplate('/oauth/token/x')).toBeUndefined()
  })
})

/** The same for the requests the gateway sends, against `webhooks`. */
describe('expectWebhookMatchesSpec', () => {
  const body = {
    type: 'deletion',
    user: {
      user_id: 'u1',
      provider: 'MOCKWEAR',
      created_at: '2026-03-01T12:00:00.000000+00:00',
      last_webhook_update: null,
      scopes: 'sleep:read',
      reference_id: null,
      active: true,
    },
    data_type: 'sleep',
    ids: ['s1'],
  }
  const headers = {
    'Content-Type': 'application/json',
    'webhook-id': '0f1e2d3c-4b5a-4697-8877-665544332211',
    'user-agent': 'partner-gateway/0.1.0',
    'terra-signature': `t=1772971200,v1=${'0a'.repeat(32)}`,
  }
  const sent = (b: unknown, h: Record<string, string> = headers) => ({
    headers: h,
    body: JSON.stringify(b),
  })

  it('accepts a documented request and returns its body', () => {
    expect(expectWebhookMatchesSpec('deletion', sent(body))).toStrictEqual(body)
  })

  it('refuses an undocumented webhook or method', () => {
    expect(() => expectWebhookMatchesSpec('steps', sent(body))).toThrow(/not documented/)
    expect(() => expectWebhookMatchesSpec('deletion', { ...sent(body), method: 'PUT' })).toThrow(
      /method is not documented/,
    )
  })

  it('refuses a missing required header and a malformed one', () => {
    const { 'webhook-id': _, ...noId } = headers
    expect(() => expectWebhookMatchesSpec('deletion', sent(body, noId))).toThrow(
      /webhook-id is required/,
    )
    expect(() =>
      expectWebhookMatchesSpec('deletion', sent(body, { ...headers, 'terra-signature': 'v1=abc' })),
    ).toThrow(/header terra-signature/)
    expect(() =>
      expectWebhookMatchesSpec(
        'deletion',
        sent(body, { ...headers, 'webhook-timestamp': 'yesterday' }),
      ),
    ).toThrow(/header webhook-timestamp/)
  })

  it('refuses another content type, and a body that breaks the schema', () => {
    expect(() =>
      expectWebhookMatchesSpec(
        'deletion',
        sent(body, { ...headers, 'Content-Type': 'text/plain' }),
      ),
    ).toThrow(/content type/)
    expect(() => expectWebhookMatchesSpec('deletion', sent({ ...body, ids: [] }))).toThrow(
      /does not match the schema/,
    )
    expect(() => expectWebhookMatchesSpec('sleep', sent(body))).toThrow(/does not match the schema/)
    expect(() => expectWebhookMatchesSpec('deletion', { headers, body: '{"type":' })).toThrow(
      /not JSON/,
    )
  })
})
