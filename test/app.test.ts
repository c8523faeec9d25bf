import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { addClient, addUser, createTestGateway, type TestGateway } from './helpers/app.ts'
import { oauthFixture } from './helpers/oauth.ts'

let gw: TestGateway
beforeEach(() => {
  gw = createTestGateway()
})
afterEach(() => gw.close())

describe('every answer carries a request id', () => {
  it('on pages, JSON, redirects, OAuth errors and problems, and echoes a sane incoming one', async () => {
    const fx = await oauthFixture(
      gw,
      () => addClient(gw),
      () => addUser(gw),
    )
    const token = (await fx.connect()).access_token
    const responses = [
      await gw.fetch('/login'),
      await gw.fetch('/.well-known/oauth-authorization-server'),
      await gw.fetch('/account'),
      await gw.fetch('/oauth/token', { method: 'POST', body: 'x' }),
      await gw.fetch('/nope'),
      await gw.fetch('/v1/sleep?start_date=2026-01-01', {
        headers: { authorization: `Bearer ${token}` },
      }),
      await gw.fetch('/v1/sleep?start_date=bad', { headers: { authorization: `Bearer ${token}` } }),
    ]
    expect(responses.map((r) => r.status)).toStrictEqual([200, 200, 302, 400, 404, 200, 400])
    for (const r of responses) expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const problem = await (await gw.fetch('/nope')).json()
    expect(problem.request_id).toMatch(/^[0-9a-f-]{36}$/)
    const echoed = await gw.fetch('/nope', { headers: { 'x-request-id': 'terra-trace-123' } })
    expect(echoed.headers.get('x-request-id')).toBe('terra-trace-123')
    const refused = await gw.fetch('/nope', { headers: { 'x-request-id': 'bad id with spaces' } })
    expect(refused.headers.get('x-request-id')).not.toBe('bad id with spaces')
  })

  it('turns an unexpected error into a 500 problem without leaking it, and logs it', async () => {
    gw.app.get('/boom', () => {
      throw new Error('secret internals')
    })
    const r = await gw.fetch('/boom')
    expect(r.status).toBe(500)
    const text = await r.text()
    expect(text).not.toContain('secret internals')
    expect(JSON.parse(text)).toMatchObject({ status: 500, title: 'Internal Server Error' })
    expect(
      gw.logs.some(
        (l) => l.msg === 'unhandled error' && String(l.error).includes('secret internals'),
      ),
    ).toBe(true)
  })
})
